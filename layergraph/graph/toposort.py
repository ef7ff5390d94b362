"""Stable topological order over layer indices (MATLAB ``toposort(G, 'Order', 'stable')``).

Shared by :class:`~layergraph.graph.LayerGraph` (which caches it per graph) and
``analyzeNetwork`` (which also reports graphs that are not acyclic).
"""
from __future__ import annotations

import heapq
from typing import Iterable

Arc = tuple[int, int]          # (from layer index, to layer index); repeats allowed


def stable_order(num_nodes: int, arcs: Iterable[Arc]) -> tuple[list[int], list[int]]:
    """Kahn's algorithm, always taking the smallest ready index.

    Returns ``(order, rest)``: the nodes it could place, in order, and the others (on a cycle
    or downstream of one), ascending.

    >>> stable_order(4, [(2, 0), (0, 1), (3, 3)])
    ([2, 0, 1], [3])
    """
    indegree = [0] * num_nodes
    successors: list[list[int]] = [[] for _ in range(num_nodes)]
    for src, dst in arcs:
        indegree[dst] += 1
        successors[src].append(dst)
    ready = [i for i in range(num_nodes) if indegree[i] == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        i = heapq.heappop(ready)
        order.append(i)
        for d in successors[i]:
            indegree[d] -= 1
            if indegree[d] == 0:
                heapq.heappush(ready, d)
    placed = set(order)
    return order, [i for i in range(num_nodes) if i not in placed]


def find_cycle(rest: Iterable[int], arcs: Iterable[Arc]) -> list[int]:
    """One directed cycle among the nodes :func:`stable_order` left over, from its smallest node.

    Walks back along predecessors (smallest first) from the smallest left-over node; [] if none.

    >>> find_cycle([1, 2, 3], [(0, 1), (1, 2), (2, 3), (3, 1)])
    [1, 2, 3]
    """
    remaining = set(rest)
    if not remaining:
        return []
    predecessors: dict[int, list[int]] = {}
    for src, dst in arcs:
        if src in remaining and dst in remaining:
            predecessors.setdefault(dst, []).append(src)
    node, path, position = min(remaining), [], {}
    while node not in position:
        position[node] = len(path)
        path.append(node)
        node = min(predecessors[node])
    cycle = path[position[node]:][::-1]
    start = cycle.index(min(cycle))
    return cycle[start:] + cycle[:start]
