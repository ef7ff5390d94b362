"""resnet3dLayers / resnetLayers: MATLAB's documented figures, layer settings, argument validation."""
from __future__ import annotations

import doctest
import functools

import numpy as np
import pytest

import layergraph as lg
from layergraph.builders import resnet as builders
from layergraph.layers.errors import MException
from test_builders_model import closed_form_counts, model_resnet

BUILDERS = {2: lg.resnetLayers, 3: lg.resnet3dLayers}
INPUT_SIZE = {2: [224, 224, 3], 3: [224, 224, 64, 3]}


@functools.lru_cache(maxsize=None)
def default_net(ndim: int):
    return BUILDERS[ndim](INPUT_SIZE[ndim], 10)


def connection_rows(lgraph) -> list[tuple[str, str]]:
    return list(zip(lgraph.Connections["Source"], lgraph.Connections["Destination"]))


def layer(lgraph, name: str):
    (found,) = [x for x in lgraph.Layers if x.Name == name]
    return found


# ---- documented figures ------------------------------------------------------------------

@pytest.mark.parametrize("ndim,options,n_layers,n_connections", [
    (3, {}, 177, 192),
    (2, {}, 177, 192),
    (3, {"StackDepth": [3, 4, 23, 3], "NumFilters": [64, 128, 256, 512]}, 347, 379),
    (2, {"StackDepth": [3, 4, 23, 3], "NumFilters": [64, 128, 256, 512]}, 347, 379),
    (3, {"BottleneckType": "none"}, 127, 142),
])
def test_documented_layer_and_connection_counts(ndim, options, n_layers, n_connections):
    lgraph = BUILDERS[ndim](INPUT_SIZE[ndim], 10, **options) if options else default_net(ndim)
    assert len(lgraph.Layers) == n_layers
    assert len(lgraph.Connections) == n_connections
    assert list(lgraph.Connections.columns) == ["Source", "Destination"]
    assert list(lgraph.InputNames) == ["input"] and list(lgraph.OutputNames) == ["output"]


@pytest.mark.parametrize("ndim", [2, 3])
def test_default_names_and_connections_follow_the_rules(ndim):
    lgraph, model = default_net(ndim), model_resnet(ndim)
    assert [x.Name for x in lgraph.Layers] == model.names
    assert connection_rows(lgraph) == model.sorted_connections()


def test_connections_are_sorted_by_layer_index_not_insertion():
    rows = connection_rows(default_net(3))
    assert rows[4:6] == [("maxpool1", "stack1_block1_conv1"), ("maxpool1", "stack1_block1_skip_conv")]
    assert rows.index(("stack1_block1_skip_bn", "stack1_block1_add/in2")) == \
        rows.index(("stack1_block1_relu3", "stack1_block2_add/in2")) + 2
    assert rows[-1] == ("softmax", "output")


@pytest.mark.parametrize("ndim,classes", [
    (3, {"input": "Image3DInputLayer", "conv1": "Convolution3DLayer", "maxpool1": "MaxPooling3DLayer",
         "gap": "GlobalAveragePooling3DLayer"}),
    (2, {"input": "ImageInputLayer", "conv1": "Convolution2DLayer", "maxpool1": "MaxPooling2DLayer",
         "gap": "GlobalAveragePooling2DLayer"}),
])
def test_layer_classes(ndim, classes):
    lgraph = default_net(ndim)
    common = {"bn1": "BatchNormalizationLayer", "relu1": "ReLULayer",
              "stack1_block1_add": "AdditionLayer", "fc": "FullyConnectedLayer",
              "softmax": "SoftmaxLayer", "output": "ClassificationOutputLayer"}
    for name, cls in {**classes, **common}.items():
        assert type(layer(lgraph, name)).__name__ == cls, name


def test_layer_settings_of_the_default_3d_network():
    lgraph = default_net(3)
    inp = layer(lgraph, "input")
    assert tuple(np.ravel(inp.InputSize)) == (224, 224, 64, 3) and inp.Normalization == "zerocenter"
    conv1 = layer(lgraph, "conv1")
    assert tuple(np.ravel(conv1.FilterSize)) == (7, 7, 7) and conv1.NumFilters == 64
    assert tuple(np.ravel(conv1.Stride)) == (2, 2, 2) and conv1.PaddingMode == "same"
    for conv in [x for x in lgraph.Layers if type(x).__name__ == "Convolution3DLayer"]:
        assert conv.WeightsInitializer == "he" and conv.BiasLearnRateFactor == 0, conv.Name
    pool = layer(lgraph, "maxpool1")
    assert tuple(np.ravel(pool.PoolSize)) == (3, 3, 3) and tuple(np.ravel(pool.Stride)) == (2, 2, 2)
    assert pool.PaddingMode == "same"
    down = layer(lgraph, "stack2_block1_conv1")
    assert tuple(np.ravel(down.Stride)) == (2, 2, 2) and tuple(np.ravel(down.FilterSize)) == (1, 1, 1)
    assert tuple(np.ravel(layer(lgraph, "stack2_block2_conv1").Stride)) == (1, 1, 1)
    conv2 = layer(lgraph, "stack3_block2_conv2")
    assert tuple(np.ravel(conv2.FilterSize)) == (3, 3, 3) and conv2.NumFilters == 256
    assert layer(lgraph, "stack3_block2_conv3").NumFilters == 1024
    skip = layer(lgraph, "stack2_block1_skip_conv")
    assert skip.PaddingMode == "manual" and not np.any(np.asarray(skip.PaddingSize))
    assert tuple(np.ravel(skip.Stride)) == (2, 2, 2) and skip.NumFilters == 512
    fc = layer(lgraph, "fc")
    assert fc.OutputSize == 10 and fc.WeightsInitializer == "he"
    assert layer(lgraph, "stack1_block1_add").NumInputs == 2


def test_options_change_the_initial_layers():
    lgraph = lg.resnet3dLayers([64, 96, 64], 3, InitialPoolingLayer="average", InitialFilterSize=[5, 3, 1],
                               InitialStride=[1, 2, 1], InitialNumFilters=8, StackDepth=[1, 1],
                               NumFilters=[2, 4], Normalization="zscore")
    names = [x.Name for x in lgraph.Layers]
    assert names[:5] == ["input", "conv1", "bn1", "relu1", "avgpool1"]
    assert tuple(np.ravel(layer(lgraph, "input").InputSize)) == (64, 96, 64, 1)
    assert layer(lgraph, "input").Normalization == "zscore"
    conv1 = layer(lgraph, "conv1")
    assert tuple(np.ravel(conv1.FilterSize)) == (5, 3, 1) and tuple(np.ravel(conv1.Stride)) == (1, 2, 1)
    assert conv1.NumFilters == 8
    assert type(layer(lgraph, "avgpool1")).__name__ == "AveragePooling3DLayer"
    none = lg.resnetLayers([32, 32], 2, InitialPoolingLayer="none", StackDepth=[1], NumFilters=[16])
    assert [x.Name for x in none.Layers][:5] == ["input", "conv1", "bn1", "relu1", "stack1_block1_conv1"]
    # InitialNumFilters 64 == 4*16: no skip projection on stack 1
    assert not any("skip" in x.Name for x in none.Layers)


def test_after_add_blocks_have_a_skip_conv_alone():
    lgraph = lg.resnet3dLayers([64, 64, 64], 2, ResidualBlockType="batchnorm-after-add",
                               StackDepth=[1, 1], NumFilters=[4, 8])
    names = [x.Name for x in lgraph.Layers]
    assert "stack2_block1_skip_conv" in names and "stack2_block1_skip_bn" not in names
    rows = connection_rows(lgraph)
    assert ("stack2_block1_skip_conv", "stack2_block1_add/in2") in rows
    assert ("stack2_block1_conv3", "stack2_block1_add/in1") in rows
    assert ("stack2_block1_add", "stack2_block1_bn3") in rows


# ---- argument forms ----------------------------------------------------------------------

def test_positional_pairs_case_and_prefixes_equal_keywords():
    by_keyword = lg.resnet3dLayers([64, 64, 64, 2], 4, StackDepth=[1, 2], NumFilters=[4, 8],
                                   BottleneckType="none", InitialPoolingLayer="average")
    by_pairs = lg.resnet3dLayers([64, 64, 64, 2], 4, "stackdepth", [1, 2], "NUMFILTERS", [4, 8],
                                 "BottleneckType", "NO", "initialpoolinglayer", "Av")
    assert [x.Name for x in by_pairs.Layers] == [x.Name for x in by_keyword.Layers]
    assert connection_rows(by_pairs) == connection_rows(by_keyword)


@pytest.mark.parametrize("input_size,num_classes,stack_depth", [
    (np.array([64, 64, 64], dtype=np.int8), np.uint8(3), np.array([1, 1], dtype=np.int16)),
    ((64.0, 64.0, 64.0, 1.0), 3.0, [1.0, 1.0]),
    (np.array([[64, 64, 64]], dtype=np.float32), np.float64(3), (np.int64(1), np.int32(1))),
    ([np.int8(64), 64, 64], np.array([3]), np.array([1, 1], dtype=np.uint64)),
])
def test_numeric_arguments_accept_any_real_type_with_integer_values(input_size, num_classes, stack_depth):
    lgraph = lg.resnet3dLayers(input_size, num_classes, StackDepth=stack_depth, NumFilters=[2, 4])
    assert layer(lgraph, "fc").OutputSize == 3
    assert (len(lgraph.Layers), len(lgraph.Connections)) == closed_form_counts(StackDepth=(1, 1),
                                                                               NumFilters=(2, 4))


# ---- validation errors -------------------------------------------------------------------

SMALL = dict(StackDepth=[1, 1], NumFilters=[2, 4])


@pytest.mark.parametrize("ndim,args,kwargs,reason", [
    (3, ([64, 64], 3), SMALL, "InvalidImageSize3D"),
    (3, ([64, 64, 64, 3, 1], 3), SMALL, "InvalidImageSize3D"),
    (2, ([64], 3), SMALL, "InvalidImageSize2D"),
    (2, ([64, 64, 3, 1], 3), SMALL, "InvalidImageSize2D"),
    (3, ([64, 64.5, 64], 3), SMALL, "InvalidImageSize3D"),
    (3, ([64, np.nan, 64], 3), SMALL, "InvalidImageSize3D"),
    (3, ([64, 0, 64], 3), SMALL, "InvalidImageSize3D"),
    (3, ("64", 3), SMALL, "InvalidImageSize3D"),
    (3, ([True, 64, 64], 3), SMALL, "InvalidImageSize3D"),
    (3, (np.ones((2, 3)) * 64, 3), SMALL, "InvalidImageSize3D"),
    (3, ([64, 64, 64], 1), SMALL, "InvalidNumClasses"),
    (3, ([64, 64, 64], 2.5), SMALL, "InvalidNumClasses"),
    (3, ([64, 64, 64], True), SMALL, "InvalidNumClasses"),
    (3, ([64, 64, 64], "7"), SMALL, "InvalidNumClasses"),
    (3, ([64, 64, 64], [3, 4]), SMALL, "InvalidNumClasses"),
    (3, ([64, 64, 64], np.inf), SMALL, "InvalidNumClasses"),
    (3, ([64, 64, 64], 3), dict(SMALL, InitialFilterSize=[3, 3]), "InvalidInitialFilterSize"),
    (2, ([64, 64], 3), dict(SMALL, InitialFilterSize=[3, 3, 3]), "InvalidInitialFilterSize"),
    (3, ([64, 64, 64], 3), dict(SMALL, InitialFilterSize=0), "InvalidInitialFilterSize"),
    (3, ([64, 64, 64], 3), dict(SMALL, InitialStride=1.5), "InvalidInitialStride"),
    (3, ([64, 64, 64], 3), dict(SMALL, InitialStride=-2), "InvalidInitialStride"),
    (3, ([64, 64, 64], 3), dict(SMALL, InitialNumFilters=[8, 8]), "InvalidInitialNumFilters"),
    (3, ([64, 64, 64], 3), dict(SMALL, InitialNumFilters=True), "InvalidInitialNumFilters"),
    (3, ([64, 64, 64], 3), dict(StackDepth=[1, 0], NumFilters=[2, 4]), "InvalidStackDepth"),
    (3, ([64, 64, 64], 3), dict(StackDepth=[], NumFilters=[]), "InvalidStackDepth"),
    (3, ([64, 64, 64], 3), dict(StackDepth=[1, 1], NumFilters=[2, "4"]), "InvalidNumFilters"),
    (3, ([64, 64, 64], 3), dict(StackDepth=[1, 1], NumFilters=[2, 4, 8]), "NotEqualVectorSizes"),
    (2, ([64, 64], 3), dict(StackDepth=[1, 1, 1]), "NotEqualVectorSizes"),
    (3, ([63, 64, 64], 3), dict(StackDepth=[1, 1, 1, 1], NumFilters=[1, 1, 1, 1]), "ImageTooSmallForDepth"),
    (2, ([224, 32], 3), {}, "ImageTooSmallForDepth"),
    (3, ([64, 64, 64], 3), dict(SMALL, InitialStride=[1, 1, 9]), "ImageTooSmallForDepth"),
    (3, ([64, 64, 64], 3), dict(SMALL, ResidualBlockType="batchnorm"), "InvalidResidualBlockType"),
    (3, ([64, 64, 64], 3), dict(SMALL, ResidualBlockType="after"), "InvalidResidualBlockType"),
    (3, ([64, 64, 64], 3), dict(SMALL, InitialPoolingLayer="min"), "InvalidInitialPoolingLayer"),
    (3, ([64, 64, 64], 3), dict(SMALL, BottleneckType=1), "InvalidBottleneckType"),
    (2, ([64, 64], 3), dict(SMALL, Normalization="rescale-symmetric"), "InvalidNormalization"),
])
def test_invalid_arguments_raise_with_identifier(ndim, args, kwargs, reason):
    func = "resnetLayers" if ndim == 2 else "resnet3dLayers"
    with pytest.raises(MException) as err:
        BUILDERS[ndim](*args, **kwargs)
    assert err.value.identifier == f"nnet_cnn:{func}:{reason}"
    assert "Received" in err.value.message


def test_image_too_small_names_the_smallest_allowed_size():
    with pytest.raises(MException, match=r"\[64 32 32\]") as err:
        lg.resnet3dLayers([50, 64, 64, 3], 10, InitialStride=[2, 1, 1])
    assert "[50 64 64]" in err.value.message
    lg.resnet3dLayers([64, 32, 32, 3], 10, InitialStride=[2, 1, 1])  # the minimum itself is fine


def test_option_names_accept_unique_prefixes_as_input_parser_does():
    lgraph = lg.resnet3dLayers([64, 64, 64], 3, "stack", [1], NumF=[4])
    assert len(lgraph.Layers) == 5 + 10 + 2 + 4


@pytest.mark.parametrize("args,kwargs,identifier", [
    (("Depth", [1]), {}, "MATLAB:resnet3dLayers:invalidParameterName"),
    ((), {"Padding": "same"}, "MATLAB:resnet3dLayers:invalidParameterName"),
    ((3, [1]), {}, "MATLAB:resnet3dLayers:invalidParameterName"),
    (("StackDepth",), {}, "MATLAB:resnet3dLayers:nameValuePairs"),
    (("Initial", 3), {}, "MATLAB:resnet3dLayers:ambiguousParameterName"),
])
def test_unknown_or_malformed_options(args, kwargs, identifier):
    with pytest.raises(MException) as err:
        lg.resnet3dLayers([64, 64, 64], 3, *args, **kwargs)
    assert err.value.identifier == identifier


def test_one_pass_construction_equals_matlabs_edit_sequence():
    spec = builders.parse_resnet_arguments(3, "resnet3dLayers", [64, 64, 64], 3, (),
                                           {"StackDepth": [2, 1], "NumFilters": [2, 4]})
    plan = builders.plan_resnet(spec)
    edited = lg.layerGraph()
    for run in plan.runs:
        edited = lg.addLayers(edited, run)
    for source, destination in plan.links:
        edited = lg.connectLayers(edited, source, destination)
    built = builders.build_resnet(spec)
    assert [x.Name for x in built.Layers] == [x.Name for x in edited.Layers]
    assert built.Connections.equals(edited.Connections)
    assert built.edges == edited.edges
    assert built.topological_order() == edited.topological_order()


def test_docstring_examples_run():
    result = doctest.testmod(builders)
    assert result.attempted >= 4 and result.failed == 0
