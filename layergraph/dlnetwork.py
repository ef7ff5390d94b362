"""dlnetwork and the custom-training-loop helpers (MATLAB ``dlnetwork``, ``dlfeval``, ...).

A ``dlnetwork`` is a value: every function returns a new network; ``net.State = state`` and
``net.Learnables = table`` rebind that one Python object to new layer values and never touch
other networks.  ``Learnables`` and ``State`` are pandas DataFrames with columns ``Layer``,
``Parameter``, ``Value`` (MATLAB-layout NumPy arrays), one row per parameter in ``Layers``
order.

Automatic differentiation is tape-free: ``dlfeval(modelLoss, net, X, T)`` records the last
``forward(net, X)`` made inside ``modelLoss`` and the loss (``crossentropy`` or ``mse``)
applied to one of its outputs; ``dlgradient(loss, net.Learnables)`` then runs the executor's
backward pass from that loss.  Supported: a loss that is exactly ``crossentropy(Y, T)`` or
``mse(Y, T)`` of an output ``Y`` of that forward call (see docs/networks.md).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from . import builders, graph as graph_module, solvers
from .analysis import propagate_sizes
from .random import global_generator
from .executor import (Executor, input_statistics, internal_to_matlab, is_empty, learn_rate_factor,
                       matlab_to_internal)
from .layers._validation import is_real_numeric, logical_scalar, parse_name_value, real_scalar
from .layers.errors import MException
from .display import cell_text, properties_text
from .network import (GraphNetwork, check_rescale_ranges, freeze_values, inference_data, num_spatial_dims,
                      unset_values, validate_graph)
from .ops import loss as loss_ops

__all__ = ["dlnetwork", "initialize", "forward", "summary", "resnet3dNetwork", "resnetNetwork", "dlfeval",
           "dlgradient", "crossentropy", "mse", "dlupdate", "sgdmupdate", "adamupdate", "rmspropupdate"]

TABLE_COLUMNS = ["Layer", "Parameter", "Value"]
_EMPTY = np.zeros((0, 0), np.float32)


class dlnetwork(GraphNetwork):  # noqa: N801 - MATLAB class name
    """``net = dlnetwork(layers_or_lgraph, Initialize=True)``: a network for custom loops.

    Properties: Layers, Connections, Learnables, State, InputNames, OutputNames, Initialized.
    The graph must not contain output layers (classificationLayer / regressionLayer).
    """

    def __init__(self, layers_or_lgraph: Any, *args: Any, **kwargs: Any):
        opts = parse_name_value(args, kwargs, ["Initialize"], "dlnetwork")
        lgraph = graph_module.layerGraph(layers_or_lgraph)
        validate_graph(lgraph, "dlnetwork", require_output=False)
        if logical_scalar(opts.get("Initialize", True), "dlnetwork", "Initialize"):
            lgraph = _initialized_graph(lgraph, global_generator())
        self._set_graph(lgraph)

    @classmethod
    def _from_graph(cls, lgraph: Any) -> "dlnetwork":
        net = cls.__new__(cls)
        net._set_graph(lgraph)
        return net

    def _set_graph(self, lgraph: Any) -> None:
        check_rescale_ranges(lgraph, "dlnetwork")
        freeze_values(lgraph)       # in-place edits of Learnables values would bypass the executor
        self._lgraph = lgraph
        self._executor: Executor | None = None
        layers = list(lgraph.Layers)
        self._output_names = [layer.Name for i, layer in enumerate(layers)
                              if any(not targets for targets in lgraph.output_targets(i))]
        self._flat = _flat_outputs(lgraph)

    # -- properties (Layers, Connections, InputNames: GraphNetwork)
    @property
    def OutputNames(self) -> list[str]:
        """Names of the layers with an unconnected output, in ``Layers`` order."""
        return list(self._output_names)

    @property
    def Initialized(self) -> bool:
        """True when every learnable, state and needed input statistic is set."""
        return not unset_values(self._lgraph)

    @property
    def Learnables(self) -> pd.DataFrame:
        return _table(self._lgraph.Layers, "LEARNABLES")

    @Learnables.setter
    def Learnables(self, table: pd.DataFrame) -> None:
        self._set_graph(_with_values(self._lgraph, table, "LEARNABLES"))

    @property
    def State(self) -> pd.DataFrame:
        return _table(self._lgraph.Layers, "STATES")

    @State.setter
    def State(self, table: pd.DataFrame) -> None:
        self._set_graph(_with_values(self._lgraph, table, "STATES"))

    def __repr__(self) -> str:
        rows = [("Layers", f"[{len(self.Layers)}x1 nnet.cnn.layer.Layer]"),
                ("Connections", f"[{len(self.Connections)}x2 table]"),
                ("Learnables", f"[{len(self.Learnables)}x3 table]"),
                ("State", f"[{len(self.State)}x3 table]"),
                ("InputNames", cell_text(self.InputNames)),
                ("OutputNames", cell_text(self.OutputNames)),
                ("Initialized", str(int(self.Initialized)))]
        return properties_text("dlnetwork", rows) + "\n\n  View summary with summary.\n"

    # -- execution
    @property
    def executor(self) -> Executor:
        """The float32 CPU executor over the current values (gradients for every learnable)."""
        if self._executor is None:
            if not self.Initialized:
                raise MException("deep:dlnetwork:NotInitialized",
                                 "The dlnetwork is not initialized. Use net = initialize(net) first.")
            self._executor = Executor(self._lgraph, all_gradients=True)
        return self._executor

    def _run(self, X: Any, training: bool, outputs: Sequence[str] | None):
        names = list(self._output_names if outputs is None else _as_names(outputs))
        ex = self.executor
        X = inference_data(self._lgraph, X, "forward" if training else "predict")
        x = matlab_to_internal(X, num_spatial_dims(self._lgraph), ex.xp, ex.dtype)
        fp = ex.forward(x, training=training, outputs=names)
        ys = [self._to_matlab(n, fp.outputs[n]) for n in names]
        return names, ys, fp

    def _to_matlab(self, name: str, y: Any) -> np.ndarray:
        """Internal activation -> MATLAB layout; ``K x N`` after a fully connected layer ('CB')."""
        return internal_to_matlab(y.reshape(y.shape[:2]) if self._flat[name] else y)

    def predict(self, X: Any, *args: Any, **kwargs: Any) -> Any:
        """``Y = predict(net, X, Outputs=names)``: inference mode (BN uses TrainedMean/Variance)."""
        opts = parse_name_value(args, kwargs, ["Outputs"], "predict")
        _, ys, _ = self._run(X, False, opts.get("Outputs"))
        return ys[0] if len(ys) == 1 else tuple(ys)


# ---- module functions ----------------------------------------------------------------------
def initialize(net: dlnetwork) -> dlnetwork:
    """``net = initialize(net)``: a copy with every unset learnable and state initialised."""
    _check_dlnetwork(net, "initialize")
    return dlnetwork._from_graph(_initialized_graph(net.layerGraph(), global_generator()))


def summary(net: dlnetwork) -> None:
    """``summary(net)``: prints Initialized, the number of learnables and the inputs."""
    _check_dlnetwork(net, "summary")
    count = sum(int(np.size(v)) for v in net.Learnables["Value"]) if net.Initialized else 0
    inputs = [layer for layer in net.Layers if layer.IS_INPUT]
    quoted = [f"'{layer.Name}'" for layer in inputs]
    width = max(map(len, quoted))
    lines = [f"   Initialized: {'true' if net.Initialized else 'false'}", "",
             f"   Number of learnables: {_compact_count(count)}", "", "   Inputs:"]
    lines += [f"      {k}   {name:<{width}}   {'x'.join(map(str, layer.InputSize))} images"
              for k, (name, layer) in enumerate(zip(quoted, inputs), 1)]
    print("\n".join(lines) + "\n")


def _check_dlnetwork(net: Any, func: str) -> None:
    if not isinstance(net, dlnetwork):
        raise graph_module.undefined_function_error(func, net, "a dlnetwork")


def _compact_count(n: int) -> str:
    """84123 -> '84.1k', 23512345 -> '23.5M', 950 -> '950' (three significant digits)."""
    for unit, size in (("M", 1e6), ("k", 1e3)):
        if n >= size:
            return f"{n / size:.3g}{unit}"
    return str(n)


def forward(net: dlnetwork, X: Any, *args: Any, **kwargs: Any) -> tuple:
    """``[Y, state] = forward(net, X, Outputs=names)``: training mode (batch statistics).

    Returns ``(Y, state)`` (or ``(Y1, ..., Yk, state)``) where ``state`` is the State table
    with BN TrainedMean/TrainedVariance moved by MeanDecay/VarianceDecay.
    """
    _check_dlnetwork(net, "forward")
    opts = parse_name_value(args, kwargs, ["Outputs"], "forward")
    names, ys, fp = net._run(X, True, opts.get("Outputs"))
    if _TRACES:
        _TRACES[-1].forward = _ForwardRecord(net, fp, {id(y): (name, y) for name, y in zip(names, ys)})
    state = net.State
    layers = {layer.Name: layer for layer in net.Layers}
    update = fp.state_update
    state["Value"] = [layers[name].from_internal(p, update[(name, p)]) if (name, p) in update else v
                      for name, p, v in zip(state["Layer"], state["Parameter"], state["Value"])]
    return (*ys, state)


def resnet3dNetwork(inputSize: Any, numClasses: Any, *args: Any, **kwargs: Any) -> dlnetwork:
    """``net = resnet3dNetwork(inputSize, numClasses, ...)``: resnet3dLayers minus the output layer."""
    return _resnet_network(builders.resnet3dLayers(inputSize, numClasses, *args, **kwargs))


def resnetNetwork(inputSize: Any, numClasses: Any, *args: Any, **kwargs: Any) -> dlnetwork:
    """``net = resnetNetwork(inputSize, numClasses, ...)``: resnetLayers minus the output layer."""
    return _resnet_network(builders.resnetLayers(inputSize, numClasses, *args, **kwargs))


def _resnet_network(lgraph: Any) -> dlnetwork:
    return dlnetwork(graph_module.removeLayers(lgraph, "output"))


# ---- dlfeval / dlgradient ------------------------------------------------------------------
@dataclass
class _ForwardRecord:
    net: dlnetwork
    fp: Any
    outputs: dict[int, tuple[str, np.ndarray]]   # id(Y) -> (layer name, Y)


@dataclass
class _LossRecord:
    value: np.ndarray
    forward: _ForwardRecord
    output: str
    backward: Callable[[], Any]   # -> d loss / d output, internal layout


class _Trace:
    def __init__(self) -> None:
        self.forward: _ForwardRecord | None = None
        self.losses: dict[int, _LossRecord] = {}


_TRACES: list[_Trace] = []


def dlfeval(fun: Callable[..., Any], *args: Any) -> Any:
    """``[...] = dlfeval(@modelLoss, net, X, T)``: call ``fun(*args)`` with gradient recording."""
    if not callable(fun):
        raise MException("deep:dlfeval:InvalidFunction",
                         f"The first argument of dlfeval must be a function. Received: {type(fun).__name__}.")
    _TRACES.append(_Trace())
    try:
        return fun(*args)
    finally:
        _TRACES.pop()


def dlgradient(loss: Any, *tables: pd.DataFrame) -> Any:
    """``gradients = dlgradient(loss, net.Learnables)``: a table like the argument, Value = dloss/dValue."""
    if not _TRACES:
        raise MException("deep:dlgradient:NotTracing",
                         "dlgradient must be called inside a function evaluated with dlfeval.")
    record = _TRACES[-1].losses.get(id(loss))
    if record is None or record.value is not loss:
        raise MException("deep:dlgradient:UnsupportedLoss",
                         "dlgradient supports a loss returned by crossentropy(Y, T) or mse(Y, T) where Y "
                         "is an output of forward(net, X) in the same dlfeval call. Received: another value.")
    fwd = record.forward
    layers = {layer.Name: layer for layer in fwd.net.Layers}
    for table in tables:
        _check_parameter_rows(table, layers)
    dy = record.backward()
    grads = fwd.net.executor.backward(fwd.fp, {record.output: dy})
    out = []
    for table in tables:
        values = []
        for name, p, v in zip(table["Layer"], table["Parameter"], table["Value"]):
            g = grads.get((name, p))
            values.append(np.zeros_like(np.asarray(v)) if g is None else layers[name].from_internal(p, g))
        out.append(pd.DataFrame({"Layer": list(table["Layer"]), "Parameter": list(table["Parameter"]),
                                 "Value": values}))
    return out[0] if len(out) == 1 else tuple(out)


def _check_parameter_rows(table: Any, layers: dict) -> None:
    """A table to differentiate against: Layer/Parameter rows naming learnables or states of
    the network (a misspelt row would otherwise get a silent zero gradient)."""
    if not isinstance(table, pd.DataFrame) or not set(TABLE_COLUMNS) <= set(table.columns):
        raise MException("deep:dlgradient:InvalidTable",
                         "dlgradient differentiates with respect to tables with columns Layer, Parameter and "
                         f"Value (such as net.Learnables). Received: {type(table).__name__}.")
    unknown = [f"{name}.{p}" for name, p in zip(table["Layer"], table["Parameter"])
               if name not in layers or p not in layers[name].LEARNABLES + layers[name].STATES]
    if unknown:
        raise MException("deep:dlgradient:UnknownParameter",
                         f"Every row must name a learnable or state of the network. Received: {unknown}.")


def crossentropy(Y: Any, T: Any) -> np.ndarray:
    """``loss = crossentropy(Y, T)``: -sum(T .* log(Y)) / N for ``K x N`` scores and targets."""
    return _loss(Y, T, loss_ops.cross_entropy_forward, loss_ops.cross_entropy_backward)


def mse(Y: Any, T: Any) -> np.ndarray:
    """``loss = mse(Y, T)``: half mean squared error, sum((Y - T).^2) / (2 N)."""
    return _loss(Y, T, loss_ops.mse_forward, loss_ops.mse_backward)


def _loss(Y: Any, T: Any, fwd: Callable, bwd: Callable) -> np.ndarray:
    Y = np.asarray(Y)
    if Y.dtype.kind != "f" or Y.ndim < 2 or Y.size == 0 or np.asarray(T).dtype.kind not in "biuf":
        raise MException("deep:loss:InvalidInput",
                         "Predictions must be a nonempty floating-point K x N (or h x w [x d] x c x N) array "
                         f"and targets real numeric. Received: Y of dtype {Y.dtype} and size "
                         f"{'x'.join(map(str, Y.shape))}, T of dtype {np.asarray(T).dtype}.")
    T = np.asarray(T, dtype=Y.dtype)
    if T.shape != Y.shape:
        raise MException("deep:loss:SizeMismatch",
                         f"Targets must have the size of the predictions. Received: Y of size "
                         f"{'x'.join(map(str, Y.shape))} and T of size {'x'.join(map(str, T.shape))}.")
    k, n = (Y.shape[0], Y.shape[1]) if Y.ndim == 2 else (int(np.prod(Y.shape[:-1])), Y.shape[-1])
    value, cache = fwd(Y.reshape(k, n, order="F"), T.reshape(k, n, order="F"))
    value = np.asarray(value, dtype=Y.dtype)
    trace = _TRACES[-1] if _TRACES else None
    if trace is not None and trace.forward is not None and id(Y) in trace.forward.outputs:
        name, y_rec = trace.forward.outputs[id(Y)]
        if y_rec is Y:
            ex = trace.forward.net.executor
            internal_shape = trace.forward.fp.outputs[name].shape
            trace.losses[id(value)] = _LossRecord(value, trace.forward, name,
                                                  lambda: _to_internal_grad(bwd(cache), Y, internal_shape, ex))
    return value


def _to_internal_grad(dy_kn: np.ndarray, Y: np.ndarray, internal_shape: tuple, ex: Executor) -> Any:
    """d loss / d Y from ``(K, N)`` back to the executor's internal output layout."""
    dy = np.asarray(dy_kn).reshape(Y.shape, order="F")
    if Y.ndim != 2:
        dy = dy.transpose(Y.ndim - 2, Y.ndim - 1, *range(Y.ndim - 2))
    return ex.xp.asarray(dy.reshape(internal_shape), dtype=ex.dtype)


# ---- solver updates ------------------------------------------------------------------------
def dlupdate(fun: Callable[..., Any], net: Any, *tables: pd.DataFrame) -> Any:
    """``[net, X1, ...] = dlupdate(fun, net, X1, ...)``: apply ``fun`` to every learnable.

    ``net`` is a dlnetwork (its Learnables) or a Layer/Parameter/Value table; ``fun(value,
    x1, ...)`` gets the matching rows of the extra tables and returns the new value (or a
    tuple: the new value and the new rows of ``X1, ...``).
    """
    if not callable(fun):
        raise MException("deep:dlupdate:InvalidFunction",
                         "The first argument of dlupdate must be a function. "
                         f"Received: {type(fun).__name__}.")
    params = _parameters(net, "dlupdate")
    for table in tables:
        _check_rows(params, table, "dlupdate argument")
    results = [fun(*row) for row in zip(params["Value"], *(t["Value"] for t in tables))]
    columns = list(zip(*[r if isinstance(r, tuple) else (r,) for r in results])) if results else [()]
    outputs = [params.assign(Value=list(col)) for col in columns]
    if isinstance(net, dlnetwork):
        outputs[0] = dlnetwork._from_graph(_with_values(net.layerGraph(), outputs[0], "LEARNABLES"))
    return outputs[0] if len(outputs) == 1 else tuple(outputs)


def sgdmupdate(net: Any, grad: pd.DataFrame, vel: Any = None, learnRate: float = 0.01,
               momentum: float = 0.9) -> tuple[Any, pd.DataFrame]:
    """``[net, vel] = sgdmupdate(net, grad, vel, learnRate, momentum)``: v = m v - lr g; p = p + v."""
    _learn_rate(learnRate, "sgdmupdate")
    real_scalar(momentum, "sgdmupdate", "momentum", 0.0, 1.0, "a real scalar in [0, 1]")

    def step(p, g, lr, v):
        p, v = solvers.sgdm_step(p, g, v, lr, momentum)
        return p, (v,)
    net, (vel,) = _update(net, grad, [vel], learnRate, step)
    return net, vel


def adamupdate(net: Any, grad: pd.DataFrame, averageGrad: Any, averageSqGrad: Any, iteration: int,
               learnRate: float = 0.001, gradDecay: float = 0.9, sqGradDecay: float = 0.999,
               epsilon: float = 1e-8) -> tuple[Any, pd.DataFrame, pd.DataFrame]:
    """``[net, avgG, avgSqG] = adamupdate(net, grad, avgG, avgSqG, iteration, ...)`` (bias-corrected)."""
    if not (is_real_numeric(iteration) and np.size(iteration) == 1 and np.ndim(iteration) == 0
            and float(iteration) == int(iteration) and iteration >= 1):
        raise MException("deep:adamupdate:InvalidIteration",
                         f"iteration must be a positive integer. Received: iteration={iteration!r}.")
    _learn_rate(learnRate, "adamupdate")
    _decay(gradDecay, "adamupdate", "gradDecay")
    _decay(sqGradDecay, "adamupdate", "sqGradDecay")
    _epsilon(epsilon, "adamupdate")
    # lr * (sqrt(1 - b2^t) / (1 - b1^t)): grouped unlike solvers.adam_step (last-bit differences)
    correction = np.sqrt(1 - sqGradDecay ** iteration) / (1 - gradDecay ** iteration)

    def step(p, g, lr, m, v):
        m = gradDecay * m + (1 - gradDecay) * g
        v = sqGradDecay * v + (1 - sqGradDecay) * g * g
        return p - lr * correction * m / (np.sqrt(v) + epsilon), (m, v)
    net, (avg, avg_sq) = _update(net, grad, [averageGrad, averageSqGrad], learnRate, step)
    return net, avg, avg_sq


def rmspropupdate(net: Any, grad: pd.DataFrame, averageSqGrad: Any = None, learnRate: float = 0.001,
                  sqGradDecay: float = 0.9, epsilon: float = 1e-8) -> tuple[Any, pd.DataFrame]:
    """``[net, avgSqG] = rmspropupdate(net, grad, avgSqG, ...)``: v = b v + (1-b) g^2; p -= lr g/(sqrt(v)+eps)."""
    _learn_rate(learnRate, "rmspropupdate")
    _decay(sqGradDecay, "rmspropupdate", "sqGradDecay")
    _epsilon(epsilon, "rmspropupdate")

    def step(p, g, lr, v):
        p, v = solvers.rmsprop_step(p, g, v, lr, sqGradDecay, epsilon)
        return p, (v,)
    net, (avg_sq,) = _update(net, grad, [averageSqGrad], learnRate, step)
    return net, avg_sq


def _update(net: Any, grad: pd.DataFrame, solver_states: list[Any], learn_rate: float,
            step: Callable) -> tuple[Any, list[pd.DataFrame]]:
    """Apply ``step(p, g, lr * LearnRateFactor, *states) -> (p', states')`` to every row."""
    params = _parameters(net, "update")
    layers = {layer.Name: layer for layer in net.Layers} if isinstance(net, dlnetwork) else {}
    _check_rows(params, grad, "grad")
    states = []
    for s in solver_states:
        if s is None or (not isinstance(s, pd.DataFrame) and np.size(s) == 0):
            s = grad.assign(Value=[np.zeros_like(np.asarray(g)) for g in grad["Value"]])
        _check_rows(params, s, "solver state")
        states.append(s)
    new_values, new_states = [], [[] for _ in states]
    for row, (name, p, value) in enumerate(zip(params["Layer"], params["Parameter"], params["Value"])):
        factor = learn_rate_factor(layers[name], p) if name in layers else 1.0
        value = np.asarray(value)
        g = _same_size(grad["Value"].iloc[row], value, name, p, "grad")
        new, st = step(value, g, learn_rate * factor,
                       *(_same_size(s["Value"].iloc[row], value, name, p, "solver state") for s in states))
        new_values.append(new.astype(value.dtype, copy=False))
        for acc, v in zip(new_states, st):
            acc.append(v.astype(value.dtype, copy=False))
    tables = [params.assign(Value=vals) for vals in new_states]
    updated = params.assign(Value=new_values)
    if isinstance(net, dlnetwork):
        updated = dlnetwork._from_graph(_with_values(net.layerGraph(), updated, "LEARNABLES"))
    return updated, tables


def _learn_rate(value: Any, func: str) -> None:
    real_scalar(value, func, "learnRate", 0.0, np.finfo(float).max, "a finite nonnegative real scalar")


def _decay(value: Any, func: str, argname: str) -> None:
    real_scalar(value, func, argname, 0.0, np.nextafter(1.0, 0.0), "a real scalar in [0, 1)")


def _epsilon(value: Any, func: str) -> None:
    real_scalar(value, func, "epsilon", np.finfo(float).tiny, np.finfo(float).max,
                "a finite positive real scalar")


def _parameters(net: Any, func: str) -> pd.DataFrame:
    """The Layer/Parameter/Value table of ``net`` (a dlnetwork or such a table)."""
    params = net.Learnables if isinstance(net, dlnetwork) else net
    if not isinstance(params, pd.DataFrame) or not set(TABLE_COLUMNS) <= set(params.columns):
        raise MException(f"deep:{func}:InvalidNetwork",
                         "The network argument must be a dlnetwork or a table with columns Layer, Parameter "
                         f"and Value. Received: {type(net).__name__}.")
    return params


def _same_size(value: Any, like: np.ndarray, layer: str, param: str, what: str) -> np.ndarray:
    """``value`` as an array of ``like``'s dtype; MException unless it has ``like``'s size
    (a scalar or a mis-sized array would otherwise broadcast silently)."""
    arr = np.asarray(value)
    if arr.shape != like.shape or arr.dtype.kind not in "biuf":
        raise MException("deep:update:SizeMismatch",
                         f"The {what} value of {layer}.{param} must be a real array of size "
                         f"{'x'.join(map(str, like.shape))}. Received: {arr.dtype} array of size "
                         f"{'x'.join(map(str, arr.shape)) or '1x1'}.")
    return arr.astype(like.dtype, copy=False)


def _check_rows(params: pd.DataFrame, other: Any, what: str) -> None:
    columns_ok = isinstance(other, pd.DataFrame) and set(TABLE_COLUMNS) <= set(other.columns)
    if not columns_ok or list(other["Layer"]) != list(params["Layer"]) \
            or list(other["Parameter"]) != list(params["Parameter"]):
        raise MException("deep:update:TableMismatch",
                         f"The {what} table must have the rows (Layer, Parameter) of the learnables, "
                         f"in the same order. Received: {type(other).__name__} with "
                         f"{len(other) if hasattr(other, '__len__') else 0} rows.")


# ---- tables and initialisation -------------------------------------------------------------
def _table(layers: Any, kind: str) -> pd.DataFrame:
    """Layer/Parameter/Value rows; unset values show as 0x0 arrays (MATLAB's ``{0x0 double}``)."""
    rows = [(layer.Name, n, _EMPTY if is_empty(getattr(layer, n)) else getattr(layer, n))
            for layer in layers for n in getattr(layer, kind)]
    return pd.DataFrame(rows, columns=TABLE_COLUMNS) if rows else pd.DataFrame(columns=TABLE_COLUMNS)


def _with_values(lgraph: Any, table: pd.DataFrame, kind: str) -> Any:
    """The graph with the table's values written into its layers (MATLAB layout, shapes checked)."""
    if not isinstance(table, pd.DataFrame) or not set(TABLE_COLUMNS) <= set(table.columns):
        columns = f" with columns {list(table.columns)}" if isinstance(table, pd.DataFrame) else ""
        raise MException("deep:dlnetwork:InvalidTable",
                         "The value must be a table with columns Layer, Parameter and Value (as "
                         f"net.Learnables / net.State). Received: {type(table).__name__}{columns}.")
    values: dict[str, dict[str, Any]] = {}
    for name, p, v in zip(table["Layer"], table["Parameter"], table["Value"]):
        values.setdefault(name, {})[p] = np.asarray(v)
    new_layers = []
    for layer in lgraph.Layers:
        changes = {n: v for n, v in values.pop(layer.Name, {}).items()
                   if n in getattr(layer, kind) and not (v.size == 0 and is_empty(getattr(layer, n)))}
        for n, v in changes.items():
            old = getattr(layer, n)
            if not is_empty(old) and np.shape(old) != v.shape:
                raise MException("deep:dlnetwork:InvalidParameterSize",
                                 f"Layer '{layer.Name}': {n} must have size {'x'.join(map(str, np.shape(old)))}. "
                                 f"Received: size {'x'.join(map(str, v.shape))}.")
        new_layers.append(layer.copy(**changes) if changes else layer)
    if values:
        raise MException("deep:dlnetwork:InvalidTable",
                         f"The table names layers that are not in the network: {sorted(values)}.")
    return lgraph.with_layers(new_layers)


# dlnetwork initialisation of unset input normalization statistics (MATLAB: Mean 0,
# StandardDeviation 1); Min/Max take the values that make the rescaling the identity.
_DEFAULT_STATISTICS = {"Mean": 0.0, "StandardDeviation": 1.0}
_DEFAULT_RANGE = {"rescale-symmetric": {"Min": -1.0, "Max": 1.0}, "rescale-zero-one": {"Min": 0.0, "Max": 1.0}}


def _initialized_graph(lgraph: Any, rng: np.random.Generator) -> Any:
    """Initialise every layer in topological order from its inferred input sizes."""
    def initialized(layer: Any, in_sizes: list[tuple[int, ...]]) -> Any:
        layer = layer.initialize(in_sizes, rng)
        if not layer.IS_INPUT:
            return layer
        defaults = {**_DEFAULT_STATISTICS, **_DEFAULT_RANGE.get(layer.Normalization, {})}
        unset = {n: defaults[n] for n in input_statistics(layer) if is_empty(getattr(layer, n))}
        return layer.copy(**unset) if unset else layer
    return lgraph.with_layers(propagate_sizes(lgraph, initialized))


def _flat_outputs(lgraph: Any) -> dict[str, bool]:
    """Layer name -> True when its output is 'CB' (K x N): a fully connected layer or after one."""
    layers = list(lgraph.Layers)
    flat = [False] * len(layers)
    for i in lgraph.topological_order():
        srcs = [s for s in lgraph.input_sources(i) if s is not None]
        flat_srcs = [layers[s[0]].Name for s in srcs if flat[s[0]]]
        if flat_srcs and layers[i].Type.endswith(("Convolution", "Pooling")):
            raise MException("nnet_cnn:dlnetwork:SpatialLayerAfterFullyConnected",
                             f"Layer '{layers[i].Name}' ({layers[i].Type}) needs data with spatial "
                             "dimensions, "
                             "but after a fully connected layer a dlnetwork's data is 'CB' (channels x "
                             f"observations). Received: input from {flat_srcs}.")
        flat[i] = layers[i].Type == "Fully Connected" or (bool(srcs) and len(flat_srcs) == len(srcs))
    return {layer.Name: f for layer, f in zip(layers, flat)}


def _as_names(outputs: Any) -> list[str]:
    names = [outputs] if isinstance(outputs, str) else (
        list(outputs) if isinstance(outputs, (list, tuple)) else None)
    if not names or not all(isinstance(n, str) for n in names):
        raise MException("deep:dlnetwork:InvalidOutputs",
                         "Outputs must be a layer name or a list of layer names. "
                         f"Received: Outputs={outputs!r}.")
    return names

