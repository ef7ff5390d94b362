"""layergraph: MATLAB Deep Learning Toolbox layer graphs on NumPy and CuPy.

``from layergraph import *`` brings every MATLAB-named public function into scope.
Each module defines ``__all__``; this file only re-exports.
"""
import importlib as _importlib

__version__ = "0.1.0"

_MODULES = ("autodiff", "graph", "builders", "networks", "training", "serialization", "datasets", "rng",
            "plotting", "data")

from .layers import *  # noqa: F401,F403,E402
from .layers import __all__ as _layer_names  # noqa: E402

__all__ = list(_layer_names)
for _name in _MODULES:
    # importlib, not attribute access: exported names may shadow module names (dlnetwork).
    _module = _importlib.import_module(f"{__name__}.{_name}")
    for _export in _module.__all__:
        globals()[_export] = getattr(_module, _export)   # later modules win (networks' dlgradient)
        if _export not in __all__:
            __all__.append(_export)
del _name, _module, _export
