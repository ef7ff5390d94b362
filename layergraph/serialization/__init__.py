"""Network files: a zip of JSON metadata and raw arrays that loads without pickle or eval.

Modules: network_file (saveNetwork, loadNetwork), archive (checked, memory-bounded reading),
checkpoints (trainNetwork's CheckpointPath files); see docs/saving.md.
"""
from . import network_file

__all__: list[str] = []
for _module in (network_file,):
    for _name in _module.__all__:
        globals()[_name] = getattr(_module, _name)
        __all__.append(_name)
del _module, _name
