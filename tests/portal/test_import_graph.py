"""The apps depend on each other one way, as README's "How it is built" states: every import
between two of our apps points down the layers below, or sideways within a layer without a
cycle. Imports inside functions count too (a local import is still an edge).

Read from the source (``ast``) of every ``.py`` file of every top-level package of the project,
so nothing needs importing and a new app is noticed at once.
"""

import ast
from collections import defaultdict
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Bottom first. An app may import the apps of its own layer and of every layer below it. A new
# app goes in here and in README's layering sentence, in the same commit.
LAYERS = [
    ("core",),
    ("notifications", "accounts"),
    ("sla",),
    ("paging",),
    ("maintenance",),
    ("tickets",),
    ("incidents", "inbound"),
    ("uptime", "contracts", "routine", "knowledge"),
    ("status", "metrics", "alerts", "support", "api"),
    ("reports",),
    ("portal",),  # wiring only: settings, URLs, Celery
]

# Packages that are not apps: the tests themselves.
NOT_APPS = {"tests"}

# The contract's one exception, by name (README): the beat task ``sla.tasks.
# escalate_lapsed_tickets`` is a thin task that imports the ticket sweep when it runs.
ALLOWED = {("sla.tasks", "tickets.escalation")}


def project_apps():
    return sorted(
        path.parent.name
        for path in ROOT.glob("*/__init__.py")
        if path.parent.name not in NOT_APPS and not path.parent.name.startswith(".")
    )


def imports_between_apps(apps):
    return _read(ROOT, tuple(apps))


@cache
def _read(root, apps):
    """``{(from_app, to_app): [(module, imported, "file:line"), …]}`` over every import."""
    edges = defaultdict(list)
    for app in apps:
        for file in sorted((root / app).rglob("*.py")):
            relative = file.relative_to(root)
            module = ".".join(relative.with_suffix("").parts).removesuffix(".__init__")
            for node in ast.walk(ast.parse(file.read_text(), str(relative))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue  # a relative import stays inside its app
                for name in names:
                    target = name.split(".")[0]
                    if target in apps and target != app:
                        edges[(app, target)].append((module, name, f"{relative}:{node.lineno}"))
    return dict(edges)


def layer_of():
    return {app: index for index, layer in enumerate(LAYERS) for app in layer}


def test_every_app_has_a_layer():
    levels = layer_of()
    missing = [app for app in project_apps() if app not in levels]
    assert not missing, (
        f"app(s) {', '.join(missing)} not in LAYERS of {Path(__file__).name}: put each in the "
        "layer it belongs to, here and in README's sentence on the direction of dependencies"
    )


def test_no_import_points_up_the_layers():
    levels = layer_of()
    upward = []
    for (source, target), found in sorted(imports_between_apps(project_apps()).items()):
        if source not in levels or target not in levels or levels[target] <= levels[source]:
            continue
        for module, name, where in found:
            if (module, name) not in ALLOWED:
                upward.append(f"{where}: {module} imports {name} ({source} → {target}, up)")
    assert not upward, "imports against the layers (README):\n" + "\n".join(upward)


def test_no_cycle_between_apps():
    edges = imports_between_apps(project_apps())
    graph = defaultdict(set)
    for (source, target), found in edges.items():
        if any((module, name) not in ALLOWED for module, name, _ in found):
            graph[source].add(target)
    lines = []
    for apps in _cycles(graph):
        lines.append(f"apps {', '.join(apps)} import each other round in a circle:")
        for source in apps:
            for target in sorted(graph[source] & set(apps)):
                module, name, where = edges[(source, target)][0]
                lines.append(f"  {where}: {module} imports {name} ({source} → {target})")
    assert not lines, "import cycles between apps:\n" + "\n".join(lines)


def test_the_allowed_exception_is_still_the_only_one_and_still_needed():
    """The by-name exception names a real import; drop it here when the import goes."""
    found = imports_between_apps(project_apps()).get(("sla", "tickets"), [])
    assert {(module, name) for module, name, _ in found} == ALLOWED


def test_an_upward_import_inside_a_function_is_found(tmp_path, monkeypatch):
    """The reader itself: a local import in a low app naming a higher one is an upward edge."""
    for app in ("sla", "tickets"):
        (tmp_path / app).mkdir()
        (tmp_path / app / "__init__.py").write_text("")
    (tmp_path / "sla" / "clock.py").write_text("def f():\n    from tickets import models\n")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    edges = imports_between_apps(["sla", "tickets"])
    assert edges[("sla", "tickets")] == [("sla.clock", "tickets", "sla/clock.py:2")]


def _cycles(graph):
    """The strongly connected components of more than one app (Tarjan)."""
    index, low, stack, on_stack, result = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph.get(node, ())):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                result.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return result
