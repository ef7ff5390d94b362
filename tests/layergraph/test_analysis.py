"""analyzeNetwork: activation sizes, learnables, depth, issues and the printed table."""
from __future__ import annotations

import doctest
import functools
import math

import pytest

import layergraph as lg
from layergraph.graph import analysis
from layergraph.layers.errors import MException
from test_builders_model import closed_form_depth, closed_form_learnables, model_activations, model_resnet

# torchvision's parameter counts (1000 classes, 3 channels, no convolution biases): the same
# architectures, so ours are these plus one bias per convolution filter.
TORCHVISION_PARAMS = {"resnet50": 25_557_032, "resnet101": 44_549_160, "resnet34": 21_797_672}
RESNET101 = {"StackDepth": (3, 4, 23, 3), "NumFilters": (64, 128, 256, 512)}


@functools.lru_cache(maxsize=None)
def default_3d_analysis():
    return lg.analyzeNetwork(lg.resnet3dLayers([224, 224, 64, 3], 10))


def test_layer_info_table_columns_and_rows():
    info = default_3d_analysis()
    assert list(info.LayerInfo.columns) == ["Name", "Type", "ActivationSizes", "ActivationFormats",
                                            "LearnableSizes", "NumLearnables", "StateSizes"]
    assert len(info.LayerInfo) == 177
    assert list(info.LayerInfo["Name"]) == model_resnet(3).names
    assert list(info.Issues.columns) == ["Severity", "LayerNames", "Description"] and info.Issues.empty


def test_every_activation_size_of_the_default_3d_network():
    info = default_3d_analysis()
    expected = model_activations(model_resnet(3), (224, 224, 64, 3))
    got = dict(zip(info.LayerInfo["Name"], info.LayerInfo["ActivationSizes"]))
    assert got == {name: size + (1,) for name, size in expected.items()}
    assert got["maxpool1"] == (56, 56, 16, 64, 1)
    assert got["stack1_block3_relu3"] == (56, 56, 16, 256, 1)
    assert got["stack4_block3_relu3"] == (7, 7, 2, 2048, 1)
    formats = dict(zip(info.LayerInfo["Name"], info.LayerInfo["ActivationFormats"]))
    assert formats["conv1"] == formats["gap"] == "SSSCB"


def test_learnable_and_state_sizes_of_some_layers():
    rows = default_3d_analysis().LayerInfo.set_index("Name")
    assert rows.loc["conv1", "LearnableSizes"] == {"Weights": (7, 7, 7, 3, 64), "Bias": (1, 1, 1, 64)}
    assert rows.loc["conv1", "NumLearnables"] == 7 ** 3 * 3 * 64 + 64
    assert rows.loc["bn1", "LearnableSizes"] == {"Offset": (1, 1, 1, 64), "Scale": (1, 1, 1, 64)}
    assert rows.loc["bn1", "StateSizes"] == {"TrainedMean": (1, 1, 1, 64), "TrainedVariance": (1, 1, 1, 64)}
    assert rows.loc["stack2_block1_skip_conv", "LearnableSizes"]["Weights"] == (1, 1, 1, 256, 512)
    assert rows.loc["fc", "LearnableSizes"] == {"Weights": (10, 2048), "Bias": (10, 1)}
    assert rows.loc["relu1", "LearnableSizes"] == {} and rows.loc["relu1", "NumLearnables"] == 0


@pytest.mark.parametrize("ndim,input_size", [(2, [224, 224, 3]), (3, [224, 224, 64, 3])])
@pytest.mark.parametrize("options,name,depth", [({}, "resnet50", 50), (RESNET101, "resnet101", 101),
                                                ({"BottleneckType": "none"}, "resnet34", 34)])
def test_total_learnables_of_the_standard_resnets(ndim, input_size, options, name, depth):
    builder = lg.resnetLayers if ndim == 2 else lg.resnet3dLayers
    info = lg.analyzeNetwork(builder(input_size, 1000, **options))
    assert info.TotalLearnables == closed_form_learnables(ndim, 3, 1000, **options)
    assert info.NetworkDepth == depth == closed_form_depth(**options)
    if ndim == 2:
        conv_biases = sum(x.NumFilters for x in builder(input_size, 1000, **options).Layers
                          if type(x).__name__ == "Convolution2DLayer")
        assert info.TotalLearnables - conv_biases == TORCHVISION_PARAMS[name]


@pytest.mark.parametrize("options", [
    {"StackDepth": [2, 2], "NumFilters": [64, 128]},
    {"BottleneckType": "none", "StackDepth": [2, 2, 2], "NumFilters": [64, 128, 256]},
])
def test_documented_resnet14_depths(options):
    assert lg.analyzeNetwork(lg.resnet3dLayers([224, 224, 64, 3], 10, **options)).NetworkDepth == 14


def test_printed_table_uses_matlab_notation():
    text = str(default_3d_analysis())
    assert "56(S) × 56(S) × 16(S) × 256(C) × 1(B)" in text
    assert "Weights 7×7×7×3×64" in text and "Bias 1×1×1×64" in text
    assert f"Total learnables: {default_3d_analysis().TotalLearnables}" in text
    assert "Issues: none" in text
    assert repr(default_3d_analysis()) == text


# ---- issues ------------------------------------------------------------------------------

def small_chain(*middle, output=True):
    head = [lg.imageInputLayer([8, 8, 1], Name="in"), lg.convolution2dLayer(3, 4, Padding="same", Name="c1")]
    tail = [lg.fullyConnectedLayer(2, Name="fc"), lg.softmaxLayer(Name="sm")]
    return head + list(middle) + tail + ([lg.classificationLayer(Name="out")] if output else [])


def issue_rows(info):
    return [(r.Severity, list(r.LayerNames), r.Description) for r in info.Issues.itertuples()]


def test_a_layer_array_is_analysed_as_its_layer_graph():
    info = lg.analyzeNetwork(small_chain(lg.reluLayer(Name="r")))
    assert info.Issues.empty
    assert info.TotalLearnables == (9 * 4 + 4) + (8 * 8 * 4 * 2 + 2)
    assert info.NetworkDepth == 2
    assert list(info.LayerInfo["ActivationSizes"])[:3] == [(8, 8, 1, 1), (8, 8, 4, 1), (8, 8, 4, 1)]


def test_unconnected_input_is_an_error_and_learnables_are_nan():
    lgraph = lg.resnet3dLayers([64, 64, 64], 3, StackDepth=[1, 1], NumFilters=[2, 4])
    lgraph = lg.disconnectLayers(lgraph, "stack2_block1_skip_bn", "stack2_block1_add/in2")
    info = lg.analyzeNetwork(lgraph)
    rows = issue_rows(info)
    assert any(sev == "Error" and names == ["stack2_block1_add"] and "in2" in text for sev, names, text in rows)
    assert any(names == ["stack2_block1_skip_bn"] and "output" in text for _, names, text in rows)
    assert math.isnan(info.TotalLearnables) and "Total learnables: NaN" in str(info)


def test_cycle_is_an_error_naming_its_layers():
    layers = small_chain(lg.additionLayer(2, Name="add"), lg.reluLayer(Name="r"))
    lgraph = lg.connectLayers(lg.layerGraph(layers), "r", "add/in2")
    info = lg.analyzeNetwork(lgraph)
    cycle = [names for sev, names, text in issue_rows(info) if "cycle" in text]
    assert cycle == [["add", "r"]]
    assert math.isnan(info.TotalLearnables)


def test_missing_output_layer_depends_on_target_usage():
    layers = small_chain(output=False)
    rows = issue_rows(lg.analyzeNetwork(layers))
    assert ("Error", [], "Missing output layer. The network must have at least one output layer.") in rows
    assert lg.analyzeNetwork(layers, TargetUsage="dlnetwork").Issues.empty
    with_output = issue_rows(lg.analyzeNetwork(small_chain(), "TargetUsage", "dln"))
    assert [names for _, names, _ in with_output] == [["out"]]


def test_missing_input_layer_is_an_error():
    layers = [lg.reluLayer(Name="r"), lg.fullyConnectedLayer(2, Name="fc"), lg.softmaxLayer(Name="sm"),
              lg.classificationLayer(Name="out")]
    rows = issue_rows(lg.analyzeNetwork(layers))
    assert any("Missing input layer" in text for _, _, text in rows)
    assert any(names == ["r"] and "not connected" in text for _, names, text in rows)


def test_addition_of_different_sizes_is_an_error_on_the_addition():
    lgraph = lg.layerGraph(small_chain(lg.additionLayer(2, Name="add")))
    lgraph = lg.addLayers(lgraph, [lg.convolution2dLayer(1, 7, Name="side")])
    lgraph = lg.connectLayers(lg.connectLayers(lgraph, "in", "side"), "side", "add/in2")
    info = lg.analyzeNetwork(lgraph)
    errors = [(names, text) for sev, names, text in issue_rows(info) if sev == "Error"]
    assert [names for names, _ in errors] == [["add"]]
    row = info.LayerInfo.set_index("Name").loc["fc"]
    assert row["ActivationSizes"] == () and row["LearnableSizes"] == {}


def test_input_smaller_than_the_window_is_an_error_on_that_layer():
    layers = [lg.imageInputLayer([4, 4, 1], Name="in"), lg.convolution2dLayer(5, 2, Name="big"),
              lg.fullyConnectedLayer(2, Name="fc"), lg.softmaxLayer(Name="sm"),
              lg.classificationLayer(Name="out")]
    errors = [names for sev, names, _ in issue_rows(lg.analyzeNetwork(layers)) if sev == "Error"]
    assert errors == [["big"]]


def test_anything_else_is_rejected():
    with pytest.raises(MException) as err:
        lg.analyzeNetwork(42)
    assert err.value.identifier == "nnet_cnn:analyzeNetwork:InvalidNetwork"
    with pytest.raises(MException) as err:
        lg.analyzeNetwork(small_chain(), TargetUsage="cpu")
    assert err.value.identifier == "MATLAB:analyzeNetwork:unrecognizedStringChoice"


def test_derived_sizes_equal_the_initialized_arrays_of_a_dlnetwork():
    options = {"StackDepth": [1, 2], "NumFilters": [2, 3], "InitialNumFilters": 4}
    net = lg.resnet3dNetwork([16, 16, 16, 2], 3, **options)
    from_arrays = lg.analyzeNetwork(net)
    assert from_arrays.Issues.empty  # a dlnetwork: no output layer needed, softmax is its output
    derived = lg.analyzeNetwork(lg.resnet3dLayers([16, 16, 16, 2], 3, **options))
    stored = from_arrays.LayerInfo.set_index("Name")
    for row in derived.LayerInfo.itertuples():
        if row.Name != "output":
            assert stored.loc[row.Name, "LearnableSizes"] == row.LearnableSizes, row.Name
            assert stored.loc[row.Name, "StateSizes"] == row.StateSizes, row.Name
    assert from_arrays.TotalLearnables == derived.TotalLearnables \
        == closed_form_learnables(3, 2, 3, **options)


def test_docstring_examples_run():
    result = doctest.testmod(analysis)
    assert result.attempted >= 3 and result.failed == 0


def test_networks_are_analysed_like_their_graphs():
    layers = [lg.imageInputLayer([8, 8, 1], Name="in"), lg.convolution2dLayer(3, 4, Name="c"),
              lg.reluLayer(Name="r"), lg.fullyConnectedLayer(2, Name="fc"), lg.softmaxLayer(Name="sm")]
    net = lg.dlnetwork(layers)
    dag = lg.assembleNetwork(lg.connectLayers(
        lg.addLayers(lg.layerGraph(list(net.Layers)), [lg.classificationLayer(Name="out", Classes=["a", "b"])]),
        "sm", "out"))
    expected = (3 * 3 * 1 * 4 + 4) + (6 * 6 * 4 * 2 + 2)
    for info in (lg.analyzeNetwork(net), lg.analyzeNetwork(dag)):
        assert info.Issues.empty and info.TotalLearnables == expected
        assert info.LayerInfo.set_index("Name").loc["c", "ActivationSizes"] == (6, 6, 4, 1)
