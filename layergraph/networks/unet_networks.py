"""The R2024a dlnetwork U-Net builders ``unet3d`` and ``unet`` (Computer Vision Toolbox).

``net = unet3d(inputSize, numClasses, EncoderDepth=3, NumFirstEncoderFilters=32, FilterSize=3,
ConvolutionPadding="same")`` returns an initialized :class:`dlnetwork` that ends in the softmax
'FinalNetworkSoftmax-Layer' (no output layer: train it with a custom loop, or add a
``pixelClassificationLayer`` to the graph for trainNetwork). ``nargout=2`` also returns the
output size ``(h, w[, d], numClasses)``. Plans: :mod:`layergraph.builders.unet`.
"""
from __future__ import annotations

from typing import Any

from ..builders import unet as unet_builders
from .dlnetwork import dlnetwork

__all__ = ["unet3d", "unet"]


def _network(style: str, size: Any, num_classes: Any, pairs: tuple, options: dict, nargout: Any) -> Any:
    spec = unet_builders.parse_unet_arguments(unet_builders.STYLES[style], size, num_classes, pairs,
                                              options)
    unet_builders.check_nargout(spec, nargout)
    net = dlnetwork(unet_builders.build_unet(spec))
    return (net, unet_builders.output_size(spec)) if nargout == 2 else net


def unet3d(inputSize: Any, numClasses: Any, *nameValuePairs: Any, nargout: int = 1, **options: Any) -> Any:
    """3-D U-Net dlnetwork (MATLAB ``unet3d``, R2024a).

    >>> net = unet3d([16, 16, 16, 3], 5, EncoderDepth=2, NumFirstEncoderFilters=4)
    >>> len(net.Layers), len(net.Connections), len(net.Learnables), len(net.State)
    (45, 48, 46, 20)
    >>> net.InputNames, net.OutputNames
    (['encoderImageInputLayer'], ['FinalNetworkSoftmax-Layer'])
    """
    return _network("unet3d", inputSize, numClasses, nameValuePairs, options, nargout)


def unet(imageSize: Any, numClasses: Any, *nameValuePairs: Any, nargout: int = 1, **options: Any) -> Any:
    """2-D U-Net dlnetwork (MATLAB ``unet``, R2024a): defaults EncoderDepth 4,
    NumFirstEncoderFilters 32, FilterSize 3, ConvolutionPadding "same".

    >>> net = unet([32, 48, 3], 5, EncoderDepth=3, NumFirstEncoderFilters=4)
    >>> len(net.Layers), len(net.Connections), len(net.Learnables), len(net.State)
    (48, 53, 36, 0)
    """
    return _network("unet", imageSize, numClasses, nameValuePairs, options, nargout)
