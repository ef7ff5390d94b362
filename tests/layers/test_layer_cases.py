"""One table of layer cases, one entry per exported layer class: a new layer class is not
exported without an entry here. Each case: initialize -> output_sizes agree with forward in
inference and training, backward gives input-shaped gradients and learnable-shaped parameter
gradients, properties survive a JSON round trip, the class is registered for loading."""
import inspect
import json

import numpy as np
import pytest

import layergraph as lg
from layergraph.layers.base import Layer, registered_layer
from layergraph.layers.context import ForwardContext
from helpers.layer_check import internal_params, matlab_size

CASES = {  # class name: (constructor, input sizes (MATLAB order, no batch))
    "ImageInputLayer": (lambda: lg.imageInputLayer([4, 5, 2], Normalization="none"), []),
    "Image3DInputLayer": (lambda: lg.image3dInputLayer([3, 4, 2, 2], Normalization="none"), []),
    "Convolution2DLayer": (lambda: lg.convolution2dLayer(3, 4, Padding="same"), [(5, 4, 2)]),
    "Convolution3DLayer": (lambda: lg.convolution3dLayer(2, 3, Stride=2), [(4, 4, 3, 2)]),
    "BatchNormalizationLayer": (lambda: lg.batchNormalizationLayer(), [(3, 3, 2)]),
    "ReLULayer": (lambda: lg.reluLayer(), [(3, 3, 2)]),
    "SoftmaxLayer": (lambda: lg.softmaxLayer(), [(1, 1, 4)]),
    "MaxPooling2DLayer": (lambda: lg.maxPooling2dLayer(2, Stride=2), [(4, 4, 2)]),
    "MaxPooling3DLayer": (lambda: lg.maxPooling3dLayer(2, Stride=2), [(4, 4, 2, 2)]),
    "AveragePooling2DLayer": (lambda: lg.averagePooling2dLayer(2), [(4, 3, 2)]),
    "AveragePooling3DLayer": (lambda: lg.averagePooling3dLayer(2), [(3, 3, 3, 2)]),
    "GlobalAveragePooling2DLayer": (lambda: lg.globalAveragePooling2dLayer(), [(3, 4, 2)]),
    "GlobalAveragePooling3DLayer": (lambda: lg.globalAveragePooling3dLayer(), [(3, 2, 2, 2)]),
    "AdditionLayer": (lambda: lg.additionLayer(2), [(3, 3, 2)] * 2),
    "DepthConcatenationLayer": (lambda: lg.depthConcatenationLayer(2), [(3, 3, 2), (3, 3, 1)]),
    "ConcatenationLayer": (lambda: lg.concatenationLayer(2, 3), [(3, 1, 2), (3, 2, 2), (3, 1, 2)]),
    "FullyConnectedLayer": (lambda: lg.fullyConnectedLayer(3), [(2, 2, 2)]),
    "ClassificationOutputLayer": (lambda: lg.classificationLayer(), [(1, 1, 3)]),
    "RegressionOutputLayer": (lambda: lg.regressionLayer(), [(1, 1, 2)]),
    "TransposedConvolution2DLayer": (lambda: lg.transposedConv2dLayer(3, 2, Stride=2,
                                                                       Cropping="same"),
                                     [(3, 2, 3)]),
    "TransposedConvolution3DLayer": (lambda: lg.transposedConv3dLayer(2, 2, Stride=2),
                                     [(2, 2, 1, 3)]),
    "Crop2DLayer": (lambda: lg.crop2dLayer(), [(5, 6, 2), (3, 3, 4)]),
    "Crop3DLayer": (lambda: lg.crop3dLayer([1, 2, 1]), [(4, 4, 3, 2), (2, 2, 2, 1)]),
    "PixelClassificationLayer": (lambda: lg.pixelClassificationLayer(), [(3, 3, 4)]),
    "DicePixelClassificationLayer": (lambda: lg.dicePixelClassificationLayer(), [(3, 3, 2, 4)]),
    "FocalLossLayer": (lambda: lg.focalLossLayer(), [(1, 1, 3)]),
    "LeakyReLULayer": (lambda: lg.leakyReluLayer(0.2), [(3, 3, 2)]),
    "ClippedReLULayer": (lambda: lg.clippedReluLayer(1), [(3, 3, 2)]),
    "ELULayer": (lambda: lg.eluLayer(), [(3, 3, 2)]),
    "TanhLayer": (lambda: lg.tanhLayer(), [(3, 3, 2)]),
    "SigmoidLayer": (lambda: lg.sigmoidLayer(), [(3, 3, 2)]),
    "SwishLayer": (lambda: lg.swishLayer(), [(3, 3, 2)]),
    "GELULayer": (lambda: lg.geluLayer(), [(3, 3, 2)]),
    "GroupNormalizationLayer": (lambda: lg.groupNormalizationLayer(2), [(3, 3, 4)]),
    "InstanceNormalizationLayer": (lambda: lg.instanceNormalizationLayer(), [(3, 3, 2, 2)]),
    "LayerNormalizationLayer": (lambda: lg.layerNormalizationLayer(), [(3, 3, 2)]),
    "FlattenLayer": (lambda: lg.flattenLayer(), [(3, 2, 2)]),
    "GlobalMaxPooling2DLayer": (lambda: lg.globalMaxPooling2dLayer(), [(3, 4, 2)]),
    "GlobalMaxPooling3DLayer": (lambda: lg.globalMaxPooling3dLayer(), [(3, 2, 2, 2)]),
    "DropoutLayer": (lambda: lg.dropoutLayer(0.3), [(3, 3, 2)]),
}


def _exported_layer_classes():
    return sorted(name for name in lg.layers.__all__
                  if inspect.isclass(getattr(lg.layers, name))
                  and issubclass(getattr(lg.layers, name), Layer) and name != "Layer")


def test_every_exported_layer_class_has_a_case():
    assert sorted(CASES) == _exported_layer_classes()


def _inputs(layer, sizes, rng):
    if layer.IS_INPUT:
        size = tuple(layer.InputSize)
        return [rng.standard_normal((size[-1], 2, *size[:-1]))]
    return [rng.standard_normal((s[-1], 2, *s[:-1])) for s in sizes]


@pytest.mark.parametrize("name", sorted(CASES))
def test_layer_case(name, rng):
    make, sizes = CASES[name]
    layer = make()
    assert type(layer).__name__ == name and registered_layer(name) is type(layer)
    layer = layer.initialize(sizes, rng)
    expected = layer.output_sizes(sizes)
    params = internal_params(layer)
    xs = _inputs(layer, sizes, rng)
    for training in (False, True):
        ys, cache, _ = layer.forward(params, xs, ForwardContext.for_batch(training, 3))
        if layer.IS_OUTPUT:
            assert expected == [] and ys[0].shape == xs[0].shape
            continue
        assert [matlab_size(y) if y.ndim > 2 else (y.shape[0],) for y in ys] == expected
    if not (layer.IS_INPUT or layer.IS_OUTPUT):
        dxs, grads = layer.backward(params, [np.ones_like(y) for y in ys], cache)
        assert [dx.shape for dx in dxs if dx is not None] == \
            [x.shape for x, dx in zip(xs, dxs) if dx is not None]
        assert {k: v.shape for k, v in grads.items()} == \
            {k: params[k].shape for k in layer.LEARNABLES}
    props = layer.properties()
    arrays = {k: v for k, v in props.items() if isinstance(v, np.ndarray)}
    rest = json.loads(json.dumps({k: v for k, v in props.items() if k not in arrays}))
    back = type(layer).from_properties({**rest, **arrays})
    assert repr(back) == repr(layer) and back.description() == layer.description()
