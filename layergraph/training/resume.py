"""Resuming trainNetwork from a checkpoint (``trainNetwork(..., ResumeFrom=path)``).

MATLAB resumes by passing the checkpoint network's layers back to trainNetwork (the weights
continue, the solver starts afresh).  ``ResumeFrom`` also restores the solver state (SGDM
velocity, Adam/RMSProp averages and Adam's step count) and the iteration counter: with the
same ``rng`` seed, data, layers and options, the run continues exactly as the uninterrupted
one (the iterations up to the checkpoint are skipped, their shuffles still drawn).
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np

from ..layers.errors import MException
from ..ops import _backend
from ..serialization.checkpoints import load_checkpoint

__all__: list[str] = []

_FUNC = "trainNetwork"


def checkpoint_graph(lgraph: Any, path: Any, options: Any) -> tuple[Any, dict]:
    """``lgraph`` with every layer replaced by the checkpoint network's layer of that name,
    and the checkpoint record (Epoch, Iteration, SolverName, SolverIteration, SolverState)."""
    if not isinstance(path, (str, os.PathLike)):
        raise MException(f"nnet_cnn:{_FUNC}:InvalidResumeFrom",
                         f"ResumeFrom must be the path of a checkpoint file. Received: {type(path).__name__}.")
    net, info = load_checkpoint(path)
    saved = {layer.Name: layer for layer in net.Layers}
    ours = [layer.Name for layer in lgraph.Layers]
    if sorted(saved) != sorted(ours) or any(type(saved[n]) is not type(layer)
                                            for n, layer in zip(ours, lgraph.Layers)):
        raise MException(f"nnet_cnn:{_FUNC}:CheckpointMismatch",
                         f"ResumeFrom must be a checkpoint of the same network (layer names and types). "
                         f"Received: layers {sorted(saved)} in '{os.fspath(path)}', training {sorted(ours)}.")
    if info["SolverName"] != options.SolverName:
        raise MException(f"nnet_cnn:{_FUNC}:CheckpointSolverMismatch",
                         f"ResumeFrom holds the state of solver '{info['SolverName']}'; the options use "
                         f"'{options.SolverName}'.")
    return lgraph.with_layers([saved[n] for n in ours]), info


def restore(trainer: Any, info: dict) -> None:
    """Put the checkpoint's solver state and iteration counter into a new trainer."""
    ex, solver = trainer.ex, trainer.solver
    for name, entries in info["SolverState"].items():
        solver.state[name] = {key: _backend.to_device(np.asarray(value, dtype=ex.dtype), ex.device)
                              for key, value in entries.items()}
    solver.iteration = int(info["SolverIteration"])
    trainer.resume_iteration = int(info["Iteration"])
    if trainer.resume_iteration >= trainer.total:
        raise MException(f"nnet_cnn:{_FUNC}:NothingToResume",
                         f"The checkpoint is at iteration {trainer.resume_iteration}; MaxEpochs="
                         f"{trainer.o.MaxEpochs} gives {trainer.total} iterations. Increase MaxEpochs.")
