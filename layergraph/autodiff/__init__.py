"""Automatic differentiation as MATLAB's: ``dlarray``, ``dlfeval``, ``dlgradient`` and the
deep-learning functions on dlarrays (see docs/networks.md).

Level 0 inside layergraph/: imports only ops and layers (errors, validation).
"""
from .activations import gelu, leakyrelu, relu, sigmoid, softmax
from .deep_ops import avgpool, dlconv, dltranspconv, fullyconnect, maxpool
from .differentiate import dlfeval, dlgradient
from .dlarray import dims, dlarray, extractdata, finddim, gather, stripdims
from .losses import crossentropy, huber, indexcrossentropy, l1loss, l2loss, mse
from .normalization import batchnorm, groupnorm, instancenorm, layernorm

__all__ = ["dlarray", "dims", "finddim", "stripdims", "extractdata", "gather", "dlfeval", "dlgradient",
           "crossentropy", "indexcrossentropy", "mse", "l1loss", "l2loss", "huber",
           "sigmoid", "softmax", "relu", "leakyrelu", "gelu",
           "dlconv", "dltranspconv", "fullyconnect", "maxpool", "avgpool",
           "batchnorm", "groupnorm", "layernorm", "instancenorm"]
