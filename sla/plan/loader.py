"""Read a plan file's YAML into plain data that remembers the line of every key and item.

``yaml.compose`` gives the node tree with marks; we build ``dict``/``list`` subclasses from it
that carry ``line`` (1-based, where the node starts) and ``lines`` (the line of each key or item),
so every later error can say where in the file it is. Scalars are plain Python values.

A plan is data typed by people, so two things YAML allows are refused with the key path and
line: aliases (``*name``: nested ones expand exponentially, a 418-byte file ran past a minute;
no plan needs them) and control characters in keys and strings (NUL cannot be stored in
PostgreSQL, the others hide text or drive terminals).
"""

import yaml


class LineDict(dict):
    line = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = {}


class LineList(list):
    line = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = {}


# Control characters a key or string may not hold: C0 but tab and line breaks, DEL, and C1.
CONTROL_CHARACTERS = frozenset(
    [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F]
    + [code for code in range(0x80, 0xA0) if code != 0x85]  # NEL is a YAML line break
)
# PyYAML's reader stops at a raw control character before any key is known; each is read as a
# stand-in from Unicode's private-use plane 15 instead, so the check below can name the key.
# (A plan has no use for that range either: a character from it is refused the same way.)
_STAND_IN = 0xF0000
_TO_STAND_IN = {code: _STAND_IN + code for code in CONTROL_CHARACTERS}


class AliasNode(yaml.Node):
    """Where the file wrote ``*name``: kept as a marker, never replaced by the anchored node."""

    id = "alias"

    def __init__(self, anchor, mark):
        super().__init__("alias", anchor, mark, mark)


# The deepest plan is a handful of levels; PyYAML composes nodes recursively, so a file of
# thousands of `[` would otherwise end in RecursionError.
MAX_DEPTH = 32


class _PlanLoader(yaml.SafeLoader):
    depth = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.get_event()
            return AliasNode(event.anchor, event.start_mark)
        if self.depth >= MAX_DEPTH:
            line = self.peek_event().start_mark.line + 1
            raise YamlProblem(f"nested more than {MAX_DEPTH} levels deep", line)
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


class YamlProblem(Exception):
    """The text is not YAML, or not a mapping at the top; ``line`` is 1-based or None."""

    def __init__(self, message, line=None):
        super().__init__(message)
        self.message = message
        self.line = line


def load_yaml(text):
    """Return ``(tree, problems)``: the data tree and a list of ``(path_parts, line, message)``.

    Raises ``YamlProblem`` when the text cannot be read as YAML at all, or its top level is not a
    mapping. Duplicate keys are not fatal: they are reported as problems (the last one wins).
    """
    text = text.translate(_TO_STAND_IN)
    try:
        loader = _PlanLoader(text)
    except yaml.reader.ReaderError as exc:
        # Another character YAML refuses outright (U+FFFE, U+FFFF).
        line = text.count("\n", 0, exc.position) + 1
        raise YamlProblem(f"character U+{exc.character:04X} is not allowed", line) from exc
    try:
        node = loader.get_single_node()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise YamlProblem(f"not valid YAML: {problem}", mark.line + 1 if mark else None) from exc
    finally:
        loader.dispose()
    if node is None:
        raise YamlProblem("the file is empty: a plan needs at least `service:` and `priorities:`")
    if not isinstance(node, yaml.MappingNode):
        raise YamlProblem(
            "the top level must be a mapping of sections (service:, priorities:, tiers:, …)",
            node.start_mark.line + 1,
        )
    problems = []
    tree = _build(node, (), problems, yaml.SafeLoader(""))
    return tree, problems


def _build(node, path, problems, constructor):
    if isinstance(node, AliasNode):
        problems.append((path, node.start_mark.line + 1, _ALIAS_REFUSED.format(node.value)))
        return None
    if isinstance(node, yaml.MappingNode):
        result = LineDict()
        result.line = node.start_mark.line + 1
        for key_node, value_node in node.value:
            if isinstance(key_node, AliasNode):
                line = key_node.start_mark.line + 1
                problems.append((path, line, _ALIAS_REFUSED.format(key_node.value)))
                continue
            key = _scalar(key_node, constructor) if isinstance(key_node, yaml.ScalarNode) else None
            if key is None or isinstance(key, (list, dict)):
                problems.append(
                    (path, key_node.start_mark.line + 1, "a key must be a plain word or text")
                )
                continue
            if not isinstance(key, str):
                # `1: …` or `2026-01-01: …`: keys are names, keep what was written.
                key = key_node.value
            if refused := _control_character(key):
                key = _visible(key)
                problems.append(((*path, key), key_node.start_mark.line + 1, refused))
            if key in result:
                problems.append(
                    (
                        (*path, key),
                        key_node.start_mark.line + 1,
                        f"duplicate key {key!r} (first on line {result.lines[key]})",
                    )
                )
            result[key] = _build(value_node, (*path, key), problems, constructor)
            result.lines[key] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        result = LineList()
        result.line = node.start_mark.line + 1
        for index, item in enumerate(node.value):
            result.append(_build(item, (*path, index), problems, constructor))
            result.lines[index] = item.start_mark.line + 1
        return result
    value = _scalar(node, constructor)
    if isinstance(value, str) and (refused := _control_character(value)):
        problems.append((path, node.start_mark.line + 1, refused))
        return _visible(value)
    return value


_ALIAS_REFUSED = (
    "YAML aliases (*{}) are not allowed in a plan: write the value out where it is used"
)


def _original(character):
    code = ord(character)
    return chr(code - _STAND_IN) if _STAND_IN <= code < _STAND_IN + 0x100 else character


def _control_character(text):
    """The refusal of the first control character in ``text``, or None."""
    for character in map(_original, text):
        if ord(character) in CONTROL_CHARACTERS:
            return (
                f"control character U+{ord(character):04X} is not allowed "
                "(only tab and line breaks are)"
            )
    return None


def _visible(text):
    """``text`` with control characters written as escapes, fit for an error message."""
    return "".join(
        character.encode("unicode_escape").decode()
        if ord(character) in CONTROL_CHARACTERS
        else character
        for character in map(_original, text)
    )


def _scalar(node, constructor):
    # YAML 1.1 reads an unquoted 09:00 as the base-60 integer 540; a plan means a clock time.
    if node.tag == "tag:yaml.org,2002:int" and ":" in node.value:
        return node.value
    try:
        return constructor.construct_object(node, deep=True)
    except (ValueError, yaml.YAMLError):
        # e.g. `2026-02-30` looks like a date but is none; validation will say so.
        return node.value
