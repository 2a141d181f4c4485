"""The architecture as a test: imports run one way, from the CLI down to the scenario model, and no two modules
import each other (directly or round a circle). Layers, top to bottom: cli, output, experiments, analysis,
engine, model (see shared/DESIGN.md and the README's Layout)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

LAYERS = ("model", "engine", "analysis", "experiments", "output", "cli")
FRONT_DOOR = ("sim", "sim.api")
"""The package and the Python API behind it: above every layer, re-exporting from all of them."""
PACKAGE = ROOT / "sim"
KNOWN_UPWARD: set[str] = set()
"""Imports against the flow still allowed while being removed (the test fails when one is no longer true, so
the set only shrinks). Empty: the sweep and the staffing search no longer write folders nor print."""


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """Each sim module and the sim modules it imports (anywhere in it, lazily or not)."""
    modules = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    found: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sim"):
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    targets.add(full if full in modules else node.module)
            elif isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names if alias.name.startswith("sim."))
        found[name] = {target for target in targets if target in modules and target != name}
    return found


def _layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else None


def test_every_module_lives_in_a_layer() -> None:
    loose = [name for name in _imports() if name not in FRONT_DOOR and _layer(name) is None]
    assert not loose, f"modules outside the layers: {loose}"


def test_imports_point_down_only() -> None:
    upward = [
        f"{module} -> {target}"
        for module, targets in _imports().items()
        for target in targets
        if (_layer(module) is not None and _layer(target) is not None and _layer(target) > _layer(module))  # type: ignore[operator]
    ]
    unexpected = sorted(set(upward) - KNOWN_UPWARD)
    assert not unexpected, "imports against the flow:\n" + "\n".join(unexpected)
    assert set(upward) >= KNOWN_UPWARD, (
        f"gone, so strike from KNOWN_UPWARD: {sorted(KNOWN_UPWARD - set(upward))}"
    )


def test_no_layer_imports_the_python_api() -> None:
    """The API sits on top: a layer that used it would be a circle through the front door."""
    users = sorted(
        module for module, targets in _imports().items() if "sim.api" in targets and module != "sim"
    )
    assert not users, f"modules importing sim.api: {users}"


def test_no_import_circles() -> None:
    graph = _imports()
    graph.pop("sim", None)  # the front door re-exports from every layer, and nothing below imports it back
    circles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target == "sim":
                continue
            if state.get(target) == 1:
                circles.append([*stack[stack.index(target) :], target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not circles, "import circles:\n" + "\n".join(" -> ".join(circle) for circle in circles)
