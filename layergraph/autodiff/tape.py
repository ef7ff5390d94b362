"""The reverse-mode tape behind ``dlfeval`` / ``dlgradient``.

While a ``dlfeval`` call runs, every operation on a dlarray appends a ``Node`` to the active
``Tape``: the tape ids of its outputs, of its inputs (``None`` for constants) and a backward
function ``backward(output_grads, need) -> input grads``.  Tape ids grow in recording order, so
a reverse sweep over the nodes is a reverse topological order.  Leaves (dlarrays made outside
the call, or arrays a network registers, such as its learnables) get an id the first time an
operation uses them; ``leaf_id`` finds them again by identity.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from ..ops._backend import get_xp

Backward = Callable[[list[Any], list[bool]], Sequence[Any]]


@dataclass
class Node:
    outputs: tuple[int, ...]
    inputs: tuple[int | None, ...]
    backward: Backward
    out_like: tuple[tuple[tuple[int, ...], Any, Any], ...]    # (shape, dtype, xp) per output
    # totals(output_grads, need) -> (total gradient of each output, input grads): for nodes whose
    # outputs depend on each other inside the node (a network's intermediate outputs)
    totals: Callable[[list[Any], list[bool]], tuple[Sequence[Any], Sequence[Any]]] | None = None


class Tape:
    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self._count = 0
        self._leaves: dict[int, tuple[int, Any]] = {}   # id(object) -> (tape id, object kept alive)
        self.open = True
        self.meta: dict[str, Any] = {}     # per-call bookkeeping of higher levels (traced learnables)

    def new_id(self) -> int:
        self._count += 1
        return self._count

    def leaf_id(self, obj: Any, create: bool = True) -> int | None:
        """Tape id of a leaf object (by identity); a new one when ``create``."""
        entry = self._leaves.get(id(obj))
        if entry is not None and entry[1] is obj:
            return entry[0]
        if not create:
            return None
        tid = self.new_id()
        self._leaves[id(obj)] = (tid, obj)
        return tid

    def close(self) -> None:
        """Free every recorded cache (dlfeval's end)."""
        self.nodes.clear()
        self._leaves.clear()
        self.meta.clear()
        self.open = False


_STACK: list[Tape] = []


def active() -> Tape | None:
    """The tape of the innermost running ``dlfeval``, or None."""
    return _STACK[-1] if _STACK else None


def push() -> Tape:
    tape = Tape()
    _STACK.append(tape)
    return tape


def pop(tape: Tape) -> None:
    if _STACK and _STACK[-1] is tape:
        _STACK.pop()
    tape.close()


def gradients(tape: Tape, root: int, root_grad: Any, targets: Sequence[int | None]) -> list[Any]:
    """d root / d target for every target id (None where the root does not depend on it)."""
    return vjp(tape, {root: root_grad}, targets)


def vjp(tape: Tape, seeds: dict[int, Any], targets: Sequence[int | None]) -> list[Any]:
    """sum_k <seeds[k], d value_k / d target> for every target id (a vector-Jacobian product)."""
    root = max(seeds)
    wanted = {t for t in targets if t is not None}
    reach = set(wanted)
    for node in tape.nodes:                       # forward: which nodes lead from a target
        if node.outputs[0] <= root and (any(i in reach for i in node.inputs if i is not None) or (
                node.totals is not None and any(o in wanted for o in node.outputs))):
            reach.update(node.outputs)      # (a totals node: a wanted output depends on its siblings)
    grads: dict[int, Any] = dict(seeds)
    for node in reversed(tape.nodes):
        if node.outputs[0] > root or not any(o in grads for o in node.outputs):
            continue
        need = [i is not None and i in reach for i in node.inputs]
        outs = [grads.get(o) if o in wanted else grads.pop(o, None) for o in node.outputs]
        use_totals = node.totals is not None and any(o in wanted for o in node.outputs)
        if not (any(need) or use_totals):
            continue
        outs = [g if g is not None else xp.zeros(shape, dtype)
                for g, (shape, dtype, xp) in zip(outs, node.out_like)]
        if use_totals:
            totals, input_grads = node.totals(outs, need)
            grads.update({o: t for o, t in zip(node.outputs, totals) if o in wanted and t is not None})
        else:
            input_grads = node.backward(outs, need)
        for tid, g, n in zip(node.inputs, input_grads, need):
            if n and g is not None:
                grads[tid] = g if tid not in grads else grads[tid] + g
    return [grads.get(t) if t is not None else None for t in targets]


def like(x: Any) -> tuple[tuple[int, ...], Any, Any]:
    return (tuple(x.shape), x.dtype, get_xp(x))
