"""The import graph of ``src/synthrec``, read with ``ast`` (nothing is imported or run).

    python scripts/import_graph.py            # package layers, module cycles, private-module imports
    python scripts/import_graph.py --modules  # the same, with module-level layers

An edge A -> B means module A imports module B somewhere in its text (top level or inside a function: a lazy
import is still a dependency), including ``importlib.import_module("literal")``; imports under
``if TYPE_CHECKING:`` (annotations only, never run) are not edges. ``tests/core/test_architecture.py``
uses :func:`build_graph`, :func:`cycles` and :func:`private_imports` to keep the graph a DAG.
"""
from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
ROOT = "synthrec"


def module_files(src: Path = SRC) -> dict[str, Path]:
    out = {}
    for path in sorted((src / ROOT).rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _is_package(name: str, files: dict[str, Path]) -> bool:
    return files[name].name == "__init__.py"


def _resolve(name: str, files: dict[str, Path]) -> str | None:
    """The longest known module that ``name`` (a dotted path, maybe ending in an attribute) lies in."""
    parts = name.split(".")
    while parts:
        cand = ".".join(parts)
        if cand in files:
            return cand
        parts.pop()
    return None


def _is_type_checking_block(node: ast.AST) -> bool:
    """``if TYPE_CHECKING:``: imports for annotations only, never run, so no part of the import graph."""
    return isinstance(node, ast.If) and getattr(node.test, "id", getattr(node.test, "attr", None)) == "TYPE_CHECKING"


def imports_of(module: str, files: dict[str, Path]) -> set[str]:
    tree = ast.parse(files[module].read_text(encoding="utf-8"), filename=str(files[module]))
    package = module if _is_package(module, files) else module.rpartition(".")[0]
    found: set[str] = set()

    def add(target: str) -> None:
        if target == ROOT or target.startswith(ROOT + "."):
            resolved = _resolve(target, files)
            if resolved and resolved != module:
                found.add(resolved)

    type_only = {id(n) for block in ast.walk(tree) if _is_type_checking_block(block)
                 for stmt in block.body for n in ast.walk(stmt)}
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            for alias in node.names:
                full = f"{stem}.{alias.name}"
                # ``from pkg import submodule`` imports the submodule; ``from pkg import name`` imports pkg
                add(full if full in files else stem)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "import_module" and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)):
            add(node.args[0].value)
    return found


def build_graph(src: Path = SRC) -> dict[str, set[str]]:
    files = module_files(src)
    return {m: imports_of(m, files) for m in files}


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative; components in reverse topological order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, it = work[-1]
            advanced = False
            for nxt in it:
                if nxt not in graph:
                    continue
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    comp.append(top)
                    if top == node:
                        break
                out.append(sorted(comp))
    return out


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every group of modules that import each other in a loop."""
    return sorted(c for c in strongly_connected(graph) if len(c) > 1 or c[0] in graph[c[0]])


def private_imports(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    """(importer, target) where target is a ``_private`` module of a package the importer is not inside."""
    bad = []
    for src, targets in graph.items():
        for dst in targets:
            owner, _, leaf = dst.rpartition(".")
            if leaf.startswith("_") and not leaf.startswith("__") and not (src == owner
                                                                           or src.startswith(owner + ".")):
                bad.append((src, dst))
    return sorted(bad)


# Packages made of layers of their own: their sub-packages are separate nodes of the package graph.
LAYERED = ("synthrec.glyph",)


def package_of(module: str, packages: set[str] = frozenset()) -> str:
    """``synthrec.<name>``, or ``synthrec.<name>.<sub>`` for a sub-package of a LAYERED package."""
    parts = module.split(".")
    sub = ".".join(parts[:3])
    if ".".join(parts[:2]) in LAYERED and len(parts) > 2 and sub in packages:
        return sub
    return ".".join(parts[:2]) if len(parts) > 1 else module


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    packages = {m.rpartition(".")[0] for m in graph}  # every name that has a module below it
    out: dict[str, set[str]] = {}
    for src, targets in graph.items():
        p = package_of(src, packages)
        out.setdefault(p, set())
        out[p].update(package_of(t, packages) for t in targets if package_of(t, packages) != p)
    return out


def layers(graph: dict[str, set[str]]) -> list[list[str]]:
    """Layer 0 imports nothing of ours; layer n imports only layers below n. Modules in a cycle share one
    entry, written ``{a b c}``, placed by the component."""
    comps = strongly_connected(graph)
    comp_of = {m: i for i, c in enumerate(comps) for m in c}
    depth: dict[int, int] = {}
    for i, comp in enumerate(comps):  # reverse topological: dependencies come first
        deps = {comp_of[t] for m in comp for t in graph[m] if t in comp_of and comp_of[t] != i}
        depth[i] = 1 + max((depth[d] for d in deps), default=-1)
    out: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for i, comp in enumerate(comps):
        out[depth[i]].append(comp[0] if len(comp) == 1 else "{" + " ".join(comp) + "}")
    return [sorted(layer) for layer in out]


def _short(name: str) -> str:
    return name.removeprefix(ROOT + ".")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--modules", action="store_true", help="also print module-level layers")
    ap.add_argument("--src", type=Path, default=SRC)
    args = ap.parse_args(argv)
    graph = build_graph(args.src)
    edges = sum(len(v) for v in graph.values())
    print(f"# import graph of {args.src / ROOT}: {len(graph)} modules, {edges} edges")
    print("\n## package layers (layer n imports only from layers < n; {..} = packages importing each other)")
    for i, layer in enumerate(layers(package_graph(graph))):
        print(f"{i:2d}: {'  '.join(_short(p) for p in layer)}")
    if args.modules:
        print("\n## module layers")
        for i, layer in enumerate(layers(graph)):
            print(f"{i:2d}: {'  '.join(_short(m) for m in layer)}")
    found = cycles(graph)
    print(f"\n## module import cycles: {len(found)}")
    for comp in found:
        print("  " + " <-> ".join(_short(m) for m in comp))
    bad = private_imports(graph)
    print(f"\n## imports of another package's private module: {len(bad)}")
    for src, dst in bad:
        print(f"  {_short(src)} -> {_short(dst)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
