"""Import cycles: print the strongly connected groups of modules in a package (groups of two or more).

    .venv/bin/python tools/import_cycles.py [PACKAGE]     # default: diagnostics

Reads the import graph with grimp (installed with import-linter), imports inside functions and under
``TYPE_CHECKING`` included (they still tie the modules together for a reader and for mypy). It looks at two
levels, and prints one line per group, largest first:

- ``modules``: module by module;
- ``siblings``: per package, its direct children, each subpackage counted as one node holding everything
  below it (the view of import-linter's ``acyclic_siblings`` contract). ``brokers`` importing
  ``simulator.keys`` while ``simulator.router`` imports ``deps`` is a cycle here, not at module level.

Last line: ``N groups``. Exit 0 always: it measures; the contracts in ``pyproject.toml`` gate
(ARCHITECTURE.md, "Checks").
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Set

import grimp


def strongly_connected(edges: Mapping[str, Set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (a deep import chain must not hit the recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> tuple[str, list[str]]:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        return node, sorted(edges.get(node, ()), reverse=True)

    for root in sorted(edges):
        if root in index:
            continue
        work = [visit(root)]
        while work:
            node, todo = work[-1]
            if todo:
                nxt = todo.pop()
                if nxt not in index:
                    work.append(visit(nxt))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group: list[str] = []
                while not group or group[-1] != node:
                    group.append(stack.pop())
                    on_stack.discard(group[-1])
                if len(group) > 1:
                    groups.append(sorted(group))
    return sorted(groups, key=lambda g: (-len(g), g))


def module_edges(graph: grimp.ImportGraph) -> dict[str, set[str]]:
    return {module: graph.find_modules_directly_imported_by(module) for module in graph.modules}


def sibling_edges(graph: grimp.ImportGraph, package: str) -> dict[str, set[str]]:
    """The children of ``package``, each standing for itself and everything below it."""
    children = graph.find_children(package)
    owner = {child: child for child in children}
    for child in children:
        owner.update(dict.fromkeys(graph.find_descendants(child), child))
    edges: dict[str, set[str]] = {child: set() for child in children}
    for module, node in owner.items():
        for imported in graph.find_modules_directly_imported_by(module):
            target = owner.get(imported)
            if target is not None and target != node:
                edges[node].add(target)
    return edges


def main(argv: list[str]) -> int:
    package = argv[0] if argv else "diagnostics"
    graph = grimp.build_graph(package, include_external_packages=False, exclude_type_checking_imports=False)
    found = [("modules", group) for group in strongly_connected(module_edges(graph))]
    for parent in sorted(m for m in graph.modules if graph.find_children(m)):
        found += [(f"siblings in {parent}", group) for group in strongly_connected(sibling_edges(graph, parent))]
    for level, group in found:
        sys.stdout.write(f"{level}: {len(group)}: {', '.join(group)}\n")
    sys.stdout.write(f"{len(found)} groups\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
