"""trainNetwork checkpoints (``CheckpointPath``): network files that also hold the solver state.

Names follow MATLAB's ``net_checkpoint__<iteration>__<yyyy_MM_dd__HH_mm_ss>`` (extension
``.lgnet``).  Two runs writing the same iteration in the same second into one folder would
collide: the second file gets a counter, ``net_checkpoint__<iteration>__<stamp>__2.lgnet``
(then ``__3`` ...), and no checkpoint ever replaces another (``atomic_write.write_new_file``).
"""
from __future__ import annotations

import itertools
import math
import os
import time
from typing import Any, Iterator

from ..atomic_write import write_new_file
from ..networks.dag_network import DAGNetwork
from .archive import Archive, error
from .network_file import ArrayRef, Plan, build, decode, network_writer, opened, plan, read_graph

__all__: list[str] = []


def checkpoint_names(folder: str, iteration: int, when: float | None = None) -> Iterator[str]:
    """MATLAB's checkpoint name in ``folder``, then the same name with ``__2``, ``__3``, ..."""
    stamp = time.strftime("%Y_%m_%d__%H_%M_%S", time.localtime(when))
    base = os.path.join(folder, f"net_checkpoint__{iteration}__{stamp}")
    yield f"{base}.lgnet"
    for k in itertools.count(2):
        yield f"{base}__{k}.lgnet"


def save_checkpoint(folder: str, net: DAGNetwork, solver: Any, epoch: int, iteration: int) -> str:
    """Write a checkpoint (network, epoch, iteration, solver name and state) into ``folder``
    under a new name; returns the file's path."""
    state = {name: [[layer, param, value] for (layer, param), value in entries.items()]
             for name, entries in solver.state.items()}
    extra = {"checkpoint": {"Epoch": epoch, "Iteration": iteration,
                            "SolverName": solver.options.SolverName,
                            "SolverIteration": solver.iteration, "SolverState": state}}
    return write_new_file(checkpoint_names(folder, iteration), network_writer(net, extra),
                          "trainNetwork")


def _solver_state_bytes(record: Any, archive: Archive, planned: Plan) -> int:
    """Check each solver-state array's header against its learnable (element count, the
    solvers may keep an internal layout); returns their data bytes."""
    states = record.get("SolverState") if isinstance(record, dict) else None
    if not isinstance(states, dict):
        raise error("loadNetwork", "NotACheckpoint", "The file holds no checkpoint record.")
    nbytes = 0
    for name, entries in states.items():
        for entry in entries if isinstance(entries, tuple) else (None,):
            if not (isinstance(entry, tuple) and len(entry) == 3
                    and isinstance(entry[2], ArrayRef) and tuple(entry[:2]) in planned.needs):
                raise error("loadNetwork", "CorruptManifest",
                            f"Solver state {name!r} must list [layer, learnable, array] rows "
                            "naming learnables of the network.")
            header = archive.header(entry[2].name)
            needed = math.prod(planned.needs[tuple(entry[:2])])
            if math.prod(header.shape) != needed:
                raise error("loadNetwork", "WrongShape",
                            f"Solver state {name!r} of {entry[0]}/{entry[1]} is declared as "
                            f"{header.describe()}; the learnable has {needed} elements. "
                            "No array data was read.")
            nbytes += header.nbytes
    return nbytes


def load_checkpoint(path: Any) -> tuple[DAGNetwork, dict]:
    """``(net, checkpoint)``; checkpoint['SolverState'][name][(layer, param)] -> array."""
    with opened(path) as (archive, manifest):
        planned = plan(manifest, archive)
        record = decode(manifest.get("checkpoint"), archive, read=False)
        archive.budget = planned.nbytes + _solver_state_bytes(record, archive, planned)
        net = build(manifest["kind"], read_graph(manifest, archive, planned))
        info = decode(manifest["checkpoint"], archive, read=True)
        info["SolverState"] = {name: {(layer, param): value for layer, param, value in entries}
                               for name, entries in info["SolverState"].items()}
    return net, info
