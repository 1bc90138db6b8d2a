"""The shape of the code: layers point down, no import cycles (lazy imports included), no module
over 600 lines. Read from the source with ``ast``, so an import inside a function counts the same
as one at the top of a module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
PKG = SRC / "moviola"

# docs/architecture.md's layers, lowest first. A module may import its own layer and any below.
LAYERS: dict[str, int] = {
    "errors": 0,
    "_version": 0,
    "media": 1,
    "models": 2,
    "pipeline": 3,
    "vision": 4,
    "speech": 5,
    "music": 5,
    "effects": 6,
    "analysis": 7,
    "generate": 7,
    "engines": 8,
    "studio": 9,
    "commands": 9,
    "cli": 9,
    "api": 9,
    "__init__": 9,
    "__main__": 9,
}
FOUNDATION = ("media", "models", "pipeline", "vision")
MAX_LINES = 600


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Every moviola module ``name`` imports, anywhere in its body, as the deepest known module."""
    tree = ast.parse(path.read_text(), filename=str(path))
    is_pkg = path.name == "__init__.py"
    found: set[str] = set()

    def resolve(target: str) -> None:
        while target and target not in known:
            target = target.rpartition(".")[0]
        if target and target != name:
            found.add(target)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("moviola"):
                    resolve(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base[: len(base) - node.level + (1 if is_pkg else 0)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            if not module.startswith("moviola"):
                continue
            for alias in node.names:  # `from pkg import submodule` names a module
                sub = f"{module}.{alias.name}"
                resolve(sub if sub in known else module)
    return found


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    known = set(mods)
    return {m: _imports(m, p, known) for m, p in mods.items()}


def _layer(module: str) -> int:
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else "__init__"
    assert top in LAYERS, f"{module}: add its top-level package to LAYERS and docs/architecture.md"
    return LAYERS[top]


def test_dependencies_point_down() -> None:
    wrong = []
    for module, deps in _graph().items():
        for dep in deps:
            if dep == "moviola":  # the package itself (its version) is a leaf for this purpose
                continue
            if _layer(dep) > _layer(module):
                wrong.append(f"{module} -> {dep}")
    assert not wrong, "imports that point up a layer:\n" + "\n".join(sorted(wrong))


def test_foundation_imports_nothing_above_it() -> None:
    allowed = {LAYERS[p] for p in FOUNDATION} | {0}
    top = max(LAYERS[p] for p in FOUNDATION)
    for module, deps in _graph().items():
        if module.split(".")[1:2] and module.split(".")[1] in FOUNDATION:
            above = [d for d in deps if d != "moviola" and _layer(d) > top]
            assert not above, f"{module} imports {above}"
            assert all(_layer(d) in allowed for d in deps if d != "moviola")


def test_no_import_cycles() -> None:
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_no_module_over_600_lines() -> None:
    big = {
        str(p.relative_to(PKG)): n
        for p in PKG.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert not big, f"modules over {MAX_LINES} lines: {big}"


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        ("moviola.effects.resize", {"moviola.pipeline", "moviola.media.frame", "moviola.errors"}),
    ],
)
def test_the_import_reader_sees_imports(module: str, expected: set[str]) -> None:
    """The checker itself: it must see a known module's imports (else the tests above pass
    vacuously)."""
    graph = _graph()
    assert expected <= graph[module]


def test_lazy_and_relative_imports_are_seen(tmp_path: Path) -> None:
    src = tmp_path / "x.py"
    src.write_text(
        "def f():\n"
        "    from moviola.effects import resize\n"
        "    from ..studio import app\n"
        "    import moviola.cli\n"
    )
    known = {"moviola.effects", "moviola.effects.resize", "moviola.studio.app", "moviola.cli"}
    got = _imports("moviola.media.x", src, known)
    assert got == {"moviola.effects.resize", "moviola.studio.app", "moviola.cli"}
