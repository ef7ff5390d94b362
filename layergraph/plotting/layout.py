"""A layered top-down drawing of a directed graph (MATLAB ``plot(G, 'Layout', 'layered')``).

Sugiyama's four steps, deterministic and in NumPy (no plotting library):

1. cycles are broken by reversing the back arcs of a depth-first search in index order (the
   drawing still shows them in their own direction);
2. each node gets a rank (its row, 0 on top): the longest path from a source, sources then
   moved down next to their first consumer;
3. arcs spanning several ranks are split by dummy nodes (one per rank crossed), and the nodes
   of each rank are ordered by barycenter sweeps, keeping the order with fewest crossings;
4. x coordinates: weighted least squares over the arcs (long arcs weigh most, so a skip
   connection runs as a straight line beside the chain), each rank projected onto "one unit
   apart, in order" by isotonic regression (pool adjacent violators); then every run of
   one-in-one-out nodes is put on one vertical line (arcs bend only where the graph branches).

Arcs come back as polylines through their dummies, so skip connections are routed around the
layers they skip instead of through them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

__all__ = ["GraphLayout", "layered_layout"]

# Arc weights in the x placement (Gansner et al.): real-real, real-dummy, dummy-dummy.
_ARC_WEIGHTS = (1.0, 2.0, 8.0)
_ORDER_SWEEPS = 12
_PLACEMENT_SWEEPS = 24


@dataclass(frozen=True)
class GraphLayout:
    """Node positions and arc routes of a layered drawing.

    ``x``, ``y`` (n,): node centres, in units of one column / one rank (``y`` = rank, 0 on
    top, growing downwards; ``x`` >= 0). ``width``: the largest x of a node or a route.
    ``arcs`` (m, 2): the distinct (source, destination)
    pairs; ``routes[k]`` (p, 2): the polyline of arc k from its source to its destination.
    ``reversed_arcs``: indices of arcs that close a cycle (they point upwards).
    """

    x: np.ndarray
    y: np.ndarray
    arcs: np.ndarray
    routes: tuple[np.ndarray, ...]
    reversed_arcs: frozenset[int]
    width: float


    @property
    def height(self) -> int:
        """Number of ranks (rows)."""
        return int(self.y.max()) + 1 if self.y.size else 0


def _unique_arcs(num_nodes: int, arcs: Iterable[tuple[int, int]]) -> np.ndarray:
    """Distinct (src, dst) pairs in first-seen order, self-loops dropped."""
    seen: dict[tuple[int, int], None] = {}
    for src, dst in arcs:
        src, dst = int(src), int(dst)
        if not (0 <= src < num_nodes and 0 <= dst < num_nodes):
            raise ValueError(f"Arc ({src}, {dst}) names a node outside 0..{num_nodes - 1}. "
                             f"Received: num_nodes={num_nodes}.")
        if src != dst:
            seen.setdefault((src, dst), None)
    return np.array(list(seen), dtype=np.int64).reshape(-1, 2)


def _back_arcs(num_nodes: int, arcs: np.ndarray) -> set[int]:
    """Indices of the arcs closing a cycle: DFS from each unvisited node in index order."""
    succ: list[list[tuple[int, int]]] = [[] for _ in range(num_nodes)]
    for k, (src, dst) in enumerate(arcs.tolist()):
        succ[src].append((dst, k))
    state = [0] * num_nodes          # 0 new, 1 on the stack, 2 done
    back: set[int] = set()
    for root in range(num_nodes):
        if state[root]:
            continue
        state[root] = 1
        stack = [(root, iter(succ[root]))]
        while stack:
            node, it = stack[-1]
            for dst, k in it:
                if state[dst] == 1:
                    back.add(k)
                elif state[dst] == 0:
                    state[dst] = 1
                    stack.append((dst, iter(succ[dst])))
                    break
            else:
                state[node] = 2
                stack.pop()
    return back


def _ranks(num_nodes: int, dag: np.ndarray) -> np.ndarray:
    """Longest-path rank of each node; sources moved down to just above their first consumer."""
    indegree = np.bincount(dag[:, 1], minlength=num_nodes) if len(dag) else np.zeros(num_nodes, int)
    succ: list[list[int]] = [[] for _ in range(num_nodes)]
    for src, dst in dag.tolist():
        succ[src].append(dst)
    rank = np.zeros(num_nodes, dtype=np.int64)
    remaining = indegree.copy()
    ready = [i for i in range(num_nodes) if remaining[i] == 0]
    for node in ready:               # grows while iterating (Kahn)
        for dst in succ[node]:
            rank[dst] = max(rank[dst], rank[node] + 1)
            remaining[dst] -= 1
            if remaining[dst] == 0:
                ready.append(dst)
    for node in range(num_nodes):
        if indegree[node] == 0 and succ[node]:
            rank[node] = min(rank[d] for d in succ[node]) - 1
    return rank


class _Layering:
    """Real and dummy nodes by rank, and the arcs between consecutive ranks."""

    def __init__(self, num_nodes: int, dag: np.ndarray, rank: np.ndarray):
        self.rank = list(rank.tolist())
        self.dummy = [False] * num_nodes
        self.chains: list[list[int]] = []       # per dag arc: its nodes, source to destination
        up: list[list[int]] = [[] for _ in range(num_nodes)]
        down: list[list[int]] = [[] for _ in range(num_nodes)]
        for src, dst in dag.tolist():
            chain = [src]
            for r in range(self.rank[src] + 1, self.rank[dst]):
                self.rank.append(r)
                self.dummy.append(True)
                up.append([])
                down.append([])
                chain.append(len(self.rank) - 1)
            chain.append(dst)
            for a, b in zip(chain, chain[1:]):
                down[a].append(b)
                up[b].append(a)
            self.chains.append(chain)
        self.up, self.down = up, down
        height = max(self.rank, default=-1) + 1
        self.rows: list[list[int]] = [[] for _ in range(height)]
        for node in self._initial_order(num_nodes):
            self.rows[self.rank[node]].append(node)

    def _initial_order(self, num_nodes: int) -> list[int]:
        """Depth-first from the sources in index order: chains come out side by side."""
        order, seen = [], [False] * len(self.rank)
        for root in list(range(num_nodes)):
            if seen[root] or self.up[root]:
                continue
            stack = [root]
            while stack:
                node = stack.pop()
                if seen[node]:
                    continue
                seen[node] = True
                order.append(node)
                stack.extend(reversed(self.down[node]))
        order += [i for i in range(len(self.rank)) if not seen[i]]
        return order

    def weight(self, a: int, b: int) -> float:
        return _ARC_WEIGHTS[int(self.dummy[a]) + int(self.dummy[b])]


def _crossings(layering: _Layering, rows: list[list[int]]) -> int:
    """Arc crossings between consecutive ranks of an ordering."""
    total = 0
    for upper, lower in zip(rows, rows[1:]):
        pos = {node: k for k, node in enumerate(lower)}
        ends = [(i, pos[d]) for i, node in enumerate(upper) for d in layering.down[node]]
        if len(ends) < 2:
            continue
        e = np.array(ends)
        a, b = e[:, 0], e[:, 1]
        total += int(np.sum((a[:, None] < a[None, :]) & (b[:, None] > b[None, :])))
    return total


def _order_rows(layering: _Layering) -> list[list[int]]:
    """Barycenter sweeps (down, then up); the ordering with fewest crossings wins."""
    rows = [list(r) for r in layering.rows]
    best, best_count = [list(r) for r in rows], _crossings(layering, rows)
    for sweep in range(_ORDER_SWEEPS):
        downward = sweep % 2 == 0
        indices = range(1, len(rows)) if downward else range(len(rows) - 2, -1, -1)
        for r in indices:
            fixed = rows[r - 1] if downward else rows[r + 1]
            pos = {node: k for k, node in enumerate(fixed)}
            keys = []
            for k, node in enumerate(rows[r]):
                nbrs = layering.up[node] if downward else layering.down[node]
                keys.append(float(np.mean([pos[n] for n in nbrs])) if nbrs else float(k))
            rows[r] = [node for _, node in sorted(zip(keys, rows[r]), key=lambda t: t[0])]
        count = _crossings(layering, rows)
        if count < best_count:
            best, best_count = [list(r) for r in rows], count
        if best_count == 0:
            break
    return best


def _isotonic_spaced(target: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Weighted least squares x closest to ``target`` with ``x[k+1] >= x[k] + 1``."""
    shifted = target - np.arange(len(target))
    values: list[float] = []
    weights: list[float] = []
    sizes: list[int] = []
    for v, w in zip(shifted.tolist(), weight.tolist()):
        values.append(v)
        weights.append(w)
        sizes.append(1)
        while len(values) > 1 and values[-2] > values[-1]:
            w2 = weights[-2] + weights[-1]
            v2 = (values[-2] * weights[-2] + values[-1] * weights[-1]) / w2
            n2 = sizes[-2] + sizes[-1]
            del values[-1], weights[-1], sizes[-1]
            values[-1], weights[-1], sizes[-1] = v2, w2, n2
    return np.repeat(values, sizes) + np.arange(len(target))


def _place(layering: _Layering, rows: list[list[int]]) -> np.ndarray:
    """x of every node: rows centred, then relaxed towards weighted neighbour means."""
    x = np.zeros(len(layering.rank))
    for row in rows:
        x[row] = np.arange(len(row)) - (len(row) - 1) / 2
    for sweep in range(_PLACEMENT_SWEEPS):
        indices = range(len(rows)) if sweep % 2 == 0 else range(len(rows) - 1, -1, -1)
        moved = 0.0
        for r in indices:
            row = rows[r]
            target, weight = np.empty(len(row)), np.empty(len(row))
            for k, node in enumerate(row):
                nbrs = layering.up[node] + layering.down[node]
                if nbrs:
                    w = np.array([layering.weight(node, n) for n in nbrs])
                    target[k], weight[k] = float(w @ x[nbrs]) / w.sum(), w.sum()
                else:
                    target[k], weight[k] = x[node], 1e-3
            new = _isotonic_spaced(target, weight)
            moved = max(moved, float(np.abs(new - x[row]).max(initial=0.0)))
            x[row] = new
        if moved < 1e-3:
            break
    return _straighten_chains(layering, rows, x)


def _straighten_chains(layering: _Layering, rows: list[list[int]], x: np.ndarray) -> np.ndarray:
    """Put each run of one-in-one-out nodes on one vertical line (their mean x), then respace."""
    simple = [len(u) == 1 and len(d) == 1 for u, d in zip(layering.up, layering.down)]
    for start in range(len(simple)):
        if not simple[start] or simple[layering.up[start][0]]:
            continue
        chain = [start]
        while simple[layering.down[chain[-1]][0]]:
            chain.append(layering.down[chain[-1]][0])
        x[chain] = x[chain].mean()
    for row in rows:
        x[row] = _isotonic_spaced(x[row], np.ones(len(row)))
    return x


def layered_layout(num_nodes: int, arcs: Iterable[tuple[int, int]] | np.ndarray) -> GraphLayout:
    """Lay out nodes ``0..num_nodes-1`` joined by directed ``arcs`` ((source, destination) pairs).

    Repeated arcs are drawn once and self-loops are ignored; cycles and unconnected nodes are
    allowed. Deterministic: the same input gives the same layout.

    >>> lay = layered_layout(4, [(0, 1), (1, 2), (2, 3), (0, 3)])
    >>> lay.y.tolist(), len(lay.routes[3])           # the skip 0->3 passes 2 dummies
    ([0.0, 1.0, 2.0, 3.0], 4)
    """
    if not isinstance(num_nodes, (int, np.integer)) or num_nodes < 0:
        raise ValueError(f"num_nodes must be a nonnegative integer. Received: {num_nodes!r}.")
    unique = _unique_arcs(int(num_nodes), arcs if not isinstance(arcs, np.ndarray) else arcs.tolist())
    back = _back_arcs(num_nodes, unique)
    dag = unique.copy()
    if back:
        dag[sorted(back)] = dag[sorted(back)][:, ::-1]
    layering = _Layering(num_nodes, dag, _ranks(num_nodes, dag))
    x = _place(layering, _order_rows(layering))
    x -= x.min(initial=0.0) if x.size else 0.0
    y = np.array(layering.rank, dtype=float)
    routes = []
    for k, chain in enumerate(layering.chains):
        points = np.column_stack([x[chain], y[chain]])
        routes.append(points[::-1].copy() if k in back else points)
    return GraphLayout(x[:num_nodes].copy(), y[:num_nodes].copy(), unique, tuple(routes),
                       frozenset(back), float(x.max(initial=0.0)))


def layer_graph_layout(lgraph: object) -> GraphLayout:
    """:func:`layered_layout` of a LayerGraph's layers (node i = ``lgraph.Layers[i]``)."""
    edges: Sequence[tuple[int, int, int, int]] = lgraph.edges      # type: ignore[attr-defined]
    return layered_layout(len(lgraph.Layers), [(s, d) for s, _, d, _ in edges])  # type: ignore[attr-defined]
