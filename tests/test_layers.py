"""The package's layers point only down: no module imports from a layer above its own, and no two
modules import each other, directly or round a longer circle.

The order below is the one the README's architecture section draws. Every import counts: at module
level, inside a function (a lazy import is still an arrow) and under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "spreadsheetcoder"

# Lowest first. A module belongs to the first layer with a prefix it starts with (after
# ``spreadsheetcoder.``); ``""`` is the package's own ``__init__``, the public facade.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("base", ("errors", "constants", "version", "text", "sheet", "values")),
    ("formula", ("references", "formula")),
    ("xlsx", ("xlsx",)),
    ("context", ("tables", "context", "anchors", "targets")),
    ("model", ("pretrained", "vocab", "model")),
    ("suggest", ("suggest", "fill")),
    ("check", ("check",)),
    ("data", ("data",)),
    ("training", ("training",)),
    ("evaluation", ("evaluation",)),
    ("api", ("",)),
    ("cli", ("cli", "commands", "__main__")),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> int:
    rest = module.removeprefix("spreadsheetcoder").removeprefix(".")
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if rest == prefix or (prefix and rest.startswith(prefix + ".")):
                return index
    raise AssertionError(f"{module} is in no layer: add it to LAYERS (and the README)")


def imports_of(path: Path) -> set[str]:
    """The package modules ``path`` imports (``from . import x`` counts as the module ``x``)."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "spreadsheetcoder":
                continue
            for alias in node.names:  # `from .model import beam` imports the module model.beam
                candidate = f"{target}.{alias.name}"
                found.add(candidate if _is_module(candidate) else target)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == "spreadsheetcoder"}
    found.discard(module)
    return found


def _is_module(name: str) -> bool:
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def import_graph() -> dict[str, set[str]]:
    return {module_name(p): imports_of(p) for p in sorted(PACKAGE.rglob("*.py"))}


def test_every_module_has_a_layer():
    for module in import_graph():
        layer_of(module)


def test_no_import_points_up():
    upward = []
    for module, targets in import_graph().items():
        for target in sorted(targets):
            if layer_of(target) > layer_of(module):
                upward.append(f"{module} ({LAYERS[layer_of(module)][0]}) -> "
                              f"{target} ({LAYERS[layer_of(target)][0]})")
    assert not upward, "imports that point up a layer:\n" + "\n".join(upward)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in graph.get(node, ()):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_circular_imports():
    graph = import_graph()
    # A package's __init__ re-exporting its own modules is not a circle: those modules import
    # their siblings, never the package itself.
    pruned = {m: {t for t in targets if not m.startswith(t + ".")} for m, targets in graph.items()}
    assert cycles(pruned) == []


def test_the_checker_sees_an_upward_import_and_a_circle():
    graph = {"spreadsheetcoder.formula": {"spreadsheetcoder.model.beam"},
             "spreadsheetcoder.model.beam": {"spreadsheetcoder.formula"}}
    assert layer_of("spreadsheetcoder.formula") < layer_of("spreadsheetcoder.model.beam")
    assert cycles(graph) == [["spreadsheetcoder.formula", "spreadsheetcoder.model.beam"]]
    assert imports_of(PACKAGE / "cli.py")  # the walk finds real imports


# The `service` package sits above every layer; only the command that starts it may import it.
SERVICE_STARTER = "spreadsheetcoder.commands.serve"


def test_the_service_is_above_the_package():
    offenders = [module_name(p) for p in PACKAGE.rglob("*.py")
                 if any(isinstance(n, (ast.Import, ast.ImportFrom)) and "service" in _names(n)
                        for n in ast.walk(ast.parse(p.read_text(encoding="utf-8"))))]
    assert [m for m in offenders if m != SERVICE_STARTER] == []


def _names(node: ast.Import | ast.ImportFrom) -> set[str]:
    if isinstance(node, ast.ImportFrom):
        return {(node.module or "").split(".")[0]} if node.level == 0 else set()
    return {alias.name.split(".")[0] for alias in node.names}


@pytest.mark.parametrize("name", [name for name, _ in LAYERS])
def test_the_readme_names_each_layer(name):
    readme = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    assert f"`{name}`" in readme
