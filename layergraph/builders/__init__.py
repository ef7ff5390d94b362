"""Network builders that return MATLAB's documented layer graphs.

Modules: resnet (resnet3dLayers, resnetLayers), unet (unet3dLayers, unetLayers).
"""
from . import resnet
from . import unet

__all__: list[str] = []
for _module in (resnet, unet):
    for _name in _module.__all__:
        globals()[_name] = getattr(_module, _name)
        __all__.append(_name)
del _module, _name
