"""Network objects: DAGNetwork, dlnetwork and the custom-training-loop functions.

Modules: dag_network (DAGNetwork, predict, classify, activations), dlnetwork, custom_loop (dlfeval,
dlgradient, losses), updates (sgdmupdate, adamupdate, rmspropupdate, dlupdate), differentiable
(dlnetwork calls on the autodiff tape), custom_layer (user-defined layers), check_layer
(checkLayer), minibatchqueue, gradcam (gradCAM), occlusion (occlusionSensitivity), unet_networks (unet3d, unet), onehot (onehotencode, onehotdecode),
segmentation (semanticseg, dice, jaccard).
"""
from . import dag_network
from . import dlnetwork
from . import custom_loop
from . import updates
from . import unet_networks
from . import onehot
from . import segmentation
from . import custom_layer  # noqa: F401  (installs the adapter of user-defined layers)
from . import check_layer
from . import minibatchqueue
from . import gradcam
from . import occlusion

__all__: list[str] = []
for _module in (dag_network, dlnetwork, custom_loop, updates, unet_networks, onehot, segmentation,
                check_layer, minibatchqueue, gradcam, occlusion):
    for _name in _module.__all__:
        globals()[_name] = getattr(_module, _name)
        __all__.append(_name)
del _module, _name
