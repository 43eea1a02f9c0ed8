"""Read a plan file's YAML into plain data that remembers the line of every key and item.

``yaml.compose`` gives the node tree with marks; we build ``dict``/``list`` subclasses from it
that carry ``line`` (1-based, where the node starts) and ``lines`` (the line of each key or item),
so every later error can say where in the file it is. Scalars are plain Python values.
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
    loader = yaml.SafeLoader(text)
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
    if isinstance(node, yaml.MappingNode):
        result = LineDict()
        result.line = node.start_mark.line + 1
        for key_node, value_node in node.value:
            key = _scalar(key_node, constructor) if isinstance(key_node, yaml.ScalarNode) else None
            if key is None or isinstance(key, (list, dict)):
                problems.append(
                    (path, key_node.start_mark.line + 1, "a key must be a plain word or text")
                )
                continue
            if not isinstance(key, str):
                # `1: …` or `2026-01-01: …`: keys are names, keep what was written.
                key = key_node.value
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
    return _scalar(node, constructor)


def _scalar(node, constructor):
    # YAML 1.1 reads an unquoted 09:00 as the base-60 integer 540; a plan means a clock time.
    if node.tag == "tag:yaml.org,2002:int" and ":" in node.value:
        return node.value
    try:
        return constructor.construct_object(node, deep=True)
    except (ValueError, yaml.YAMLError):
        # e.g. `2026-02-30` looks like a date but is none; validation will say so.
        return node.value
