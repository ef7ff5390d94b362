"""LayerGraph editing: layerGraph, addLayers, removeLayers, connectLayers, disconnectLayers,
replaceLayer, their errors, value semantics, Connections order and the helper API."""
from __future__ import annotations

import numpy as np
import pytest
from test_graph_fakes import FakeUnpool, FakeUnpoolingMaxPool

from layergraph import (LayerArray, LayerGraph, MException, addLayers, additionLayer,
                        classificationLayer, connectLayers, convolution2dLayer, disconnectLayers,
                        imageInputLayer, layerGraph, reluLayer, removeLayers, replaceLayer)
from layergraph.graph.incoming_layers import make_unique_strings

ID = "nnet_cnn:nnet:cnn:LayerGraph:"


def inp(name=""):
    return imageInputLayer([8, 8, 1], Name=name)


def relu(name=""):
    return reluLayer(Name=name)


def conv(name=""):
    return convolution2dLayer(3, 4, Name=name)


def add(num_inputs, name=""):
    return additionLayer(num_inputs, Name=name)


def out(name=""):
    return classificationLayer(Name=name)


def chain(*names):
    """An input layer, then one ReLU layer per further name."""
    return [inp(names[0])] + [relu(n) for n in names[1:]]


def rows(g):
    return list(g.Connections.itertuples(index=False, name=None))


def snapshot(g):
    return ([layer.Name for layer in g.Layers], rows(g), g.edges, g.InputNames, g.OutputNames)


def raises(reason, func, *args, **kwargs):
    """Call func, expect an MException whose identifier ends in reason; return it."""
    with pytest.raises(MException) as info:
        func(*args, **kwargs)
    assert info.value.identifier.endswith(reason), info.value.identifier
    return info.value


@pytest.fixture
def skip_graph():
    """input -> a -> b -> add/in1 -> out, with a -> add/in2 (a residual skip)."""
    g = layerGraph([inp("input"), relu("a"), relu("b"), add(2, "add"),
                    out("out")])
    return connectLayers(g, "a", "add/in2")


# ---- construction ---------------------------------------------------------------------------

def test_empty_graph():
    g = layerGraph()
    assert len(g.Layers) == 0 and g.InputNames == [] and g.OutputNames == []
    assert list(g.Connections.columns) == ["Source", "Destination"]
    assert g.Connections.shape == (0, 2)
    assert g.topological_order() == [] and not g.has_cycle()


def test_layer_graph_chains_the_array_in_order():
    g = layerGraph(chain("in", "x", "y") + [out("out")])
    assert [layer.Name for layer in g.Layers] == ["in", "x", "y", "out"]
    assert rows(g) == [("in", "x"), ("x", "y"), ("y", "out")]
    assert g.InputNames == ["in"] and g.OutputNames == ["out"]
    assert g.edges == ((0, 0, 1, 0), (1, 0, 2, 0), (2, 0, 3, 0))


def test_layer_graph_accepts_a_single_layer_a_tuple_and_a_layer_array():
    assert [layer.Name for layer in layerGraph(relu("solo")).Layers] == ["solo"]
    assert rows(layerGraph(tuple(chain("i", "r")))) == [("i", "r")]
    assert rows(layerGraph(LayerArray(chain("i", "r")))) == [("i", "r")]
    assert rows(LayerGraph(chain("i", "r"))) == [("i", "r")]


def test_layer_graph_of_a_network_uses_its_graph():
    g = layerGraph(chain("i", "r"))

    class WithMethod:
        def layerGraph(self):
            return g

    class WithAttribute:
        lgraph = g

    assert layerGraph(WithMethod()) is g
    assert layerGraph(WithAttribute()) is g
    assert layerGraph(g) is g


@pytest.mark.parametrize("bad, received", [(3, "int"), ([relu("a"), "b"], "element 1 of type str"),
                                           ({"a": 1}, "dict")])
def test_non_layer_arguments_name_the_type(bad, received):
    err = raises("InvalidLayerArray", layerGraph, bad)
    assert err.identifier == "nnet_cnn:layerGraph:InvalidLayerArray"
    assert received in err.message
    err = raises("InvalidLayerArray", addLayers, layerGraph(), bad)
    assert err.identifier == ID + "InvalidLayerArray"


def test_functions_need_a_layer_graph():
    err = raises("UndefinedFunction", connectLayers, [relu("a")], "a", "b")
    assert err.identifier == "MATLAB:UndefinedFunction" and "list" in err.message


# ---- names ----------------------------------------------------------------------------------

def test_make_unique_strings_follows_matlab():
    assert make_unique_strings(["a", "a", "a"]) == ["a", "a_1", "a_2"]
    assert make_unique_strings(["a", "a"], ["a"]) == ["a_1", "a_2"]
    assert make_unique_strings(["a", "a_1", "a"]) == ["a", "a_1", "a_2"]
    assert make_unique_strings(["b", "c"], ["x"]) == ["b", "c"]


def test_unnamed_layers_get_unique_default_names():
    g = layerGraph([inp(), conv(), relu(), conv(), relu(), out()])
    assert [layer.Name for layer in g.Layers] == [
        "imageinput", "conv_1", "relu_1", "conv_2", "relu_2", "classoutput"]


def test_default_names_avoid_names_in_the_graph_and_in_the_array():
    g = layerGraph([inp("in"), conv("conv")])
    g2 = addLayers(g, [conv(), conv("conv_1")])
    assert [layer.Name for layer in g2.Layers] == ["in", "conv", "conv_2", "conv_1"]
    g3 = addLayers(layerGraph([conv("conv_1")]), conv())
    assert [layer.Name for layer in g3.Layers] == ["conv_1", "conv"]


def test_unnamed_layers_in_a_layer_array_keep_empty_names():
    arr = LayerArray([conv(), conv()])
    assert arr.Name == ["", ""]


def test_duplicate_and_existing_names_are_errors():
    err = raises("LayerNamesMustBeUnique", layerGraph, [relu("a"), relu("a")])
    assert "'a'" in err.message
    err = raises("LayerNamesMustNotAlreadyExist", addLayers, layerGraph(chain("i", "a")),
                 relu("a"))
    assert "'a'" in err.message
    raises("LayerNamesCannotContainForwardSlash", layerGraph, relu("a/b"))


def test_input_and_output_layers_must_sit_at_the_ends_of_a_chained_array():
    err = raises("LayersAfterTheFirstCannotBeInputLayers", layerGraph,
                 [relu("a"), inp("in")])
    assert "'in'" in err.message
    raises("LayersBeforeTheLastCannotBeOutputLayers", addLayers, layerGraph(),
           [out("out"), relu("a")])


# ---- addLayers / removeLayers ---------------------------------------------------------------

def test_add_layers_appends_and_chains_only_the_new_layers():
    g = layerGraph(chain("in", "a"))
    g2 = addLayers(g, [relu("b"), relu("c"), out("out")])
    assert [layer.Name for layer in g2.Layers] == ["in", "a", "b", "c", "out"]
    assert rows(g2) == [("in", "a"), ("b", "c"), ("c", "out")]


def test_remove_layers_drops_layers_and_their_connections(skip_graph):
    g = removeLayers(skip_graph, "b")
    assert [layer.Name for layer in g.Layers] == ["input", "a", "add", "out"]
    assert rows(g) == [("input", "a"), ("a", "add/in2"), ("add", "out")]
    g = removeLayers(skip_graph, ["a", "out", "a"])
    assert [layer.Name for layer in g.Layers] == ["input", "b", "add"]
    assert rows(g) == [("b", "add/in1")]
    assert snapshot(removeLayers(skip_graph, [])) == snapshot(skip_graph)


def test_remove_layers_errors(skip_graph):
    err = raises("LayerDoesNotExist", removeLayers, skip_graph, ["a", "nope"])
    assert "'nope'" in err.message
    raises("InvalidInputForRemoveLayers", removeLayers, skip_graph, 3)
    raises("InvalidInputForRemoveLayers", removeLayers, skip_graph, ["a", 3])


def test_unknown_layer_error_suggests_close_names(skip_graph):
    assert "Did you mean 'add'" in raises("LayerDoesNotExist", removeLayers, skip_graph, "ad").message


# ---- connectLayers / disconnectLayers -------------------------------------------------------

def test_connect_layers_with_ports_and_the_connections_order():
    g = layerGraph([inp("in"), relu("r"), add(3, "add"), out("out")])
    g = disconnectLayers(g, "r", "add/in1")
    g = connectLayers(g, "r", "add/in3")      # inserted first, listed after in1 and in2
    g = connectLayers(g, "in", "add/in2")
    g = connectLayers(g, "r/out", "add/in1")
    assert rows(g) == [("in", "r"), ("in", "add/in2"), ("r", "add/in1"), ("r", "add/in3"),
                       ("add", "out")]


def test_connections_are_sorted_by_source_then_destination_index():
    g = addLayers(layerGraph([inp("in")]), [relu("z"), relu("y")])
    g = addLayers(g, relu("x"))
    g = connectLayers(g, "in", "x")          # x (index 3) before z (index 1) in insertion
    g = connectLayers(g, "in", "z")
    assert rows(g) == [("in", "z"), ("in", "x"), ("z", "y")]


def test_multi_output_sources_get_a_port_suffix():
    g = layerGraph([inp("in"), FakeUnpoolingMaxPool("pool"), relu("r"), FakeUnpool("up")])
    g = connectLayers(g, "pool/indices", "up/indices")
    g = connectLayers(g, "pool/size", "up/size")
    assert rows(g) == [("in", "pool"), ("pool/out", "r"), ("pool/indices", "up/indices"),
                       ("pool/size", "up/size"), ("r", "up/in")]
    assert g.input_sources(3) == [(2, 0), (1, 1), (1, 2)]
    assert g.output_targets(1) == [[(2, 0)], [(3, 1)], [(3, 2)]]


@pytest.mark.parametrize("s, d, reason", [
    ("nope", "b", "LayerDoesNotExist"),
    ("a", "nope", "LayerDoesNotExist"),
    ("out", "b", "CannotConnectFromOutputLayer"),
    ("a", "input", "CannotConnectToInputLayer"),
    ("b", "b", "CannotConnectLayerToItself"),
    ("a", "b", "ConnectionAlreadyExists"),
    ("input", "b", "LayerInputIsNotFree"),
    ("a", "add/in3", "NonExistentLayerInput"),
    ("a/indices", "out", "NonExistentLayerOutput"),
    ("input", "add", "MustSpecifyInputForMultipleInputLayer"),
    ("a/out/x", "b", "CannotHaveMultipleForwardSlashesInSource"),
    ("a", "add/in1/x", "CannotHaveMultipleForwardSlashesInDestination"),
    (1, "b", "SourceMustBeString"),
    ("a", None, "DestinationMustBeString"),
])
def test_connect_layers_errors(skip_graph, s, d, reason):
    before = snapshot(skip_graph)
    err = raises(reason, connectLayers, skip_graph, s, d)
    assert err.identifier == ID + reason
    assert snapshot(skip_graph) == before


def test_connect_errors_name_the_layers(skip_graph):
    assert "'out'" in raises("CannotConnectFromOutputLayer", connectLayers, skip_graph, "out", "b").message
    msg = raises("LayerInputIsNotFree", connectLayers, skip_graph, "input", "b").message
    assert "'b'" in msg and "'a'" in msg
    msg = raises("NonExistentLayerInput", connectLayers, skip_graph, "a", "add/in3").message
    assert "'in3'" in msg and "'in1', 'in2'" in msg


def test_must_specify_output_for_multiple_output_layer():
    g = layerGraph([inp("in"), FakeUnpoolingMaxPool("pool"), relu("r")])
    raises("MustSpecifyOutputForMultipleOutputLayer", connectLayers,
           disconnectLayers(g, "pool/out", "r"), "pool", "r")


def test_disconnect_layers(skip_graph):
    g = disconnectLayers(skip_graph, "a", "add/in2")
    assert rows(g) == [("input", "a"), ("a", "b"), ("b", "add/in1"), ("add", "out")]
    assert snapshot(disconnectLayers(g, "a", "add/in2")) == snapshot(g)   # absent: silent
    assert snapshot(disconnectLayers(g, "input", "b")) == snapshot(g)
    raises("LayerDoesNotExist", disconnectLayers, g, "a", "nope")
    raises("NonExistentLayerInput", disconnectLayers, g, "a", "add/in7")
    raises("MustSpecifyInputForMultipleInputLayer", disconnectLayers, g, "a", "add")


def test_a_layer_may_feed_two_ports_of_the_same_layer():
    g = layerGraph([inp("in"), relu("r"), add(2, "add")])
    g = connectLayers(g, "r", "add/in2")
    assert rows(g) == [("in", "r"), ("r", "add/in1"), ("r", "add/in2")]
    assert g.output_targets(1) == [[(2, 0), (2, 1)]]


# ---- cycles and topological order -----------------------------------------------------------

def test_connect_layers_may_create_a_cycle_which_the_order_reports():
    g = layerGraph([inp("in"), add(2, "add"), relu("p"), relu("q")])
    g = connectLayers(g, "q", "add/in2")          # add -> p -> q -> add
    assert g.has_cycle()
    err = raises("GraphMustBeAcyclic", g.topological_order)
    assert "'add' -> 'p' -> 'q' -> 'add'" in err.message
    assert not disconnectLayers(g, "q", "add/in2").has_cycle()


def test_topological_order_is_stable_by_layers_index():
    g = layerGraph([inp("in"), add(2, "add"), out("out")])
    g = addLayers(g, [relu("late1"), relu("late2")])
    g = connectLayers(connectLayers(g, "in", "late1"), "late2", "add/in2")
    assert [g.Layers[i].Name for i in g.topological_order()] == [
        "in", "late1", "late2", "add", "out"]
    g = addLayers(layerGraph(), [relu("c")])
    g = addLayers(g, [relu("a"), relu("b")])
    assert g.topological_order() == [0, 1, 2]


# ---- replaceLayer ---------------------------------------------------------------------------

def test_replace_layer_by_name_puts_the_new_layers_in_place(skip_graph):
    g = replaceLayer(skip_graph, "a", [conv("c1"), relu("r1")])
    assert [layer.Name for layer in g.Layers] == ["input", "c1", "r1", "b", "add", "out"]
    assert rows(g) == [("input", "c1"), ("c1", "r1"), ("r1", "b"), ("r1", "add/in2"),
                       ("b", "add/in1"), ("add", "out")]
    g = replaceLayer(skip_graph, "b", relu("b"))      # the old name may be reused
    assert snapshot(g) == snapshot(skip_graph)


def test_replace_layer_by_order_maps_ports_by_position(skip_graph):
    err = raises("NonExistentLayerInput", replaceLayer, skip_graph, "add", FakeUnpool("up"))
    assert "named 'in2'" in err.message and "'in', 'indices', 'size'" in err.message
    g = replaceLayer(skip_graph, "add", FakeUnpool("up"), ReconnectBy="order")
    assert rows(g) == [("input", "a"), ("a", "b"), ("a", "up/indices"), ("b", "up/in"),
                       ("up", "out")]
    g2 = replaceLayer(skip_graph, "add", FakeUnpool("up"), "reconnectby", "ord")
    assert snapshot(g2) == snapshot(g)


def test_replace_layer_by_name_matches_port_names():
    g = layerGraph([inp("in"), relu("r"), add(2, "add")])
    g = connectLayers(g, "in", "add/in2")
    g2 = replaceLayer(g, "add", add(3, "add3"))
    assert rows(g2) == [("in", "r"), ("in", "add3/in2"), ("r", "add3/in1")]
    err = raises("NonExistentLayerInput", replaceLayer, g, "add", relu("one"),
                 ReconnectBy="order")
    assert "number 2" in err.message


def test_replace_layer_errors(skip_graph):
    raises("LayerDoesNotExist", replaceLayer, skip_graph, "nope", relu("x"))
    raises("LayerNamesMustNotAlreadyExist", replaceLayer, skip_graph, "a", relu("b"))
    raises("InvalidLayerArray", replaceLayer, skip_graph, "a", [])
    raises("CannotConnectToInputLayer", replaceLayer, skip_graph, "a", inp("i2"))
    raises("CannotConnectFromOutputLayer", replaceLayer, skip_graph, "a", out("o2"))
    err = raises("unrecognizedStringChoice", replaceLayer, skip_graph, "a", relu("x"),
                 ReconnectBy="position")
    assert "position" in err.message
    raises("invalidParameterName", replaceLayer, skip_graph, "a", relu("x"), Reconnect_By="name")


def test_replace_an_unconnected_layer_with_an_input_layer():
    g = replaceLayer(layerGraph([relu("first"), relu("r")]), "first", inp("in"))
    assert rows(g) == [("in", "r")] and g.InputNames == ["in"]


# ---- value semantics ------------------------------------------------------------------------

def test_every_edit_leaves_its_argument_unchanged(skip_graph):
    before = snapshot(skip_graph)
    edits = [
        lambda g: addLayers(g, relu("new")),
        lambda g: removeLayers(g, ["a", "add"]),
        lambda g: connectLayers(disconnectLayers(g, "b", "add/in1"), "input", "add/in1"),
        lambda g: disconnectLayers(g, "a", "add/in2"),
        lambda g: replaceLayer(g, "b", [relu("b1"), relu("b2")]),
        lambda g: g.with_layers([layer.copy() for layer in g.Layers]),
    ]
    for edit in edits:
        edit(skip_graph)
        assert snapshot(skip_graph) == before
    assert all(snapshot(edit(skip_graph)) != before for edit in edits[:-1])


def test_layers_are_copied_into_and_out_of_the_graph():
    layer = relu("a")
    g = layerGraph([inp("in"), layer])
    layer.Name = "changed"
    g.Layers[1].Name = "changed too"
    g.layer("a").Name = "and again"
    assert [x.Name for x in g.Layers] == ["in", "a"]
    assert g.layer_index("a") == 1


def test_layer_arrays_are_not_shared_with_the_caller():
    layer = conv("c")
    layer.Weights = np.ones((3, 3, 1, 4), dtype=np.float32)
    g = layerGraph([inp("in"), layer])
    layer.Weights[0, 0, 0, 0] = 5
    assert g.Layers["c"].Weights[0, 0, 0, 0] == 1


def test_unnamed_argument_layers_keep_their_empty_name():
    layer = conv()
    g = layerGraph(layer)
    assert layer.Name == "" and g.Layers[0].Name == "conv"


# ---- helper API -----------------------------------------------------------------------------

def test_helpers(skip_graph):
    g = skip_graph
    assert g.layer_index("add") == 3 and g.layer("add").Name == "add"
    assert g.edges == ((0, 0, 1, 0), (1, 0, 2, 0), (1, 0, 3, 1), (2, 0, 3, 0), (3, 0, 4, 0))
    assert g.input_sources(3) == [(2, 0), (1, 0)]
    assert g.input_sources(0) == []
    assert g.output_targets(1) == [[(2, 0), (3, 1)]]
    assert g.output_targets(4) == []
    assert g.topological_order() == [0, 1, 2, 3, 4]
    half = removeLayers(g, "b")
    assert half.input_sources(2) == [None, (1, 0)]


def test_with_layers_keeps_connections_and_checks_names(skip_graph):
    trained = [layer.copy() for layer in skip_graph.Layers]
    trained[1] = conv("a")
    g = skip_graph.with_layers(trained)
    assert rows(g) == rows(skip_graph) and g.Layers[1].Type == "2-D Convolution"
    trained[1].Name = "other"
    err = raises("LayersMustMatchGraph", skip_graph.with_layers, trained)
    assert "'a'" in err.message
    raises("LayersMustMatchGraph", skip_graph.with_layers, trained[:2])
    trained[1] = add(2, "a")
    raises("LayersMustMatchGraph", skip_graph.with_layers, trained)


def test_layer_array_indexing(skip_graph):
    arr = skip_graph.Layers
    assert len(arr) == 5 and arr[-1].Name == "out" and arr["add"].Name == "add"
    assert isinstance(arr[1:3], LayerArray) and arr[1:3].Name == ["a", "b"]
    raises("LayerDoesNotExist", arr.__getitem__, "nope")
    with pytest.raises(IndexError):
        arr[5]
    raises("InvalidLayer", LayerArray, [relu("a"), 1])
