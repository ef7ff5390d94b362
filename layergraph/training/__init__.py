"""trainingOptions, trainNetwork and trainnet.

Modules: options (trainingOptions), train_network (trainNetwork), trainnet (trainnet, testnet), setup (preparation and finishing passes),
progress (the verbose table and the training info), schedules (learning-rate schedules), metrics (metric objects).
"""
from . import options
from . import train_network
from . import trainnet
from . import schedules
from . import metrics

__all__: list[str] = []
for _module in (options, train_network, trainnet, schedules, metrics):
    for _name in _module.__all__:
        globals()[_name] = getattr(_module, _name)
        __all__.append(_name)
del _module, _name
