"""Within the maintenance app, modules import each other one way (issue 15): the notice sweep
(``notices``) must not reach the module that enqueues its own task (``services`` → ``tasks`` →
``notices`` was such a circle). Imports inside functions count, as between apps."""

import ast
from collections import defaultdict

from tests.portal.test_import_graph import ROOT, _cycles

APP = "maintenance"


def module_graph(app=APP, root=ROOT):
    """``{module: {imported module of the same app}}`` over every import, local ones too."""
    base = root / app
    modules = {
        ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__"): path
        for path in base.rglob("*.py")
        if "migrations" not in path.parts
    }
    graph = defaultdict(set)
    for module, path in modules.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                    stem = f"{parent}.{node.module}" if node.module else parent
                else:
                    stem = node.module or ""
                names = [f"{stem}.{alias.name}" for alias in node.names] + [stem]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                # The longest module of the app this name is (``from . import tasks``) or is in.
                while name and name not in modules:
                    name = name.rpartition(".")[0]
                if name and name != module and name != app:
                    graph[module].add(name)
    return graph


def test_no_import_cycle_between_maintenance_modules():
    cycles = _cycles(module_graph())
    assert not cycles, f"maintenance modules import each other round in a circle: {cycles}"


def test_the_notice_sweep_does_not_reach_the_module_that_enqueues_it():
    graph = module_graph()
    seen, todo = set(), ["maintenance.notices"]
    while todo:
        module = todo.pop()
        for target in graph.get(module, ()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    assert "maintenance.tasks" not in seen and "maintenance.services" not in seen, sorted(seen)


def test_the_reader_sees_a_local_relative_import(tmp_path):
    """The reader itself: a function-level ``from .tasks import …`` is an edge."""
    app = tmp_path / APP
    app.mkdir()
    (app / "__init__.py").write_text("")
    (app / "services.py").write_text("def f():\n    from .tasks import go\n")
    (app / "tasks.py").write_text("from . import services\n")
    graph = module_graph(root=tmp_path)
    assert graph["maintenance.services"] == {"maintenance.tasks"}
    assert _cycles(graph) == [["maintenance.services", "maintenance.tasks"]]
