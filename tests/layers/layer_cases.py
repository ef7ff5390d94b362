"""THE table of layer cases: one or more entries per exported layer class.

Read by tests/layers/test_layer_cases.py (registry, output sizes vs forward, backward shapes,
finite-difference gradients, display, property and save/load round trips) and by
test_display.py / test_roundtrip.py. Adding a layer class: append its case(s) here, nothing
else in the tests is required (test_every_exported_layer_class_has_a_case enforces it).

A case: ``make`` builds the layer (the MATLAB constructor call); ``inputs`` are the input sizes
in MATLAB order without the batch (``[]`` for input layers, None: display-only case);
``outputs`` the expected ``output_sizes`` (None: not stated); ``type``/``description`` the
display facts (the Type column and the one-line description; None: not stated); ``gradients``:
run the finite-difference check (off for layers whose gradient is not the derivative of their
inference forward, and for output layers, whose loss has its own tests).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

import layergraph as lg


@dataclass(frozen=True)
class LayerCase:
    make: Callable[[], Any]
    inputs: list[tuple[int, ...]] | None
    outputs: list[tuple[int, ...]] | None = None
    type: str | None = None
    description: str | None = None
    gradients: bool = True
    id: str = ""

    @property
    def name(self) -> str:
        return self.id or type(self.make()).__name__


def case(make, inputs=None, outputs=None, type=None, description=None, gradients=True, id=""):
    return LayerCase(make, inputs, outputs, type, description, gradients, id)


_999 = ["tench"] + [f"c{i}" for i in range(999)]

CASES: list[LayerCase] = [
    # ---- input layers
    case(lambda: lg.imageInputLayer([4, 5, 2], Normalization="none"), [], [(4, 5, 2)],
         "Image Input", "4x5x2 images with 'none' normalization"),
    case(lambda: lg.imageInputLayer([28, 28, 1]), None, None,
         "Image Input", "28x28x1 images with 'zerocenter' normalization", id="imageInput zerocenter"),
    case(lambda: lg.imageInputLayer([8, 8], Normalization="zscore", NormalizationDimension="element"),
         None, id="imageInput zscore element"),
    case(lambda: lg.image3dInputLayer([3, 4, 2, 2], Normalization="none"), [], [(3, 4, 2, 2)],
         "3-D Image Input", "3x4x2x2 images with 'none' normalization"),
    case(lambda: lg.image3dInputLayer([64, 64, 64]), None, None,
         "3-D Image Input", "64x64x64x1 images with 'zerocenter' normalization",
         id="image3dInput zerocenter"),
    case(lambda: lg.image3dInputLayer([8, 8, 8, 2], Name="in", Mean=np.ones((1, 1, 1, 2))), None,
         id="image3dInput with Mean"),
    # ---- convolution
    case(lambda: lg.convolution2dLayer(3, 4, Padding="same"), [(5, 4, 2)], [(5, 4, 4)],
         "2-D Convolution", "4 3x3 convolutions with stride [1  1] and padding 'same'"),
    case(lambda: lg.convolution2dLayer(3, 25), [(5, 5, 1)], [(3, 3, 25)], "2-D Convolution",
         "25 3x3 convolutions with stride [1  1] and padding [0  0  0  0]", id="convolution2d 25"),
    case(lambda: lg.convolution2dLayer(3, 64, NumChannels=64, Padding="same"), None, None,
         "2-D Convolution", "64 3x3x64 convolutions with stride [1  1] and padding 'same'",
         id="convolution2d NumChannels"),
    case(lambda: lg.convolution2dLayer([3, 1], 4, Padding="same", WeightsInitializer="he",
                                       BiasLearnRateFactor=0), [(4, 3, 2)], [(4, 3, 4)],
         id="convolution2d he"),
    case(lambda: lg.convolution3dLayer(2, 3, Stride=2), [(4, 4, 3, 2)], [(2, 2, 1, 3)],
         "3-D Convolution", "3 2x2x2 convolutions with stride [2  2  2] and padding [0  0  0;0  0  0]"),
    case(lambda: lg.convolution3dLayer(7, 64, Stride=2, Padding="same"), [(224, 224, 64, 3)],
         [(112, 112, 32, 64)], "3-D Convolution",
         "64 7x7x7 convolutions with stride [2  2  2] and padding 'same'", gradients=False,
         id="convolution3d stem"),
    case(lambda: lg.convolution3dLayer(1, 8, Padding=[[0, 1, 2], [3, 4, 10]]), None, None,
         "3-D Convolution",
         "8 1x1x1 convolutions with stride [1  1  1] and padding [0   1   2;3   4  10]",
         id="convolution3d 1x1x1 padded"),
    case(lambda: lg.convolution3dLayer(3, 4, Stride=2, Padding=[[0, 1, 2], [1, 1, 1]], Name="c"),
         [(8, 8, 8, 2)], [(4, 4, 5, 4)], id="convolution3d manual padding"),
    case(lambda: lg.transposedConv2dLayer(3, 2, Stride=2, Cropping="same"), [(3, 2, 3)],
         [(6, 4, 2)], "2-D Transposed Convolution",
         "2 3x3 transposed convolutions with stride [2  2] and cropping 'same'"),
    case(lambda: lg.transposedConv3dLayer(2, 2, Stride=2), [(2, 2, 1, 3)], [(4, 4, 2, 2)],
         "3-D Transposed Convolution",
         "2 2x2x2 transposed convolutions with stride [2  2  2] and cropping [0  0  0;0  0  0]"),
    # ---- normalization
    case(lambda: lg.batchNormalizationLayer(), [(3, 3, 2)], [(3, 3, 2)],
         "Batch Normalization", "Batch normalization"),
    case(lambda: lg.batchNormalizationLayer(Offset=np.zeros((1, 1, 1, 64))), None, None,
         "Batch Normalization", "Batch normalization with 64 channels", id="batchNormalization 64"),
    case(lambda: lg.batchNormalizationLayer(Epsilon=1e-3), [(4, 4, 4, 3)], [(4, 4, 4, 3)],
         id="batchNormalization Epsilon"),
    case(lambda: lg.groupNormalizationLayer(2), [(3, 3, 4)], [(3, 3, 4)],
         "Group Normalization", "Group normalization"),
    case(lambda: lg.instanceNormalizationLayer(), [(3, 3, 2, 2)], [(3, 3, 2, 2)],
         "Instance Normalization", "Instance normalization"),
    case(lambda: lg.layerNormalizationLayer(), [(3, 3, 2)], [(3, 3, 2)],
         "Layer Normalization", "Layer normalization"),
    case(lambda: lg.layerNormalizationLayer(OperationDimension="channel-only"), [(3, 2, 4)],
         [(3, 2, 4)], "Layer Normalization", "Layer normalization", id="layerNormalization channel-only"),
    case(lambda: lg.layerNormalizationLayer("OperationDimension", "batch-ex"), [(2, 2, 2, 3)],
         [(2, 2, 2, 3)], id="layerNormalization batch-excluded 3-D"),
    # ---- activations and dropout
    case(lambda: lg.reluLayer(), [(3, 3, 2)], [(3, 3, 2)], "ReLU", "ReLU"),
    case(lambda: lg.reluLayer(Name="r"), None, id="relu named"),
    case(lambda: lg.leakyReluLayer(0.2), [(3, 3, 2)], [(3, 3, 2)],
         "Leaky ReLU", "Leaky ReLU with scale 0.2"),
    case(lambda: lg.clippedReluLayer(1), [(3, 3, 2)], [(3, 3, 2)],
         "Clipped ReLU", "Clipped ReLU with ceiling 1"),
    case(lambda: lg.eluLayer(), [(3, 3, 2)], [(3, 3, 2)], "ELU", "ELU with Alpha 1"),
    case(lambda: lg.tanhLayer(), [(3, 3, 2)], [(3, 3, 2)], "Tanh", "Hyperbolic tangent"),
    case(lambda: lg.sigmoidLayer(), [(3, 3, 2)], [(3, 3, 2)], "Sigmoid", "sigmoid"),
    case(lambda: lg.swishLayer(), [(3, 3, 2)], [(3, 3, 2)], "Swish", "swish"),
    case(lambda: lg.geluLayer(), [(3, 3, 2)], [(3, 3, 2)], "GELU", "GELU"),
    case(lambda: lg.softmaxLayer(), [(1, 1, 4)], [(1, 1, 4)], "Softmax", "softmax"),
    case(lambda: lg.dropoutLayer(0.3), [(3, 3, 2)], [(3, 3, 2)], "Dropout", "30% dropout"),
    # ---- pooling
    case(lambda: lg.maxPooling2dLayer(2, Stride=2), [(4, 4, 2)], [(2, 2, 2)], "2-D Max Pooling",
         "2x2 max pooling with stride [2  2] and padding [0  0  0  0]"),
    case(lambda: lg.maxPooling2dLayer(3, Stride=2), None, None, "2-D Max Pooling",
         "3x3 max pooling with stride [2  2] and padding [0  0  0  0]", id="maxPooling2d 3"),
    case(lambda: lg.maxPooling3dLayer(2, Stride=2), [(4, 4, 2, 2)], [(2, 2, 1, 2)],
         "3-D Max Pooling", "2x2x2 max pooling with stride [2  2  2] and padding [0  0  0;0  0  0]"),
    case(lambda: lg.maxPooling3dLayer(3, Stride=2, Padding="same"), [(32, 32, 32, 64)],
         [(16, 16, 16, 64)], "3-D Max Pooling",
         "3x3x3 max pooling with stride [2  2  2] and padding 'same'", gradients=False,
         id="maxPooling3d same"),
    case(lambda: lg.averagePooling2dLayer(2), [(4, 3, 2)], [(3, 2, 2)], "2-D Average Pooling",
         "2x2 average pooling with stride [1  1] and padding [0  0  0  0]"),
    case(lambda: lg.averagePooling2dLayer(7, Stride=7), [(7, 7, 2048)], [(1, 1, 2048)],
         "2-D Average Pooling", "7x7 average pooling with stride [7  7] and padding [0  0  0  0]",
         gradients=False, id="averagePooling2d 7"),
    case(lambda: lg.averagePooling2dLayer(3, Padding=1), [(4, 4, 1)], [(4, 4, 1)],
         id="averagePooling2d padded"),
    case(lambda: lg.averagePooling3dLayer(2), [(3, 3, 3, 2)], [(2, 2, 2, 2)],
         "3-D Average Pooling",
         "2x2x2 average pooling with stride [1  1  1] and padding [0  0  0;0  0  0]"),
    case(lambda: lg.averagePooling3dLayer(3, Stride=2, Padding="same"), None, None,
         "3-D Average Pooling", "3x3x3 average pooling with stride [2  2  2] and padding 'same'",
         id="averagePooling3d same"),
    case(lambda: lg.averagePooling3dLayer(2, PaddingValue="mean"), [(3, 3, 3, 1)],
         [(2, 2, 2, 1)], id="averagePooling3d mean"),
    case(lambda: lg.globalAveragePooling2dLayer(), [(3, 4, 2)], [(1, 1, 2)],
         "2-D Global Average Pooling", "Global average pooling"),
    case(lambda: lg.globalAveragePooling3dLayer(), [(3, 2, 2, 2)], [(1, 1, 1, 2)],
         "3-D Global Average Pooling", "3-D global average pooling"),
    case(lambda: lg.globalMaxPooling2dLayer(), [(3, 4, 2)], [(1, 1, 2)],
         "2-D Global Max Pooling", "Global max pooling"),
    case(lambda: lg.globalMaxPooling3dLayer(), [(3, 2, 2, 2)], [(1, 1, 1, 2)],
         "3-D Global Max Pooling", "3-D global max pooling"),
    # ---- combination, reshaping, cropping
    case(lambda: lg.additionLayer(2), [(3, 3, 2)] * 2, [(3, 3, 2)],
         "Addition", "Element-wise addition of 2 inputs"),
    case(lambda: lg.additionLayer(3, Name="add"), [(2, 2, 1)] * 3, [(2, 2, 1)], id="addition 3"),
    case(lambda: lg.depthConcatenationLayer(2), [(3, 3, 2), (3, 3, 1)], [(3, 3, 3)],
         "Depth concatenation", "Depth concatenation of 2 inputs"),
    case(lambda: lg.depthConcatenationLayer(3), None, None, "Depth concatenation",
         "Depth concatenation of 3 inputs", id="depthConcatenation 3"),
    case(lambda: lg.concatenationLayer(2, 3), [(3, 1, 2), (3, 2, 2), (3, 1, 2)], [(3, 4, 2)],
         "Concatenation", "Concatenation of 3 inputs along dimension 2"),
    case(lambda: lg.fullyConnectedLayer(3), [(2, 2, 2)], [(1, 1, 3)],
         "Fully Connected", "3 fully connected layer"),
    case(lambda: lg.fullyConnectedLayer(10), None, None, "Fully Connected",
         "10 fully connected layer", id="fullyConnected 10"),
    case(lambda: lg.fullyConnectedLayer(5), [(1, 1, 1, 6)], [(1, 1, 1, 5)], id="fullyConnected 3-D"),
    case(lambda: lg.flattenLayer(), [(3, 2, 2)], [(12,)], "Flatten", "Flatten"),
    case(lambda: lg.crop2dLayer(), [(5, 6, 2), (3, 3, 4)], [(3, 3, 2)], "Crop 2D", "center crop",
         gradients=False),   # no gradient to the reference input: test_layers_segmentation
    case(lambda: lg.crop3dLayer([1, 2, 1]), [(4, 4, 3, 2), (2, 2, 2, 1)], [(2, 2, 2, 2)],
         "Crop 3D", "crop at location [1  2  1]", gradients=False),
    # ---- output layers
    case(lambda: lg.classificationLayer(), [(1, 1, 3)], [], "Classification Output",
         "crossentropyex", gradients=False),
    case(lambda: lg.classificationLayer(Classes=_999), None, None, "Classification Output",
         "crossentropyex with 'tench' and 999 other classes", id="classification 1000"),
    case(lambda: lg.classificationLayer(Classes=["cat", "dog"]), None, None,
         "Classification Output", "crossentropyex with classes 'cat' and 'dog'",
         id="classification cat dog"),
    case(lambda: lg.classificationLayer(Classes=["a", "b"], ClassWeights=[1.0, 2.0]), None,
         id="classification weighted"),
    case(lambda: lg.regressionLayer(), [(1, 1, 2)], [], "Regression Output",
         "mean-squared-error", gradients=False),
    case(lambda: lg.regressionLayer(ResponseNames=["Response"]), None, None, "Regression Output",
         "mean-squared-error with response 'Response'", id="regression named"),
    case(lambda: lg.regressionLayer(ResponseNames=["y1", "y2"]), None, id="regression 2"),
    case(lambda: lg.pixelClassificationLayer(), [(3, 3, 4)], [], "Pixel Classification Layer",
         "Cross-entropy loss", gradients=False),
    case(lambda: lg.dicePixelClassificationLayer(), [(3, 3, 2, 4)], [],
         "Dice Pixel Classification Layer", "Generalized Dice loss", gradients=False),
    case(lambda: lg.focalLossLayer(), [(1, 1, 3)], [], "Focal Loss Layer", "Focal loss",
         gradients=False),
]
