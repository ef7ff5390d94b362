"""ResNet builders: ``resnet3dLayers`` and ``resnetLayers`` (MATLAB Deep Learning Toolbox).

Both return a :class:`~layergraph.graph.LayerGraph` whose ``Layers`` order, names, layer
settings and ``Connections`` follow MATLAB exactly (see docs/layergraph.md, "Builders"):

    input, conv1, bn1, relu1, [maxpool1 | avgpool1],
    for every stack s and block b:  stack{s}_block{b}_<main branch>, [skip_conv, [skip_bn]],
    gap, fc, softmax, output

Errors are :class:`MException` with identifiers ``nnet_cnn:<function>:<Reason>``, where
``<function>`` is the function called (``resnetLayers`` or ``resnet3dLayers``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .. import graph
from ..layers import (activation, combination, convolution, fully_connected, input as input_layers,
                      normalization, output, pooling)
from ..layers._validation import is_real_numeric, parse_name_value, positive_int_vector, validatestring
from ..layers.base import Layer
from ..layers.errors import MException

__all__ = ["resnet3dLayers", "resnetLayers"]

POOLING_CHOICES = ("max", "average", "none")
BLOCK_TYPE_CHOICES = ("batchnorm-before-add", "batchnorm-after-add")
BOTTLENECK_CHOICES = ("downsample-first-conv", "none")
NORMALIZATION_CHOICES = ("zerocenter", "zscore")

OPTION_DEFAULTS: dict[str, Any] = {
    "InitialFilterSize": 7,
    "InitialNumFilters": 64,
    "InitialStride": 2,
    "InitialPoolingLayer": "max",
    "ResidualBlockType": "batchnorm-before-add",
    "BottleneckType": "downsample-first-conv",
    "StackDepth": (3, 4, 6, 3),
    "NumFilters": (64, 128, 256, 512),
    "Normalization": "zerocenter",
}


@dataclass(frozen=True)
class ResNetSpec:
    """Validated arguments of one builder call (sizes expanded to ``ndim`` spatial dims)."""

    ndim: int
    input_size: tuple[int, ...]          # (h, w[, d], c), channel count filled in
    num_classes: int
    initial_filter_size: tuple[int, ...]
    initial_num_filters: int
    initial_stride: tuple[int, ...]
    initial_pooling: str                 # "max" | "average" | "none"
    bn_before_add: bool
    bottleneck: bool
    stack_depth: tuple[int, ...]
    num_filters: tuple[int, ...]
    normalization: str


@dataclass(frozen=True)
class _LayerKinds:
    """The MATLAB constructors of one dimensionality (2-D or 3-D)."""

    input: Callable[..., Layer]
    conv: Callable[..., Layer]
    max_pool: Callable[..., Layer]
    avg_pool: Callable[..., Layer]
    global_avg_pool: Callable[..., Layer]


def _layer_kinds(ndim: int) -> _LayerKinds:
    if ndim == 3:
        return _LayerKinds(input_layers.image3dInputLayer, convolution.convolution3dLayer,
                           pooling.maxPooling3dLayer, pooling.averagePooling3dLayer,
                           pooling.globalAveragePooling3dLayer)
    return _LayerKinds(input_layers.imageInputLayer, convolution.convolution2dLayer,
                       pooling.maxPooling2dLayer, pooling.averagePooling2dLayer,
                       pooling.globalAveragePooling2dLayer)


# ---- public functions --------------------------------------------------------------------

def resnet3dLayers(inputSize: Any, numClasses: Any, *nameValuePairs: Any, **options: Any) -> "graph.LayerGraph":
    """3-D residual network as a LayerGraph (MATLAB ``resnet3dLayers``).

    ``inputSize`` is ``[h w d]`` or ``[h w d c]``; ``numClasses`` an integer > 1. Options
    (keywords or ``"Name", value`` pairs): InitialFilterSize (7), InitialNumFilters (64),
    InitialStride (2), InitialPoolingLayer ("max" | "average" | "none"), ResidualBlockType
    ("batchnorm-before-add" | "batchnorm-after-add"), BottleneckType
    ("downsample-first-conv" | "none"), StackDepth ([3 4 6 3]), NumFilters
    ([64 128 256 512]), Normalization ("zerocenter" | "zscore").

    >>> lgraph = resnet3dLayers([224, 224, 64, 3], 10)
    >>> len(lgraph.Layers), len(lgraph.Connections)
    (177, 192)
    """
    spec = parse_resnet_arguments(3, "resnet3dLayers", inputSize, numClasses, nameValuePairs, options)
    return build_resnet(spec)


def resnetLayers(inputSize: Any, numClasses: Any, *nameValuePairs: Any, **options: Any) -> "graph.LayerGraph":
    """2-D residual network as a LayerGraph (MATLAB ``resnetLayers``).

    ``inputSize`` is ``[h w]`` or ``[h w c]``; options as :func:`resnet3dLayers`, with
    2-element vectors for InitialFilterSize and InitialStride.

    >>> lgraph = resnetLayers([224, 224, 3], 10)
    >>> len(lgraph.Layers), len(lgraph.Connections)
    (177, 192)
    """
    spec = parse_resnet_arguments(2, "resnetLayers", inputSize, numClasses, nameValuePairs, options)
    return build_resnet(spec)


# ---- argument validation -----------------------------------------------------------------

def _error(func: str, reason: str, message: str) -> MException:
    return MException(f"nnet_cnn:{func}:{reason}", message)


def _matlab_vector(values: tuple[int, ...]) -> str:
    return "[" + " ".join(str(v) for v in values) + "]"


def _integer_vector(value: Any, func: str, argname: str, lengths: tuple[int, ...] | None,
                    reason: str | None = None) -> tuple[int, ...]:
    """Positive integers given as any real numeric scalar/vector; MATLAB vectors only (no matrices)."""
    reason = reason or f"Invalid{argname}"
    if isinstance(value, (list, tuple)) and any(isinstance(v, (bool, np.bool_)) for v in value):
        raise _error(func, reason, f"{argname} must be numeric, not logical. Received: {argname}={value!r}.")
    if is_real_numeric(value) and sum(n > 1 for n in np.shape(value)) > 1:
        raise _error(func, reason, f"{argname} must be a vector, not a matrix. "
                                   f"Received: {argname} of size {'x'.join(map(str, np.shape(value)))}.")
    return positive_int_vector(value, func, argname, lengths, ident=f"nnet_cnn:{func}:{reason}")


def _choice(value: Any, allowed: tuple[str, ...], func: str, argname: str) -> str:
    try:
        return validatestring(value, allowed, func, argname)
    except MException as err:
        raise _error(func, f"Invalid{argname}", err.message) from None


def _parse_input_size(value: Any, ndim: int, func: str) -> tuple[int, ...]:
    reason = f"InvalidImageSize{ndim}D"
    size = _integer_vector(value, func, "inputSize", None, reason)
    if len(size) not in (ndim, ndim + 1):
        dims = "height width" if ndim == 2 else "height width depth"
        raise _error(func, reason,
                     f"inputSize must be a vector of {ndim} or {ndim + 1} positive integers, "
                     f"[{dims}] or [{dims} channels]. Received: inputSize={_matlab_vector(size)}.")
    return size if len(size) == ndim + 1 else size + (1,)


def _parse_num_classes(value: Any, func: str) -> int:
    (num_classes,) = _integer_vector(value, func, "numClasses", (1,), "InvalidNumClasses")
    if num_classes < 2:
        raise _error(func, "InvalidNumClasses",
                     f"numClasses must be an integer greater than 1. Received: numClasses={num_classes}.")
    return num_classes


def parse_resnet_arguments(ndim: int, func: str, inputSize: Any, numClasses: Any,
                           pairs: tuple, options: dict) -> ResNetSpec:
    """Validate a builder call the way MATLAB does; return the expanded :class:`ResNetSpec`."""
    input_size = _parse_input_size(inputSize, ndim, func)
    num_classes = _parse_num_classes(numClasses, func)
    given = parse_name_value(pairs, options, OPTION_DEFAULTS, func)
    opts = {**OPTION_DEFAULTS, **given}

    def spatial(name: str) -> tuple[int, ...]:
        values = _integer_vector(opts[name], func, name, (1, ndim))
        return values * ndim if len(values) == 1 else values

    stack_depth = _integer_vector(opts["StackDepth"], func, "StackDepth", None)
    num_filters = _integer_vector(opts["NumFilters"], func, "NumFilters", None)
    if len(stack_depth) != len(num_filters):
        raise _error(func, "NotEqualVectorSizes",
                     f"NumFilters and StackDepth must have the same number of elements. Received: "
                     f"NumFilters={_matlab_vector(num_filters)} ({len(num_filters)} elements), "
                     f"StackDepth={_matlab_vector(stack_depth)} ({len(stack_depth)} elements).")
    spec = ResNetSpec(
        ndim=ndim,
        input_size=input_size,
        num_classes=num_classes,
        initial_filter_size=spatial("InitialFilterSize"),
        initial_num_filters=_integer_vector(opts["InitialNumFilters"], func, "InitialNumFilters", (1,))[0],
        initial_stride=spatial("InitialStride"),
        initial_pooling=_choice(opts["InitialPoolingLayer"], POOLING_CHOICES, func, "InitialPoolingLayer"),
        bn_before_add=_choice(opts["ResidualBlockType"], BLOCK_TYPE_CHOICES, func,
                              "ResidualBlockType") == "batchnorm-before-add",
        bottleneck=_choice(opts["BottleneckType"], BOTTLENECK_CHOICES, func,
                           "BottleneckType") == "downsample-first-conv",
        stack_depth=stack_depth,
        num_filters=num_filters,
        normalization=_choice(opts["Normalization"], NORMALIZATION_CHOICES, func, "Normalization"),
    )
    _check_image_large_enough(spec, func)
    return spec


def minimum_input_size(spec: ResNetSpec) -> tuple[int, ...]:
    """Smallest allowed spatial size: initialStride * poolingStride * 2^numel(StackDepth) per dim."""
    pool_stride = 1 if spec.initial_pooling == "none" else 2
    return tuple(s * pool_stride * 2 ** len(spec.stack_depth) for s in spec.initial_stride)


def _check_image_large_enough(spec: ResNetSpec, func: str) -> None:
    smallest = minimum_input_size(spec)
    if any(size < low for size, low in zip(spec.input_size, smallest)):
        dims = "height and width" if spec.ndim == 2 else "height, width and depth"
        raise _error(func, "ImageTooSmallForDepth",
                     f"inputSize is too small for the network: the {dims} must be at least "
                     f"{_matlab_vector(smallest)} (InitialStride x pooling stride x "
                     f"2^{len(spec.stack_depth)} for {len(spec.stack_depth)} stacks). "
                     f"Received: inputSize={_matlab_vector(spec.input_size[:spec.ndim])}.")


# ---- construction ------------------------------------------------------------------------

@dataclass
class ResNetPlan:
    """Layers in ``Layers`` order as chained runs (addLayers semantics) plus the cross links."""

    runs: list[list[Layer]]
    links: list[tuple[str, str]]


def _conv(kinds: _LayerKinds, size: Any, num: int, name: str, stride: Any = 1,
          same: bool = True) -> Layer:
    padding = {"Padding": "same"} if same else {}
    return kinds.conv(size, num, Stride=stride, WeightsInitializer="he", BiasLearnRateFactor=0,
                      Name=name, **padding)


def _initial_layers(spec: ResNetSpec, kinds: _LayerKinds) -> list[Layer]:
    run = [
        kinds.input(spec.input_size, Normalization=spec.normalization, Name="input"),
        _conv(kinds, spec.initial_filter_size, spec.initial_num_filters, "conv1", spec.initial_stride),
        normalization.batchNormalizationLayer(Name="bn1"),
        activation.reluLayer(Name="relu1"),
    ]
    if spec.initial_pooling == "max":
        run.append(kinds.max_pool(3, Stride=2, Padding="same", Name="maxpool1"))
    elif spec.initial_pooling == "average":
        run.append(kinds.avg_pool(3, Stride=2, Padding="same", Name="avgpool1"))
    return run


def _block_main_branch(spec: ResNetSpec, kinds: _LayerKinds, tag: str, num: int,
                       stride: int) -> list[Layer]:
    """conv/bn/relu units of one residual block, with the addition placed per ResidualBlockType."""
    if spec.bottleneck:
        units = [(1, num, stride), (3, num, 1), (1, 4 * num, 1)]
    else:
        units = [(3, num, stride), (3, num, 1)]
    run: list[Layer] = []
    for k, (size, filters, st) in enumerate(units, start=1):
        last = k == len(units)
        run.append(_conv(kinds, size, filters, f"{tag}conv{k}", st))
        if last and not spec.bn_before_add:
            run.append(combination.additionLayer(2, Name=f"{tag}add"))
        run.append(normalization.batchNormalizationLayer(Name=f"{tag}bn{k}"))
        if last and spec.bn_before_add:
            run.append(combination.additionLayer(2, Name=f"{tag}add"))
        run.append(activation.reluLayer(Name=f"{tag}relu{k}"))
    return run


def _skip_branch(spec: ResNetSpec, kinds: _LayerKinds, tag: str, num: int, stride: int) -> list[Layer]:
    run = [_conv(kinds, 1, num, f"{tag}skip_conv", stride, same=False)]
    if spec.bn_before_add:
        run.append(normalization.batchNormalizationLayer(Name=f"{tag}skip_bn"))
    return run


def _final_layers(spec: ResNetSpec, kinds: _LayerKinds) -> list[Layer]:
    return [
        kinds.global_avg_pool(Name="gap"),
        fully_connected.fullyConnectedLayer(spec.num_classes, WeightsInitializer="he", Name="fc"),
        activation.softmaxLayer(Name="softmax"),
        output.classificationLayer(Name="output"),
    ]


def plan_resnet(spec: ResNetSpec) -> ResNetPlan:
    """All layers and connections of the network, without building the graph."""
    kinds = _layer_kinds(spec.ndim)
    first = _initial_layers(spec, kinds)
    plan = ResNetPlan(runs=[first], links=[])
    previous = first[-1].Name
    channels = spec.initial_num_filters
    for s, (depth, num) in enumerate(zip(spec.stack_depth, spec.num_filters), start=1):
        out_channels = 4 * num if spec.bottleneck else num
        for b in range(1, depth + 1):
            tag = f"stack{s}_block{b}_"
            stride = 2 if (b == 1 and s > 1) else 1
            main = _block_main_branch(spec, kinds, tag, num, stride)
            plan.runs.append(main)
            plan.links.append((previous, main[0].Name))
            if stride != 1 or channels != out_channels:
                skip = _skip_branch(spec, kinds, tag, out_channels, stride)
                plan.runs.append(skip)
                plan.links += [(previous, skip[0].Name), (skip[-1].Name, f"{tag}add/in2")]
            else:
                plan.links.append((previous, f"{tag}add/in2"))
            previous, channels = main[-1].Name, out_channels
    final = _final_layers(spec, kinds)
    plan.runs.append(final)
    plan.links.append((previous, final[0].Name))
    return plan


def build_resnet(spec: ResNetSpec) -> "graph.LayerGraph":
    """The LayerGraph for a validated spec, constructed once from all layers and port edges.

    Equivalent to ``addLayers`` for every run and ``connectLayers`` for every link (as MATLAB
    builds it), without re-deriving the graph after each of the ~400 edits.
    """
    plan = plan_resnet(spec)
    layers = [layer for run in plan.runs for layer in run]
    index = {layer.Name: i for i, layer in enumerate(layers)}
    edges = [(index[a.Name], 0, index[b.Name], 0) for run in plan.runs for a, b in zip(run, run[1:])]
    for source, destination in plan.links:
        name, _, port = destination.partition("/")
        dst = index[name]
        edges.append((index[source], 0, dst, layers[dst].InputNames.index(port) if port else 0))
    return graph.LayerGraph.from_edges(layers, edges)
