"""dlnetwork ``forward``/``predict`` as nodes of the autodiff tape.

Inside ``dlfeval`` a network call is one node: its inputs are ``X`` and the network's
learnables (the dlarrays ``net.Learnables`` hands out while the tape runs: one per parameter
array, so a loss term built from ``net.Learnables`` and the network call share variables), its
outputs the requested activations as formatted dlarrays ('CB' after a fully connected layer,
'SSCB' / 'SSSCB' otherwise).  Its backward is the executor's reverse sweep
(``Executor.backward``), which also reports the total gradient at intermediate outputs
(``forward(net, X, Outputs=...)``) and at the input layer (then through its normalization).

Devices: the network runs on the device of ``X`` (``dlnetwork.executor_on``); once a call on
the GPU ran in a ``dlfeval``, ``net.Learnables`` hands out GPU copies of the (host-side)
learnables, and every gradient comes back on the device of the variable it belongs to.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..autodiff import tape as tape_module
from ..autodiff.dlarray import dlarray, record
from ..ops import _backend
from ..runtime.layout import internal_to_matlab, matlab_to_internal

_LEARNABLES_KEY = "dlnetwork learnables"
NETWORKS_KEY = "dlnetworks called"
_DEVICE_KEY = "dlnetwork device"


def tracing() -> bool:
    return tape_module.active() is not None


def use_device(device: str) -> None:
    """Inside dlfeval: learnables handed out from now on are copies on ``device`` (a network
    call on the GPU sets it; the first copy of an array made stays its variable)."""
    tape_module.active().meta[_DEVICE_KEY] = device


def traced_value(value: Any) -> Any:
    """Inside dlfeval: the one dlarray standing for a learnable array (by identity); else ``value``."""
    tape = tape_module.active()
    if tape is None or not isinstance(value, np.ndarray) or value.dtype.kind != "f":
        return value
    cache = tape.meta.setdefault(_LEARNABLES_KEY, {})
    entry = cache.get(id(value))
    if entry is None or entry[0] is not value:
        device = tape.meta.get(_DEVICE_KEY, "cpu")
        entry = (value, dlarray._new(value if device == "cpu" else _backend.to_device(value, device), ""))
        cache[id(value)] = entry
    return entry[1]


def output_formats(net: Any, names: Sequence[str], num_spatial: int) -> list[str]:
    return ["CB" if net._flat[n] else "S" * num_spatial + "CB" for n in names]


def _like(g: Any, ref: Any) -> Any:
    """Host gradient ``g`` moved to the device of ``ref`` (a dlarray or an array)."""
    data = ref._data if isinstance(ref, dlarray) else ref
    return _backend.to_device(g, "gpu") if g is not None and _backend.is_gpu_array(data) else g


def record_call(net: Any, ex: Any, X: Any, names: list[str], fp: Any, num_spatial: int) -> list[dlarray]:
    """The outputs of a network call on executor ``ex`` as dlarrays on ``X``'s device, recorded
    on the active tape (if any)."""
    ys = [_like(net._to_matlab(n, fp.outputs[n]), X) for n in names]
    fmts = output_formats(net, names, num_spatial)
    layers = [layer for layer in net.Layers]
    rows = [(layer, p) for layer in layers for p in layer.LEARNABLES]
    if not tracing():
        return [dlarray._new(y, f) for y, f in zip(ys, fmts)]
    params = [traced_value(getattr(layer, p)) for layer, p in rows]
    called = tape_module.active().meta.setdefault(NETWORKS_KEY, [])
    if not any(n is net for n in called):
        called.append(net)
    input_layer = next(layer for layer in layers if layer.IS_INPUT)
    x_shape = np.shape(X._data if isinstance(X, dlarray) else X)

    def totals(outs: list[Any], need: list[bool]):
        report = {n: None for n in names}
        if need[0]:
            report[input_layer.Name] = None
        dout = {n: _internal_grad(net, ex, n, g, fp, num_spatial) for n, g in zip(names, outs)}
        grads = ex.backward(fp, dout, report=report)
        output_totals = [None if report[n] is None else _like(net._to_matlab(n, report[n]), X)
                         for n in names]
        dx = None
        if need[0] and report[input_layer.Name] is not None:
            dx = _input_backward(ex, input_layer, report[input_layer.Name])
            dx = internal_to_matlab(dx, keep_device=True)
            dx = _like(dx.reshape(x_shape).astype(np.result_type(dx.dtype), copy=False), X)
        dparams = [_like(layer.from_internal(p, grads[(layer.Name, p)]), v)
                   if n and (layer.Name, p) in grads else None
                   for (layer, p), n, v in zip(rows, need[1:], params)]
        return output_totals, [dx, *dparams]

    def backward(outs: list[Any], need: list[bool]):
        return totals(outs, need)[1]
    return record(ys, fmts, [X, *params], backward, totals)


def _internal_grad(net: Any, ex: Any, name: str, g: Any, fp: Any, num_spatial: int) -> Any:
    """d loss / d output from MATLAB layout to the executor's internal layout, dtype and device."""
    shape = fp.outputs[name].shape
    if net._flat[name]:
        return ex.xp.asarray(g, dtype=ex.dtype).reshape(shape)
    return matlab_to_internal(g, num_spatial, ex.xp, ex.dtype).reshape(shape)


def _input_backward(ex: Any, layer: Any, dy: Any) -> Any:
    """The gradient through an input layer's normalization (data -> normalized data)."""
    mode = layer.Normalization
    if mode == "zscore":
        return dy / ex.constants[(layer.Name, "StandardDeviation")]
    if mode in ("rescale-symmetric", "rescale-zero-one"):
        span = ex.constants[(layer.Name, "Max")] - ex.constants[(layer.Name, "Min")]
        return dy * ((2 if mode == "rescale-symmetric" else 1) / span)
    return dy
