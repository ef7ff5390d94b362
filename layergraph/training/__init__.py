"""trainingOptions and trainNetwork.

Modules: options (trainingOptions), train_network (trainNetwork), setup (preparation and finishing passes),
progress (the verbose table and the training info).
"""
from . import options
from . import train_network

__all__: list[str] = []
for _module in (options, train_network,):
    for _name in _module.__all__:
        globals()[_name] = getattr(_module, _name)
        __all__.append(_name)
del _module, _name
