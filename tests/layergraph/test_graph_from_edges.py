"""LayerGraph.from_edges: a whole graph from named layers and port edges, with its checks."""
from __future__ import annotations

import pytest

from layergraph import (LayerGraph, MException, additionLayer, classificationLayer,
                        imageInputLayer, reluLayer)

ID = "nnet_cnn:nnet:cnn:LayerGraph:"


def diamond_layers():
    return [imageInputLayer([4, 4, 1], Name="in"), reluLayer(Name="a"), reluLayer(Name="b"),
            additionLayer(2, Name="add"), classificationLayer(Name="out")]


DIAMOND_EDGES = [(0, 0, 1, 0), (0, 0, 2, 0), (1, 0, 3, 0), (2, 0, 3, 1), (3, 0, 4, 0)]


def test_equals_the_graph_made_by_editing():
    built = LayerGraph.from_edges(diamond_layers(), DIAMOND_EDGES)
    layers = diamond_layers()
    edited = (LayerGraph(layers[:2]).addLayers(layers[2]).addLayers(layers[3:])
              .connectLayers("in", "b").connectLayers("a", "add/in1").connectLayers("b", "add/in2"))
    assert built.edges == edited.edges
    assert built.Connections.equals(edited.Connections)
    assert [(r.Source, r.Destination) for r in built.Connections.itertuples()] == [
        ("in", "a"), ("in", "b"), ("a", "add/in1"), ("b", "add/in2"), ("add", "out")]


def test_layers_are_copied_on_the_way_in():
    layers = diamond_layers()
    built = LayerGraph.from_edges(layers, DIAMOND_EDGES)
    layers[1].Name = "renamed"
    assert built.Layers[1].Name == "a"


@pytest.mark.parametrize("edge", [(0, 0, 9, 0), (0, 1, 1, 0), (0, 0, 3, 2), (0, 0, 1),
                                  [0, 0, 1, 0], (0.0, 0, 1, 0), (True, 0, 1, 0), (-1, 0, 1, 0)])
def test_an_edge_naming_no_existing_port_is_rejected(edge):
    with pytest.raises(MException) as err:
        LayerGraph.from_edges(diamond_layers(), [edge])
    assert err.value.identifier == ID + "InvalidEdge"
    assert repr(edge) in err.value.message


def test_a_self_loop_is_rejected():
    with pytest.raises(MException) as err:
        LayerGraph.from_edges(diamond_layers(), [(1, 0, 1, 0)])
    assert err.value.identifier == ID + "CannotConnectLayerToItself"


def test_an_input_port_fed_twice_is_rejected():
    with pytest.raises(MException) as err:
        LayerGraph.from_edges(diamond_layers(), [(1, 0, 3, 0), (2, 0, 3, 0)])
    assert err.value.identifier == ID + "LayerInputIsNotFree"
    assert "'add/in1'" in err.value.message


@pytest.mark.parametrize("names, reason", [
    (["in", "a", "a", "add", "out"], "LayerNamesMustBeUnique"),
    (["in", "a/x", "b", "add", "out"], "LayerNamesCannotContainForwardSlash"),
    (["in", "", "b", "add", "out"], "InvalidLayerArray"),
])
def test_layer_names_are_checked(names, reason):
    layers = [layer.copy(Name=name) for layer, name in zip(diamond_layers(), names)]
    with pytest.raises(MException) as err:
        LayerGraph.from_edges(layers, DIAMOND_EDGES)
    assert err.value.identifier == ID + reason


def test_non_layers_are_rejected():
    with pytest.raises(MException) as err:
        LayerGraph.from_edges([reluLayer(Name="a"), "b"], [])
    assert err.value.identifier == ID + "InvalidLayerArray"
