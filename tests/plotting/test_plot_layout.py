"""The layered layout: ranks, spacing, routed skips, cycles, determinism (no matplotlib needed)."""
from __future__ import annotations

import doctest

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import layergraph as lg
from layergraph.plotting import layout as layout_module
from layergraph.plotting.layout import layer_graph_layout, layered_layout

RESNET101 = {"StackDepth": (3, 4, 23, 3), "NumFilters": (64, 128, 256, 512)}


def check_layout(n, arcs, lay):
    """Invariants every layout must satisfy."""
    assert lay.x.shape == lay.y.shape == (n,)
    assert np.isfinite(lay.x).all() and np.isfinite(lay.y).all()
    assert (lay.x >= -1e-9).all() and (lay.x <= lay.width + 1e-9).all()
    assert len(lay.routes) == len(lay.arcs)
    distinct = {(int(s), int(d)) for s, d in arcs if s != d}
    assert {tuple(a) for a in lay.arcs.tolist()} == distinct
    for k, (src, dst) in enumerate(lay.arcs.tolist()):
        route = lay.routes[k]
        np.testing.assert_allclose(route[0], [lay.x[src], lay.y[src]])
        np.testing.assert_allclose(route[-1], [lay.x[dst], lay.y[dst]])
        step = np.diff(route[:, 1])
        direction = -1 if k in lay.reversed_arcs else 1
        assert (step == direction).all(), "a route moves one rank per point, along its arc"
    rows = {}
    for k in range(len(lay.routes)):
        for point in lay.routes[k][1:-1]:
            rows.setdefault(point[1], []).append(point[0])
    for i in range(n):
        rows.setdefault(lay.y[i], []).append(lay.x[i])
    for xs in rows.values():
        xs = np.sort(xs)
        assert (np.diff(xs) >= 1 - 1e-6).all(), "nodes and routes of one rank keep one column apart"


def test_chain_is_one_straight_column():
    lay = layered_layout(5, [(0, 1), (1, 2), (2, 3), (3, 4)])
    assert lay.y.tolist() == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(lay.x, 0, atol=1e-9)
    assert lay.width == 0 and lay.height == 5 and not lay.reversed_arcs


def test_skip_connection_runs_beside_the_layers_it_skips():
    lay = layered_layout(4, [(0, 1), (1, 2), (2, 3), (0, 3)])
    check_layout(4, [(0, 1), (1, 2), (2, 3), (0, 3)], lay)
    skip = lay.routes[3]
    assert len(skip) == 4                          # two dummies: ranks 1 and 2
    for point in skip[1:-1]:
        node = int(point[1])                       # the real node of that rank is node `rank`
        assert abs(point[0] - lay.x[node]) >= 1 - 1e-6


def test_resnet50_3d_layout():
    lgraph = lg.resnet3dLayers([224, 224, 64, 3], 10)
    lay = layer_graph_layout(lgraph)
    arcs = [(s, d) for s, _, d, _ in lgraph.edges]
    check_layout(177, arcs, lay)
    names = [layer.Name for layer in lgraph.Layers]
    y = dict(zip(names, lay.y))
    assert y["input"] == 0 and y["output"] == lay.height - 1
    assert y["stack1_block1_skip_conv"] == y["stack1_block1_conv1"]
    assert y["stack1_block1_add"] == y["stack1_block1_bn3"] + 1
    assert lay.height == 169 and 0.9 <= lay.width <= 2
    identity_skip = next(k for k, (s, d) in enumerate(lay.arcs.tolist())
                         if names[s] == "stack1_block1_relu3" and names[d] == "stack1_block2_add")
    assert len(lay.routes[identity_skip]) == 10    # 8 ranks skipped, drawn beside them


def test_resnet101_3d_has_347_layers_and_is_deterministic():
    lgraph = lg.resnet3dLayers([64, 64, 64, 3], 10, **RESNET101)
    first, second = layer_graph_layout(lgraph), layer_graph_layout(lgraph)
    assert len(first.x) == 347
    np.testing.assert_array_equal(first.x, second.x)
    np.testing.assert_array_equal(first.y, second.y)
    assert all(np.array_equal(a, b) for a, b in zip(first.routes, second.routes))


def test_cycle_is_laid_out_with_its_closing_arc_reversed():
    arcs = [(0, 1), (1, 2), (2, 3), (3, 1)]
    lay = layered_layout(4, arcs)
    check_layout(4, arcs, lay)
    assert lay.reversed_arcs == {3}
    assert lay.routes[3][0, 1] > lay.routes[3][-1, 1]        # drawn upwards, 3 -> 1


def test_unconnected_nodes_repeats_and_self_loops():
    arcs = [(0, 1), (0, 1), (2, 2)]
    lay = layered_layout(4, arcs)
    check_layout(4, arcs, lay)
    assert lay.arcs.tolist() == [[0, 1]]
    assert layered_layout(0, []).height == 0


def test_sources_sit_just_above_their_first_consumer():
    lay = layered_layout(5, [(0, 1), (1, 2), (2, 3), (4, 3)])
    assert lay.y[4] == 2


def test_bad_arguments():
    with pytest.raises(ValueError, match="outside 0..1"):
        layered_layout(2, [(0, 2)])
    with pytest.raises(ValueError, match="nonnegative"):
        layered_layout(-1, [])


@st.composite
def random_graphs(draw):
    n = draw(st.integers(1, 14))
    arcs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3 * n))
    return n, arcs


@settings(max_examples=60, deadline=None)
@given(random_graphs())
def test_any_graph_gets_a_valid_layout(graph):
    n, arcs = graph
    lay = layered_layout(n, arcs)
    check_layout(n, arcs, lay)
    dag_arcs = [k for k in range(len(lay.arcs)) if k not in lay.reversed_arcs]
    for k in dag_arcs:
        s, d = lay.arcs[k]
        assert lay.y[d] > lay.y[s]


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 12), st.data())
def test_acyclic_graphs_reverse_nothing(n, data):
    pairs = data.draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=2 * n))
    arcs = [(min(a, b), max(a, b)) for a, b in pairs if a != b]
    assert not layered_layout(n, arcs).reversed_arcs


def test_doctests():
    assert doctest.testmod(layout_module).failed == 0
