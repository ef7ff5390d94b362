"""U-Net builders: ``unet3dLayers``, ``unetLayers`` (LayerGraph) and the plans of ``unet3d``/``unet``.

``unetLayers``/``unet3dLayers`` (Computer Vision Toolbox, R2019b+) end in a
``pixelClassificationLayer`` named 'Segmentation-Layer'; the R2024a ``unet``/``unet3d``
(dlnetwork, made in :mod:`layergraph.networks.unet_networks`) end in a softmax named
'FinalNetworkSoftmax-Layer'. Layer names, order and connections follow MATLAB (see
docs/segmentation.md); one plan function serves the four, driven by :class:`UNetStyle`.

``[lgraph, outputSize] = unet3dLayers(...)`` is ``lgraph, outputSize = unet3dLayers(...,
nargout=2)``; without ``nargout`` only the graph is returned. ``outputSize`` is
``(h, w[, d], numClasses)``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import graph
from .. import layers as layer_lib
from ..layers._validation import parse_name_value
from ..layers.base import Layer
from ..layers.errors import MException
from .resnet import _choice, _integer_vector, _matlab_vector, _parse_input_size, _parse_num_classes

__all__ = ["unet3dLayers", "unetLayers"]

PADDING_CHOICES = ("same", "valid")
DROPOUT_PROBABILITY = 0.5


@dataclass(frozen=True)
class UNetStyle:
    """What distinguishes the four MATLAB builders."""

    func: str
    ndim: int
    dlnetwork: bool          # R2024a unet/unet3d naming and crop-on-every-skip
    defaults: dict


STYLES = {
    "unetLayers": UNetStyle("unetLayers", 2, False, {"EncoderDepth": 4, "NumFirstEncoderFilters": 64}),
    "unet3dLayers": UNetStyle("unet3dLayers", 3, False, {"EncoderDepth": 3, "NumFirstEncoderFilters": 32}),
    "unet": UNetStyle("unet", 2, True, {"EncoderDepth": 4, "NumFirstEncoderFilters": 32}),
    "unet3d": UNetStyle("unet3d", 3, True, {"EncoderDepth": 3, "NumFirstEncoderFilters": 32}),
}


@dataclass(frozen=True)
class UNetSpec:
    """Validated arguments of one builder call."""

    style: UNetStyle
    input_size: tuple[int, ...]          # (h, w[, d], c)
    num_classes: int
    encoder_depth: int
    num_first_filters: int
    filter_size: tuple[int, ...]
    valid: bool                          # ConvolutionPadding 'valid'

    @property
    def ndim(self) -> int:
        return self.style.ndim


# ---- public functions --------------------------------------------------------------------

def unet3dLayers(inputSize: Any, numClasses: Any, *nameValuePairs: Any, nargout: int = 1,
                 **options: Any) -> Any:
    """3-D U-Net as a LayerGraph (MATLAB ``unet3dLayers``).

    ``inputSize`` ``[h w d]`` or ``[h w d c]``; options EncoderDepth (3), NumFirstEncoderFilters
    (32), FilterSize (3: odd scalar or ``[h w d]``), ConvolutionPadding ("same" | "valid").
    ``nargout=2`` also returns the output size ``(h, w, d, numClasses)``.

    >>> lgraph = unet3dLayers([128, 128, 128, 3], 5, EncoderDepth=2, NumFirstEncoderFilters=16)
    >>> len(lgraph.Layers), len(lgraph.Connections), lgraph.InputNames, lgraph.OutputNames
    (40, 41, ['ImageInputLayer'], ['Segmentation-Layer'])
    """
    spec = parse_unet_arguments(STYLES["unet3dLayers"], inputSize, numClasses, nameValuePairs, options)
    check_nargout(spec, nargout)
    return _with_output_size(build_unet(spec), spec, nargout)


def unetLayers(imageSize: Any, numClasses: Any, *nameValuePairs: Any, nargout: int = 1,
               **options: Any) -> Any:
    """2-D U-Net as a LayerGraph (MATLAB ``unetLayers``).

    ``imageSize`` ``[h w]`` or ``[h w c]``; options EncoderDepth (4), NumFirstEncoderFilters
    (64), FilterSize (3), ConvolutionPadding ("same" | "valid"). ``nargout=2`` also returns
    ``(h, w, numClasses)``.

    >>> lgraph = unetLayers([480, 640, 3], 5, EncoderDepth=3)
    >>> len(lgraph.Layers), len(lgraph.Connections)
    (46, 48)
    """
    spec = parse_unet_arguments(STYLES["unetLayers"], imageSize, numClasses, nameValuePairs, options)
    check_nargout(spec, nargout)
    return _with_output_size(build_unet(spec), spec, nargout)


def check_nargout(spec: UNetSpec, nargout: Any) -> None:
    """``nargout`` 1 (the network) or 2 (the network and the output size)."""
    if isinstance(nargout, bool) or nargout not in (1, 2):
        raise MException(f"vision:{spec.style.func}:TooManyOutputs",
                         "nargout must be 1 (the network) or 2 (the network and the output size). "
                         f"Received: nargout={nargout!r}.")


def _with_output_size(lgraph: Any, spec: UNetSpec, nargout: int) -> Any:
    return (lgraph, output_size(spec)) if nargout == 2 else lgraph


# ---- argument validation -----------------------------------------------------------------

def _error(spec_or_func: Any, reason: str, message: str) -> MException:
    func = spec_or_func if isinstance(spec_or_func, str) else spec_or_func.style.func
    return MException(f"vision:{func}:{reason}", message)


def parse_unet_arguments(style: UNetStyle, input_size: Any, num_classes: Any, pairs: tuple,
                         options: dict) -> UNetSpec:
    """Validate a builder call; MException ``vision:<func>:<Reason>`` naming the argument, the
    value and what is allowed (the checks shared with the ResNet builders are reused)."""
    try:
        return _parse(style, input_size, num_classes, pairs, options)
    except MException as err:
        if not err.identifier.startswith("nnet_cnn:"):
            raise
        raise MException("vision:" + err.identifier.split(":", 1)[1], err.message) from None


def _parse(style: UNetStyle, input_size: Any, num_classes: Any, pairs: tuple, options: dict) -> UNetSpec:
    func, ndim = style.func, style.ndim
    defaults = {**style.defaults, "FilterSize": 3, "ConvolutionPadding": "same"}
    opts = {**defaults, **parse_name_value(pairs, options, defaults, func)}
    size = _parse_input_size(input_size, ndim, func)
    classes = _parse_num_classes(num_classes, func)
    (depth,) = _integer_vector(opts["EncoderDepth"], func, "EncoderDepth", (1,))
    (filters,) = _integer_vector(opts["NumFirstEncoderFilters"], func, "NumFirstEncoderFilters", (1,))
    filter_size = _integer_vector(opts["FilterSize"], func, "FilterSize", (1, ndim))
    filter_size = filter_size * ndim if len(filter_size) == 1 else filter_size
    if any(k % 2 == 0 for k in filter_size):
        raise _error(func, "InvalidFilterSize",
                     f"FilterSize must hold odd positive integers (a scalar or a {ndim}-element "
                     f"vector). Received: FilterSize={_matlab_vector(filter_size)}.")
    padding = _choice(opts["ConvolutionPadding"], PADDING_CHOICES, func, "ConvolutionPadding")
    spec = UNetSpec(style, size, classes, depth, filters, filter_size, padding == "valid")
    output_size(spec)                    # raises when the input size does not fit the depth
    return spec


def output_size(spec: UNetSpec) -> tuple[int, ...]:
    """``(h, w[, d], numClasses)`` at the network output; MException when the size does not fit.

    'same': every spatial size must be a multiple of 2^EncoderDepth. 'valid': each unpadded
    3 x 3 pair trims ``2 (k - 1)``; every size before a pooling must be even and every size
    positive (U-Net paper arithmetic).
    """
    spatial, depth = spec.input_size[:spec.ndim], spec.encoder_depth
    dims = "height and width" if spec.ndim == 2 else "height, width and depth"
    if not spec.valid:
        if any(s % 2 ** depth for s in spatial):
            raise _error(spec, "InputSizeNotDivisible",
                         f"With ConvolutionPadding 'same' the {dims} of the input must be multiples "
                         f"of 2^EncoderDepth = {2 ** depth}. Received: inputSize="
                         f"{_matlab_vector(spec.input_size)}, EncoderDepth={depth}.")
        return (*spatial, spec.num_classes)
    trims = tuple(2 * (k - 1) for k in spec.filter_size)
    sizes = list(spatial)

    def check(stage: str, even: bool) -> None:
        if any(s <= 0 or (even and s % 2) for s in sizes):
            need = "positive and even before the pooling" if even else "positive"
            raise _error(spec, "InputSizeTooSmall" if any(s <= 0 for s in sizes) else "InvalidInputSize",
                         f"With ConvolutionPadding 'valid' the {dims} after {stage} must be {need}; "
                         f"they would be {_matlab_vector(tuple(sizes))}. Received: inputSize="
                         f"{_matlab_vector(spec.input_size)}, EncoderDepth={depth}, "
                         f"FilterSize={_matlab_vector(spec.filter_size)}.")
    for stage in range(1, depth + 1):
        sizes = [s - t for s, t in zip(sizes, trims)]
        check(f"encoder stage {stage}", True)
        sizes = [s // 2 for s in sizes]
    sizes = [s - t for s, t in zip(sizes, trims)]
    check("the bridge", False)
    for stage in range(1, depth + 1):
        sizes = [2 * s - t for s, t in zip(sizes, trims)]
        check(f"decoder stage {stage}", False)
    return (*sizes, spec.num_classes)


# ---- construction ------------------------------------------------------------------------

@dataclass
class UNetPlan:
    """Layers in ``Layers`` order as chained runs plus the cross links ``(source, 'dest/port')``."""

    runs: list[list[Layer]]
    links: list[tuple[str, str]]


def _nd(name: str, ndim: int) -> Any:
    """The 2-D or 3-D MATLAB constructor (``convolution%ddLayer`` ...) from layergraph.layers."""
    return getattr(layer_lib, name % ndim)


def _conv_block(spec: UNetSpec, prefix: str, filters: tuple[int, int], bn_prefix: str) -> list[Layer]:
    """conv, [BN,] ReLU twice (3-D builders have batch normalization)."""
    padding = {} if spec.valid else {"Padding": "same"}
    run: list[Layer] = []
    for k, num in enumerate(filters, start=1):
        run.append(_nd("convolution%ddLayer", spec.ndim)(spec.filter_size, num, WeightsInitializer="he",
                                                          Name=f"{prefix}-Conv-{k}", **padding))
        if spec.ndim == 3:
            run.append(layer_lib.batchNormalizationLayer(Name=f"{bn_prefix}-BN-{k}"))
        run.append(layer_lib.reluLayer(Name=f"{prefix}-ReLU-{k}"))
    return run


def _filters(spec: UNetSpec) -> dict[str, Any]:
    """Filter counts per part: 2-D U-Net keeps a stage's width, 3-D U-Net doubles in each stage."""
    f, d = spec.num_first_filters, spec.encoder_depth
    if spec.ndim == 2:
        return {"encoder": [(f * 2 ** (i - 1),) * 2 for i in range(1, d + 1)],
                "bridge": (f * 2 ** d,) * 2,
                "up": [f * 2 ** (d - j) for j in range(1, d + 1)],
                "decoder": [(f * 2 ** (d - j),) * 2 for j in range(1, d + 1)]}
    return {"encoder": [(f * 2 ** (i - 1), f * 2 ** i) for i in range(1, d + 1)],
            "bridge": (f * 2 ** d, f * 2 ** (d + 1)),
            "up": [f * 2 ** (d - j + 2) for j in range(1, d + 1)],
            "decoder": [(f * 2 ** (d - j + 1),) * 2 for j in range(1, d + 1)]}


def plan_unet(spec: UNetSpec) -> UNetPlan:
    """All layers and connections of the network, without building the graph."""
    ndim, depth, new = spec.ndim, spec.encoder_depth, spec.style.dlnetwork
    widths = _filters(spec)
    input_name = "encoderImageInputLayer" if new else "ImageInputLayer"
    input_layer = layer_lib.image3dInputLayer if ndim == 3 else layer_lib.imageInputLayer
    run: list[Layer] = [input_layer(spec.input_size, Name=input_name)]
    plan = UNetPlan(runs=[run], links=[])
    skips: list[str] = []
    dropout = ndim == 2 or new
    for i in range(1, depth + 1):
        prefix = f"Encoder-Stage-{i}"
        if i > 1:
            run = [_nd("maxPooling%ddLayer", ndim)(2, Stride=2, Name=f"Encoder-Stage-{i - 1}-MaxPool")]
            plan.runs.append(run)
            plan.links.append((skips[-1], run[0].Name))
        run += _conv_block(spec, prefix, widths["encoder"][i - 1], prefix)
        if i == depth and dropout:
            run.append(layer_lib.dropoutLayer(DROPOUT_PROBABILITY, Name=f"{prefix}-DropOut"))
            # unetLayers takes the last skip before the dropout, unet/unet3d after it
            skips.append(run[-1].Name if new else run[-2].Name)
        else:
            skips.append(run[-1].Name)
    pool_from = run[-1].Name
    bridge = "LatentNetwork-Bridge" if new else "Bridge"
    run = [_nd("maxPooling%ddLayer", ndim)(2, Stride=2, Name=f"Encoder-Stage-{depth}-MaxPool")]
    run += _conv_block(spec, bridge, widths["bridge"], "LatentNetworkBridge" if new else bridge)
    if dropout:
        run.append(layer_lib.dropoutLayer(DROPOUT_PROBABILITY, Name=f"{bridge}-DropOut"))
    plan.runs.append(run)
    plan.links.append((pool_from, run[0].Name))
    previous = run[-1].Name
    for j in range(1, depth + 1):
        previous = _plan_decoder_stage(spec, plan, j, previous, skips[depth - j], widths)
    plan.runs.append(_final_layers(spec))
    plan.links.append((previous, plan.runs[-1][0].Name))
    return plan


def _plan_decoder_stage(spec: UNetSpec, plan: UNetPlan, j: int, previous: str, skip: str,
                        widths: dict) -> str:
    """Up-convolution, [crop,] concatenation and conv block of decoder stage ``j``; its last name."""
    ndim, new, prefix = spec.ndim, spec.style.dlnetwork, f"Decoder-Stage-{j}"
    up = [_nd("transposedConv%ddLayer", ndim)(2, widths["up"][j - 1], Stride=2, BiasLearnRateFactor=2,
                                              WeightsInitializer="he", Name=f"{prefix}-UpConv")]
    if ndim == 2 or new:
        up.append(layer_lib.reluLayer(Name=f"{prefix}-UpReLU"))
    plan.runs.append(up)
    plan.links.append((previous, up[0].Name))
    upsampled = up[-1].Name
    k = spec.encoder_depth - j + 1
    if new:
        concat = layer_lib.concatenationLayer(ndim + 1, 2,
                                              Name=f"encoderDecoderSkipConnectionFeatureMerge{k}")
    elif ndim == 2:
        concat = layer_lib.depthConcatenationLayer(2, Name=f"{prefix}-DepthConcatenation")
    else:
        concat = layer_lib.concatenationLayer(4, 2, Name=f"{prefix}-Concatenation")
    skip_port, up_port = ("in1", "in2") if new else ("in2", "in1")
    if new or spec.valid:
        crop_name = f"encoderDecoderSkipConnectionCrop{k}" if new else f"Crop{ndim}d-{j}"
        crop = _nd("crop%ddLayer", ndim)(Name=crop_name)
        plan.runs.append([crop])
        plan.links += [(skip, f"{crop_name}/in"), (upsampled, f"{crop_name}/ref")]
        skip = crop_name
    run = [concat, *_conv_block(spec, prefix, widths["decoder"][j - 1], prefix)]
    plan.runs.append(run)
    plan.links += [(upsampled, f"{concat.Name}/{up_port}"), (skip, f"{concat.Name}/{skip_port}")]
    return run[-1].Name


def _final_layers(spec: UNetSpec) -> list[Layer]:
    conv = _nd("convolution%ddLayer", spec.ndim)
    if spec.style.dlnetwork:
        return [conv(1, spec.num_classes, Name="encoderDecoderFinalConvLayer"),
                layer_lib.softmaxLayer(Name="FinalNetworkSoftmax-Layer")]
    padding = {} if spec.valid else {"Padding": "same"}
    return [conv(1, spec.num_classes, WeightsInitializer="he", Name="Final-ConvolutionLayer", **padding),
            layer_lib.softmaxLayer(Name="Softmax-Layer"),
            layer_lib.pixelClassificationLayer(Name="Segmentation-Layer")]


def build_unet(spec: UNetSpec) -> "graph.LayerGraph":
    """The LayerGraph of a validated spec (``addLayers`` of every run, ``connectLayers`` of
    every link, in one construction)."""
    plan = plan_unet(spec)
    layers = [layer for run in plan.runs for layer in run]
    index = {layer.Name: i for i, layer in enumerate(layers)}
    edges = [(index[a.Name], 0, index[b.Name], 0) for run in plan.runs for a, b in zip(run, run[1:])]
    for source, destination in plan.links:
        name, _, port = destination.partition("/")
        dst = index[name]
        edges.append((index[source], 0, dst, layers[dst].InputNames.index(port) if port else 0))
    return graph.LayerGraph.from_edges(layers, edges)
