"""layergraph: MATLAB Deep Learning Toolbox layer graphs on NumPy and CuPy.

``from layergraph import *`` brings every MATLAB-named public function into scope.
Each module defines ``__all__``; this file only re-exports.
"""
__version__ = "0.1.0"

from .layers import *  # noqa: F401,F403
from .graph import *  # noqa: F401,F403
from .builders import *  # noqa: F401,F403
from .analysis import *  # noqa: F401,F403
from .executor import *  # noqa: F401,F403
from .network import *  # noqa: F401,F403
from .dlnetwork import *  # noqa: F401,F403
from .options import *  # noqa: F401,F403
from .solvers import *  # noqa: F401,F403
from .train import *  # noqa: F401,F403
from .io import *  # noqa: F401,F403
from .datasets import *  # noqa: F401,F403
from . import layers as _layers
from . import (graph, builders, analysis, executor, network, dlnetwork, options, solvers,
               train, io, datasets)

__all__ = list(_layers.__all__) + [
    name
    for mod in (graph, builders, analysis, executor, network, dlnetwork, options, solvers,
                train, io, datasets)
    for name in mod.__all__
]
