"""Plan files as data: read YAML with line numbers, validate it whole, return one ``Plan``.

``read_plan(path)`` / ``parse_plan(text, name)`` return a ``Plan`` or raise ``PlanInvalid`` whose
``errors`` name the file, the key path and the line. No ORM in this package except
``sections`` (the registry of appliers) and ``export`` (reads the rows back into a data tree).
"""

from .spec import ALWAYS_OPEN, Plan
from .validate import PlanError, PlanInvalid, parse_plan, read_plan

__all__ = ["ALWAYS_OPEN", "Plan", "PlanError", "PlanInvalid", "parse_plan", "read_plan"]
