"""Property-based tests: random valid options of both builders against the structure model."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import layergraph as lg
from test_builders_model import (closed_form_activation, closed_form_counts, closed_form_depth,
                                 closed_form_learnables, model_resnet)

CHOICES = {
    "InitialPoolingLayer": ("max", "average", "none"),
    "ResidualBlockType": ("batchnorm-before-add", "batchnorm-after-add"),
    "BottleneckType": ("downsample-first-conv", "none"),
    "Normalization": ("zerocenter", "zscore"),
}
CLASS_OF_KIND = {"bn": "BatchNormalizationLayer", "relu": "ReLULayer", "add": "AdditionLayer",
                 "fc": "FullyConnectedLayer", "softmax": "SoftmaxLayer",
                 "output": "ClassificationOutputLayer"}
CLASS_OF_KIND_ND = {
    2: {"input": "ImageInputLayer", "conv": "Convolution2DLayer", "maxpool": "MaxPooling2DLayer",
        "avgpool": "AveragePooling2DLayer", "gap": "GlobalAveragePooling2DLayer"},
    3: {"input": "Image3DInputLayer", "conv": "Convolution3DLayer", "maxpool": "MaxPooling3DLayer",
        "avgpool": "AveragePooling3DLayer", "gap": "GlobalAveragePooling3DLayer"},
}


def _unique_prefix_length(value: str, choices: tuple[str, ...]) -> int:
    others = [c.lower() for c in choices if c != value]
    return next(n for n in range(1, len(value) + 1)
                if not any(o.startswith(value[:n].lower()) for o in others))


@st.composite
def spelled(draw, value: str, choices: tuple[str, ...]) -> str:
    """``value`` as MATLAB validatestring accepts it: any unambiguous prefix, any case."""
    n = draw(st.integers(_unique_prefix_length(value, choices), len(value)))
    upper = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    return "".join(c.upper() if u else c for c, u in zip(value[:n], upper))


@st.composite
def numeric(draw, values: tuple[int, ...], scalar: bool = False):
    """The same integers as a Python int/float, a list, a tuple or a NumPy array of some dtype."""
    form = draw(st.sampled_from(["list", "tuple", "float", "array"] + (["int"] if scalar else [])))
    if form == "int":
        return values[0]
    if form == "list":
        return list(values)
    if form == "tuple":
        return tuple(values)
    if form == "float":
        return [float(v) for v in values] if not scalar else float(values[0])
    dtype = draw(st.sampled_from([np.int16, np.int32, np.int64, np.uint16, np.float32, np.float64]))
    return np.array(values, dtype=dtype)


@st.composite
def resnet_case(draw):
    """(ndim, canonical options, spelled options, input size, number of classes)."""
    ndim = draw(st.sampled_from([2, 3]))
    n_stacks = draw(st.integers(1, 4))
    depth = tuple(draw(st.lists(st.integers(1, 4), min_size=n_stacks, max_size=n_stacks)))
    filters = tuple(draw(st.lists(st.integers(1, 8), min_size=n_stacks, max_size=n_stacks)))
    opts = {"StackDepth": depth, "NumFilters": filters}
    for name, choices in CHOICES.items():
        if draw(st.booleans()):
            opts[name] = draw(st.sampled_from(choices))
    if draw(st.booleans()):  # sometimes exactly the expanded channel count: no stack-1 skip
        expanded = filters[0] * (4 if opts.get("BottleneckType", "downsample-first-conv") != "none" else 1)
        opts["InitialNumFilters"] = draw(st.sampled_from([expanded, draw(st.integers(1, 16))]))
    for name, high in (("InitialFilterSize", 7), ("InitialStride", 3)):
        if draw(st.booleans()):
            vec = draw(st.lists(st.integers(1, high), min_size=ndim, max_size=ndim))
            opts[name] = draw(st.sampled_from([vec[0], tuple(vec)]))
    stride = opts.get("InitialStride", 2)
    stride = (stride,) * ndim if isinstance(stride, int) else stride
    pool = 1 if opts.get("InitialPoolingLayer") == "none" else 2
    size = tuple(s * pool * 2 ** n_stacks + draw(st.integers(0, 40)) for s in stride)
    if draw(st.booleans()):
        size += (draw(st.integers(1, 4)),)
    num_classes = draw(st.integers(2, 12))
    call = {name: (draw(spelled(v, CHOICES[name])) if name in CHOICES
                   else draw(numeric((v,) if isinstance(v, int) else v, scalar=isinstance(v, int))))
            for name, v in opts.items()}
    return ndim, opts, call, size, num_classes


def build(ndim, call, size, num_classes):
    builder = lg.resnetLayers if ndim == 2 else lg.resnet3dLayers
    return builder(np.array(size, dtype=np.int32), num_classes, **call)


@settings(max_examples=50, deadline=None)
@given(resnet_case())
def test_structure_matches_the_rules(case):
    ndim, opts, call, size, num_classes = case
    lgraph = build(ndim, call, size, num_classes)
    model = model_resnet(ndim, num_classes, **opts)
    layers = list(lgraph.Layers)
    assert [x.Name for x in layers] == model.names
    assert (len(layers), len(lgraph.Connections)) == closed_form_counts(**opts)
    assert list(zip(lgraph.Connections["Source"], lgraph.Connections["Destination"])) \
        == model.sorted_connections()
    assert list(lgraph.InputNames) == ["input"] and list(lgraph.OutputNames) == ["output"]
    classes = {**CLASS_OF_KIND, **CLASS_OF_KIND_ND[ndim]}
    for got, want in zip(layers, model.layers):
        assert type(got).__name__ == classes[want.kind], want.name
        if want.kind == "conv":
            assert tuple(np.ravel(got.FilterSize)) == want.filter_size, want.name
            assert got.NumFilters == want.num_filters, want.name
            assert tuple(np.ravel(got.Stride)) == want.stride, want.name
            assert got.PaddingMode == ("same" if want.same else "manual"), want.name
    assert layers[0].Normalization == opts.get("Normalization", "zerocenter")
    assert tuple(np.ravel(layers[0].InputSize)) == (size if len(size) > ndim else size + (1,))
    assert layers[-3].OutputSize == num_classes


@settings(max_examples=40, deadline=None)
@given(resnet_case())
def test_analysis_matches_the_closed_forms(case):
    ndim, opts, call, size, num_classes = case
    info = lg.analyzeNetwork(build(ndim, call, size, num_classes))
    channels = size[ndim] if len(size) > ndim else 1
    assert info.Issues.empty
    assert info.NetworkDepth == closed_form_depth(**opts)
    assert info.TotalLearnables == closed_form_learnables(ndim, channels, num_classes, **opts)
    acts = dict(zip(info.LayerInfo["Name"], info.LayerInfo["ActivationSizes"]))
    expected = closed_form_activation(ndim, size, **opts)
    assert acts["relu1"] == expected["relu1"] + (1,)
    bottleneck = opts.get("BottleneckType", "downsample-first-conv") != "none"
    for s, depth in enumerate(opts["StackDepth"], start=1):
        last = f"stack{s}_block{depth}_relu{3 if bottleneck else 2}"
        assert acts[last] == expected[f"stack{s}"] + (1,), last
    assert acts["gap"] == (1,) * ndim + (expected[f"stack{len(opts['StackDepth'])}"][-1], 1)
    assert math.prod(acts["input"]) == math.prod(size)
