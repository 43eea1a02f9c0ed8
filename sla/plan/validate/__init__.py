"""Validate a plan file's data tree into a ``Plan``, collecting every error with key path and line.

Nothing here touches the database: the result is either a ``Plan`` or a list of ``PlanError``.
The checks are split by room: ``values`` (one value), ``base`` (mappings, lists, fields),
``sla_sections`` and ``operations_sections`` (one method per plan section), ``checker`` (the
whole plan).
"""

from datetime import date
from pathlib import Path

from ..loader import YamlProblem, load_yaml
from .checker import PlanChecker
from .errors import PlanError, PlanInvalid, format_path

__all__ = ["PlanError", "PlanInvalid", "format_path", "parse_plan", "read_plan"]


def read_plan(path):
    """Read and validate one plan file; return the ``Plan`` or raise ``PlanInvalid``."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanInvalid([PlanError(name, "", None, f"cannot read the file: {exc}")]) from exc
    return parse_plan(text, name)


def parse_plan(text, name="<plan>", *, today=None):
    """Validate plan text; return the ``Plan`` or raise ``PlanInvalid`` with every error."""
    try:
        tree, problems = load_yaml(text)
    except YamlProblem as exc:
        raise PlanInvalid([PlanError(name, "", exc.line, exc.message)]) from exc
    checker = PlanChecker(name, today or date.today())
    for parts, line, message in problems:
        checker.error(parts, line, message)
    plan = checker.plan(tree)
    if checker.errors:
        raise PlanInvalid(sorted(checker.errors, key=lambda error: error.line or 0))
    return plan
