"""analysis.propagate_sizes: the topological size walk, on complete and unfinished graphs."""
from __future__ import annotations

import os

import numpy as np

import layergraph as lg
from layergraph.graph.analysis import propagate_sizes


def unfinished_graph():
    """in -> conv -> relu -> add(in1); add's in2 is not connected yet; add -> fc."""
    g = lg.layerGraph([lg.imageInputLayer([6, 6, 2], Name="in"),
                       lg.convolution2dLayer(3, 4, Name="conv"), lg.reluLayer(Name="relu")])
    g = g.addLayers([lg.additionLayer(2, Name="add"), lg.fullyConnectedLayer(3, Name="fc")])
    return g.connectLayers("relu", "add/in1")


def test_visits_in_order_with_the_input_sizes_and_skips_what_an_open_input_feeds():
    seen = []

    def visit(layer, in_sizes):
        seen.append((layer.Name, [tuple(s) for s in in_sizes]))
        return layer
    layers = propagate_sizes(unfinished_graph(), visit)
    assert seen == [("in", []), ("conv", [(6, 6, 2)]), ("relu", [(4, 4, 4)])]
    assert [layer.Name for layer in layers] == ["in", "conv", "relu", "add", "fc"]


def test_an_unfinished_layer_graph_saves_and_loads(tmp_path):
    g = unfinished_graph()
    conv = g.layer("conv").copy(Weights=np.ones((3, 3, 2, 4), np.float32))
    g = lg.replaceLayer(g, "conv", conv)
    path = os.fspath(tmp_path / "g.lgnet")
    lg.saveNetwork(g, path)
    loaded = lg.loadNetwork(path)
    assert loaded.Connections.equals(g.Connections)
    assert np.array_equal(loaded.layer("conv").Weights, conv.Weights)
