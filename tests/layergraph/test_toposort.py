"""The stable topological order shared by LayerGraph and analyzeNetwork."""
from __future__ import annotations

import doctest

from hypothesis import given, settings, strategies as st

from layergraph.graph import toposort as _toposort
from layergraph.graph.toposort import find_cycle, stable_order


def test_docstring_examples_run():
    result = doctest.testmod(_toposort)
    assert result.attempted >= 2 and result.failed == 0


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 8).flatmap(lambda n: st.tuples(
    st.just(n), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=14))))
def test_order_respects_every_arc_and_takes_the_smallest_ready_node(case):
    n, arcs = case
    order, rest = stable_order(n, arcs)
    assert sorted(order + rest) == list(range(n)) and rest == sorted(rest)
    position = {node: k for k, node in enumerate(order)}
    assert all(position[s] < position[d] for s, d in arcs if s in position and d in position)
    placed: set[int] = set()
    for node in order:      # each step takes the smallest node whose predecessors are placed
        ready = [i for i in range(n) if i not in placed
                 and all(s in placed for s, d in arcs if d == i)]
        assert node == min(ready)
        placed.add(node)
    cycle = find_cycle(rest, arcs)
    assert bool(cycle) == bool(rest)
    if cycle:
        assert cycle[0] == min(cycle)
        assert all((a, b) in arcs for a, b in zip(cycle, cycle[1:] + cycle[:1]))
