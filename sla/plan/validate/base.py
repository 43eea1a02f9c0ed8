"""Structure checks: mappings, lists and fields, each error recorded with its place."""

from difflib import get_close_matches

from ..loader import LineDict, LineList
from ..rules import RuleError
from .errors import PlanError, format_path
from .values import text


class CheckerBase:
    def __init__(self, file, today):
        self.file = file
        self.today = today
        self.errors = []

    def error(self, parts, line, message):
        self.errors.append(PlanError(self.file, format_path(parts), line, message))

    # --- structure -----------------------------------------------------------------------------

    def mapping(self, value, parts, line, allowed, required=()):
        """Check ``value`` is a mapping with only ``allowed`` keys and every ``required`` one."""
        if not isinstance(value, LineDict):
            what = "a list" if isinstance(value, list) else repr(value)
            self.error(parts, line, f"expected a mapping of {', '.join(allowed)}; got {what}")
            return None
        for key in value:
            if key not in allowed:
                hint = get_close_matches(key, allowed, n=1)
                suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
                self.error(
                    (*parts, key),
                    value.lines[key],
                    f"unknown key {key!r}{suggestion}; expected one of: {', '.join(allowed)}",
                )
        for key in required:
            if key not in value:
                self.error((*parts, key), value.line, f"missing required key {key!r}")
        return value

    def sequence(self, value, parts, line, *, required=False):
        if value is None:
            # Absent (a missing required key is reported by ``mapping``), or `key:` left empty.
            if required and line is not None:
                self.error(parts, line, "must list at least one item")
            return LineList()
        if not isinstance(value, LineList):
            self.error(parts, line, "expected a list (items starting with `- `)")
            return LineList()
        if required and not value:
            self.error(parts, line, "must list at least one item")
        return value

    def entries(self, items, parts, allowed, required=()):
        """The items of a list of mappings, each checked by ``mapping``: ``(place, mapping)`` for
        every item shaped right (the others are reported and skipped)."""
        for index, item in enumerate(items):
            here = (*parts, index)
            node = self.mapping(item, here, items.lines[index], allowed, required)
            if node is not None:
                yield here, node

    def unique(self, seen, value, node, key, here, label):
        """Item ``here`` of a list has ``value`` at ``key``, which must differ from every earlier
        item's: a repeat is reported naming the first item that has it (``seen`` maps value to
        index). An absent value (None or "", already reported) is not compared."""
        if value is None or value == "":
            return
        if value in seen:
            self.error(
                (*here, key),
                node.lines[key],
                f"duplicate {label} (also {here[-2]}[{seen[value]}])",
            )
        seen.setdefault(value, here[-1])

    def field(self, mapping, key, parts, check, default=None):
        """Run ``check`` on ``mapping[key]``; on an error record it and return ``default``."""
        if key not in mapping:
            return default
        try:
            return check(mapping[key])
        except RuleError as exc:
            self.error((*parts, key), mapping.lines[key], exc.message)
            return default

    def text_list(self, mapping, key, parts, check=None, default=()):
        """A list of texts (``[a, b]``); each item checked with ``check`` (default: text)."""
        if key not in mapping:
            return default
        items = self.sequence(mapping[key], (*parts, key), mapping.lines[key])
        check = check or text(100)
        result = []
        for index, item in enumerate(items):
            try:
                result.append(check(item))
            except RuleError as exc:
                self.error((*parts, key, index), items.lines.get(index), exc.message)
        return tuple(result)
