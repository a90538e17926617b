"""The package's layers import only downwards, and no modules import each other in a cycle.

Every import in src/phiguard counts: module level, inside functions (a lazy import is still a
dependency) and under TYPE_CHECKING. A new module must be placed in LAYERS, so its place in
the data flow is a decision, not an accident.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = "phiguard"

#: Lowest first, as in docs/architecture.md. A module may import from its own layer and the
#: layers before it. Names are modules or packages (a package entry covers everything under it).
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("base", ("spans", "errors", "io", "paths", "logs", "textkeys")),
    ("aws", ("aws",)),
    ("detection", ("detectors", "known", "resolve", "surrogates", "transform")),
    ("configuration", ("config",)),
    ("vaults", ("vaults",)),
    ("keys", ("keys",)),
    ("audit", ("audit",)),
    ("reid", ("reid",)),
    ("run", ("run", "evaluation")),
    ("server", ("serve",)),  # the HTTP API: a client of the library
    ("clients", ("aws_lambda",)),  # the Lambda handlers: a client of the library, like the CLI
]
FACADE = PACKAGE  # phiguard/__init__.py re-exports the public names: above every layer


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted((SRC / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """The phiguard (and phiguard_cli) modules `name` imports, by any kind of import."""
    is_package = path.name == "__init__.py"
    here = name.split(".") if is_package else name.split(".")[:-1]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*here[: len(here) - node.level + 1], *filter(None, [base])])
            # `from phiguard import paths` imports the module phiguard.paths
            targets = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names
            ]
        else:
            continue
        for target in targets:
            if target.split(".")[0] in (PACKAGE, f"{PACKAGE}_cli"):
                out.add(target)
    out.discard(name)
    return out


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def layer_of(module: str) -> int:
    """Index into LAYERS; len(LAYERS) for the facade, len(LAYERS) + 1 for the CLI."""
    if module == FACADE:
        return len(LAYERS)
    if module.split(".")[0] == f"{PACKAGE}_cli":
        return len(LAYERS) + 1
    for i, (_, members) in enumerate(LAYERS):
        for member in members:
            full = f"{PACKAGE}.{member}"
            if module == full or module.startswith(full + "."):
                return i
    raise LookupError(module)


def test_every_module_has_a_layer() -> None:
    unplaced = []
    for module in MODULES:
        try:
            layer_of(module)
        except LookupError:
            unplaced.append(module)
    assert not unplaced, f"add these modules to LAYERS in {__file__}: {unplaced}"


def _name(layer: int) -> str:
    return LAYERS[layer][0] if layer < len(LAYERS) else ("facade", "cli")[layer - len(LAYERS)]


def test_layers_import_only_downwards() -> None:
    upward = sorted(
        f"{m} ({_name(layer_of(m))}) imports {t} ({_name(layer_of(t))})"
        for m, targets in GRAPH.items()
        for t in targets
        if t in MODULES or t.startswith(f"{PACKAGE}_cli")
        if layer_of(t) > layer_of(m)
    )
    assert not upward, "\n".join(upward)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        top = stack.pop()
                        on_stack.discard(top)
                        component.append(top)
                        if top == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
            elif child not in graph:
                continue
            elif child not in index:
                index[child] = low[child] = counter
                counter += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def test_no_import_cycles() -> None:
    assert _cycles(GRAPH) == []


# -- the checker itself ------------------------------------------------------------------------


def test_cycle_finder_finds_cycles_and_only_them() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set(), "f": {"g"}, "g": {"f"}}
    assert sorted(_cycles(graph)) == [["a", "b", "c"], ["f", "g"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_imports_are_resolved_to_modules() -> None:
    assert "phiguard.paths" in GRAPH["phiguard.vaults"]  # `from phiguard import paths`
    assert "phiguard.vaults.base" in GRAPH["phiguard.vaults.journal"]


@pytest.mark.parametrize(
    ("module", "layer"),
    [
        ("phiguard.errors", "base"),
        ("phiguard.vaults.dynamodb.tables", "vaults"),
        ("phiguard.keys.policy", "keys"),
        ("phiguard", "facade"),
        ("phiguard_cli.main", "cli"),
    ],
)
def test_layer_of(module: str, layer: str) -> None:
    assert _name(layer_of(module)) == layer
