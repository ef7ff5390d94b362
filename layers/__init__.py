"""MATLAB layer objects and their constructor functions.

Each module defines ``__all__``; everything listed there is re-exported here and from
``layergraph``.
"""
from .errors import MException
from .base import Layer
from .input import *  # noqa: F401,F403
from .convolution import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .activation import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .combination import *  # noqa: F401,F403
from .fully_connected import *  # noqa: F401,F403
from .output import *  # noqa: F401,F403
from .transposed_convolution import *  # noqa: F401,F403
from .crop import *  # noqa: F401,F403
from .segmentation_output import *  # noqa: F401,F403
from .elementwise import *  # noqa: F401,F403
from .group_normalization import *  # noqa: F401,F403
from .flatten import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from . import input, convolution, normalization, activation, pooling, combination, fully_connected, output
from . import transposed_convolution, crop, segmentation_output, elementwise, group_normalization, flatten
from . import dropout

__all__ = ["MException", "Layer"] + [
    name
    for mod in (input, convolution, normalization, activation, pooling, combination,
                fully_connected, output, transposed_convolution, crop, segmentation_output, elementwise,
                group_normalization, flatten, dropout)
    for name in mod.__all__
]
