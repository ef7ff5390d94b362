"""Random edit sequences keep LayerGraph's invariants and match a simple name-based model."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from test_graph_fakes import FakeUnpool, FakeUnpoolingMaxPool

from layergraph import (MException, addLayers, additionLayer, classificationLayer, connectLayers,
                        disconnectLayers, imageInputLayer, layerGraph, reluLayer, removeLayers,
                        replaceLayer)
from layergraph.graph.layer_graph import _matlab_edge_order

NAMES = ["a", "b", "c", "d", "e", "f", "g", ""]
KINDS = [
    lambda name: reluLayer(Name=name),
    lambda name: reluLayer(Name=name),
    lambda name: additionLayer(2, Name=name),
    lambda name: imageInputLayer([4, 4, 1], Name=name),
    lambda name: classificationLayer(Name=name),
    FakeUnpoolingMaxPool,
    FakeUnpool,
]


def named_edges(g):
    """The graph's connections as (src name, src port name, dst name, dst port name)."""
    layers = list(g.Layers)
    return {(layers[s].Name, layers[s].OutputNames[sp], layers[d].Name, layers[d].InputNames[dp])
            for s, sp, d, dp in g.edges}


def snapshot(g):
    return ([layer.Name for layer in g.Layers], g.Connections.values.tolist(), g.edges)


def check_invariants(g):
    layers = list(g.Layers)
    names = [layer.Name for layer in layers]
    assert all(names) and len(set(names)) == len(names)
    edges = g.edges
    assert list(edges) == sorted(set(edges), key=_matlab_edge_order)
    for s, sp, d, dp in edges:
        assert 0 <= s < len(layers) and 0 <= d < len(layers) and s != d
        assert sp < layers[s].NumOutputs and dp < layers[d].NumInputs
    inputs = [(d, dp) for _, _, d, dp in edges]
    assert len(inputs) == len(set(inputs))
    for i, layer in enumerate(layers):
        expected = [None] * layer.NumInputs
        for s, sp, d, dp in edges:
            if d == i:
                expected[dp] = (s, sp)
        assert g.input_sources(i) == expected
    table = g.Connections
    assert list(table.columns) == ["Source", "Destination"] and len(table) == len(edges)
    for (src, dst), (s, sp, d, dp) in zip(table.itertuples(index=False, name=None), edges):
        source, destination = layers[s], layers[d]
        assert src == (source.Name if source.NumOutputs == 1
                       else f"{source.Name}/{source.OutputNames[sp]}")
        assert dst == (destination.Name if destination.NumInputs == 1
                       else f"{destination.Name}/{destination.InputNames[dp]}")
    if g.has_cycle():
        try:
            g.topological_order()
        except MException as err:
            assert err.identifier.endswith("GraphMustBeAcyclic")
        else:
            raise AssertionError("a cyclic graph gave a topological order")
    else:
        position = {i: k for k, i in enumerate(g.topological_order())}
        assert sorted(position) == list(range(len(layers)))
        assert all(position[s] < position[d] for s, _, d, _ in edges)


def draw_layer(data):
    return data.draw(st.sampled_from(KINDS))(data.draw(st.sampled_from(NAMES)))


def draw_endpoint(data, g, kind):
    layers = list(g.Layers)
    if not layers:
        return "nothing"
    layer = data.draw(st.sampled_from(layers))
    ports = list(layer.OutputNames if kind == "output" else layer.InputNames) + ["bad"]
    port = data.draw(st.sampled_from([None] + ports))
    return layer.Name if port is None else f"{layer.Name}/{port}"


def apply_random_edit(data, g, model):
    """One random edit; returns the new graph and model (unchanged when the edit raised)."""
    names, edges = model
    op = data.draw(st.sampled_from(["add", "add", "remove", "connect", "connect", "disconnect",
                                    "replace"]))
    if op == "add":
        new = [draw_layer(data) for _ in range(data.draw(st.integers(1, 3)))]
        g2 = addLayers(g, new)
        added = [layer.Name for layer in list(g2.Layers)[len(names):]]
        chained = {(a, new[i].OutputNames[0], b, new[i + 1].InputNames[0])
                   for i, (a, b) in enumerate(zip(added, added[1:]))}
        return g2, (names + added, edges | chained)
    if op == "remove":
        drop = data.draw(st.lists(st.sampled_from(names + ["zz"]), max_size=3)) if names else []
        g2 = removeLayers(g, drop)
        return g2, ([n for n in names if n not in drop],
                    {e for e in edges if e[0] not in drop and e[2] not in drop})
    s, d = draw_endpoint(data, g, "output"), draw_endpoint(data, g, "input")
    if op in ("connect", "disconnect"):
        g2 = (connectLayers if op == "connect" else disconnectLayers)(g, s, d)
        added, removed = named_edges(g2) - edges, edges - named_edges(g2)
        assert len(added) == (op == "connect") and len(added) + len(removed) <= 1
        for src, _, dst, _ in added | removed:
            assert (src, dst) == (s.split("/")[0], d.split("/")[0])
        return g2, (names, (edges | added) - removed)
    old = data.draw(st.sampled_from(names)) if names else "zz"
    new_name = data.draw(st.sampled_from(NAMES[:-1]))
    mode = data.draw(st.sampled_from(["name", "order"]))
    g2 = replaceLayer(g, old, g.layer(old).copy(Name=new_name), ReconnectBy=mode)
    rename = {old: new_name}
    return g2, ([rename.get(n, n) for n in names],
                {(rename.get(a, a), p, rename.get(b, b), q) for a, p, b, q in edges})


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_random_edit_sequences_keep_invariants(data):
    g = layerGraph([imageInputLayer([4, 4, 1], Name="in"), reluLayer(Name="r"),
                    additionLayer(2, Name="add"), classificationLayer(Name="out")])
    model = (["in", "r", "add", "out"], named_edges(g))
    for _ in range(data.draw(st.integers(1, 12))):
        before = snapshot(g)
        try:
            g2, model2 = apply_random_edit(data, g, model)
        except MException:
            assert snapshot(g) == before
            continue
        assert snapshot(g) == before                      # the argument is never changed
        check_invariants(g2)
        assert [layer.Name for layer in g2.Layers] == model2[0]
        assert named_edges(g2) == model2[1]
        g, model = g2, model2
