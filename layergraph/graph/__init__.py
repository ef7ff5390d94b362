"""LayerGraph values and everything that reads or edits them without running them.

Modules: layer_graph (LayerGraph), editing (layerGraph, addLayers, ...), display (MATLAB text),
analysis (analyzeNetwork, sizes), incoming_layers (name checks), toposort (MATLAB's order).
"""
from . import layer_graph
from . import editing
from . import analysis

__all__: list[str] = []
for _module in (layer_graph, editing, analysis,):
    for _name in _module.__all__:
        globals()[_name] = getattr(_module, _name)
        __all__.append(_name)
del _module, _name
