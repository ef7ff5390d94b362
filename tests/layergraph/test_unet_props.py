"""Property-based tests: random valid U-Net options against closed-form layer/connection counts."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

import layergraph as lg
from layergraph.graph.analysis import propagate_sizes




def closed_form(func: str, depth: int, valid: bool) -> dict[str, int]:
    """Layers, connections (and learnables/states for the dlnetwork builders) of each builder."""
    crops = depth if valid else 0
    if func == "unet3dLayers":      # input, 6 per stage + pools, bridge, 8 per decoder stage, 3 final
        layers = 15 * depth + 10 + crops
        return {"layers": layers, "connections": layers - 1 + depth + crops}
    if func == "unetLayers":        # 2-D: no BN, two dropouts, UpReLU
        layers = 12 * depth + 10 + crops
        return {"layers": layers, "connections": layers - 1 + depth + crops}
    convs = 5 * depth + 3           # encoder, bridge, decoder, up-convolutions, final
    if func == "unet":
        layers = 13 * depth + 9
        return {"layers": layers, "connections": layers - 1 + 2 * depth,
                "learnables": 2 * convs, "states": 0}
    layers = 17 * depth + 11        # unet3d
    return {"layers": layers, "connections": layers - 1 + 2 * depth,
            "learnables": 2 * convs + 2 * (4 * depth + 2), "states": 2 * (4 * depth + 2)}


def valid_size(depth: int, trim: int, bottom: int) -> int:
    """The input size whose 'valid' U-Net reaches ``bottom`` after the bridge."""
    size = bottom + trim
    for _ in range(depth):
        size = 2 * size + trim
    return size


def propagated_output(lgraph) -> tuple[int, ...]:
    seen = {}

    def record(layer, in_sizes):
        seen[layer.Name] = in_sizes
        return layer
    propagate_sizes(lgraph, record)
    return tuple(seen[lgraph.Layers[-1].Name][0])


@st.composite
def options(draw, ndim: int, max_depth: int = 4):
    depth = draw(st.integers(1, max_depth))
    valid = draw(st.booleans())
    k = draw(st.sampled_from([1, 3, 5]))
    if valid:
        trim = 2 * (k - 1)          # bottom >= trim keeps every decoder size positive
        size = [valid_size(depth, trim, draw(st.integers(max(1, trim), trim + 2))) for _ in range(ndim)]
    else:
        size = [2 ** depth * draw(st.integers(1, 3)) for _ in range(ndim)]
    channels = draw(st.integers(1, 4))
    return {"size": size + [channels], "classes": draw(st.integers(2, 6)), "EncoderDepth": depth,
            "NumFirstEncoderFilters": draw(st.integers(1, 8)), "FilterSize": k,
            "ConvolutionPadding": "valid" if valid else "same"}


def _call(builder, o, **extra):
    return builder(o["size"], o["classes"], EncoderDepth=o["EncoderDepth"],
                   NumFirstEncoderFilters=o["NumFirstEncoderFilters"], FilterSize=o["FilterSize"],
                   ConvolutionPadding=o["ConvolutionPadding"], **extra)


@pytest.mark.parametrize("builder,ndim", [(lg.unet3dLayers, 3),
                                          (lg.unetLayers, 2)])
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_layer_graph_builders_match_the_closed_form(builder, ndim, data):
    o = data.draw(options(ndim))
    lgraph, out = _call(builder, o, nargout=2)
    counts = closed_form(builder.__name__, o["EncoderDepth"], o["ConvolutionPadding"] == "valid")
    assert (len(lgraph.Layers), len(lgraph.Connections)) == (counts["layers"], counts["connections"])
    names = [x.Name for x in lgraph.Layers]
    assert len(set(names)) == len(names)
    assert names[0] == "ImageInputLayer" and names[-3:] == ["Final-ConvolutionLayer", "Softmax-Layer",
                                                            "Segmentation-Layer"]
    assert out == propagated_output(lgraph)
    assert out[-1] == o["classes"]
    if o["ConvolutionPadding"] == "same":
        assert out[:-1] == tuple(o["size"][:-1])


@settings(max_examples=12, deadline=None)
@given(st.sampled_from([(lg.unet3d, 3), (lg.unet, 2)]).flatmap(
    lambda bn: st.tuples(st.just(bn[0]), options(bn[1], max_depth=3))))
def test_dlnetwork_builders_match_the_closed_form(case):
    builder, o = case
    o = {**o, "NumFirstEncoderFilters": min(o["NumFirstEncoderFilters"], 2)}
    net, out = _call(builder, o, nargout=2)
    counts = closed_form(builder.__name__, o["EncoderDepth"], o["ConvolutionPadding"] == "valid")
    assert len(net.Layers) == counts["layers"] and len(net.Connections) == counts["connections"]
    assert len(net.Learnables) == counts["learnables"] and len(net.State) == counts["states"]
    assert list(net.OutputNames) == ["FinalNetworkSoftmax-Layer"]
    assert out[-1] == o["classes"]
