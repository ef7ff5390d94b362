"""dlnetwork (MATLAB ``dlnetwork``, ``forward``, ``predict``, ``initialize``, ``summary``).

A ``dlnetwork`` is a value: every function returns a new network; ``net.State = state`` and
``net.Learnables = table`` rebind that one Python object to new layer values and never touch
other networks.  ``Learnables`` and ``State`` are pandas DataFrames with columns ``Layer``,
``Parameter``, ``Value`` (MATLAB-layout NumPy arrays), one row per parameter in ``Layers``
order.

The custom-loop gradient functions are in ``custom_loop``, the updates in ``updates``.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..builders import resnet as builders
from .. import graph as graph_module
from ..graph.editing import undefined_function_error
from ..graph.analysis import propagate_sizes
from ..rng import global_generator, training_seed
from ..runtime.layout import internal_to_matlab, matlab_to_internal
from ..runtime import cpu as cpu_runtime, resources
from ..ops import _backend
from ..runtime.executor import Executor, input_statistics, is_empty
from ..layers._validation import logical_scalar, parse_name_value
from ..layers.errors import MException
from ..graph.display import cell_text, properties_text
from .dag_network import (GraphNetwork, check_rescale_ranges, freeze_values, inference_data,
                          num_spatial_dims, unset_values, validate_graph)
from . import differentiable
from ..autodiff.dlarray import dlarray

__all__ = ["dlnetwork", "initialize", "forward", "summary", "resnet3dNetwork", "resnetNetwork"]

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
        self._executors: dict[str, Executor] = {}    # one per device ("cpu", "gpu")
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
        """Layer/Parameter/Value table; inside dlfeval the values are traced dlarrays."""
        table = _table(self._lgraph.Layers, "LEARNABLES")
        if differentiable.tracing():
            table["Value"] = [differentiable.traced_value(v) for v in table["Value"]]
        return table

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
        return self.executor_on("cpu")

    def executor_on(self, device: str) -> Executor:
        """The executor on ``device`` ("cpu" or "gpu"), built once per device from the host-side
        values (a GPU executor holds device copies of the learnables; see docs/networks.md)."""
        if device not in self._executors:
            if not self.Initialized:
                raise MException("deep:dlnetwork:NotInitialized",
                                 "The dlnetwork is not initialized. Use net = initialize(net) first.")
            self._executors[device] = Executor(self._lgraph, device=device, all_gradients=True)
        return self._executors[device]

    def _run(self, X: Any, training: bool, outputs: Sequence[str] | None):
        """Run the executor on the device of ``X``'s data; outputs are dlarrays when ``X`` is one or
        inside dlfeval (then recorded on the tape: see differentiable.py), else arrays in MATLAB
        layout on ``X``'s device (NumPy or CuPy)."""
        names = list(self._output_names if outputs is None else _as_names(outputs))
        data = X._data if isinstance(X, dlarray) else X
        device = data_device(data)
        ex = self.executor_on(device)
        cpu_runtime.prepare(ex.device)
        traced = differentiable.tracing()
        if traced and device != "cpu":
            differentiable.use_device(device)
        data = inference_data(self._lgraph, data, "forward" if training else "predict", keep_device=True)
        nsd = num_spatial_dims(self._lgraph)
        func = "forward" if training else "predict"
        resources.check_memory(ex, data.shape[-1], func, names, training=training,
                               extra_bytes=data.size * ex.dtype.itemsize)
        try:
            x = matlab_to_internal(data, nsd, ex.xp, ex.dtype)
            fp = ex.forward(x, training=training, outputs=names,
                            seed=training_seed() if training else None, record=traced)
        except MemoryError as error:
            raise resources.out_of_memory(func, error, data.shape[-1]) from error
        if traced or isinstance(X, dlarray):
            return names, differentiable.record_call(self, ex, X, names, fp, nsd), fp
        ys = [self._on(device, self._to_matlab(n, fp.outputs[n])) for n in names]
        return names, ys, fp

    @staticmethod
    def _on(device: str, y: Any) -> Any:
        """A host result moved back to the data's device (no copy on the CPU)."""
        return y if device == "cpu" else _backend.to_device(y, device)

    def _to_matlab(self, name: str, y: Any) -> np.ndarray:
        """Internal activation -> MATLAB layout on its device; ``K x N`` after a fully connected
        layer ('CB')."""
        return internal_to_matlab(y.reshape(y.shape[:2]) if self._flat[name] else y, keep_device=True)

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
        raise undefined_function_error(func, net, "a dlnetwork")


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
        values.setdefault(name, {})[p] = _backend.to_host(_host_value(v))
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


def _host_value(v: Any) -> Any:
    """A table value's array (a dlarray's data); the network keeps its values on the host, so
    ``dlupdate(@gpuArray, net)`` values come back (see docs/matlab-differences.md)."""
    return v._data if isinstance(v, dlarray) else v


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


def data_device(data: Any) -> str:
    """"gpu" when ``data`` is a CuPy array (the network then runs on the GPU), else "cpu"."""
    return "gpu" if _backend.is_gpu_array(data) else "cpu"


def _as_names(outputs: Any) -> list[str]:
    names = [outputs] if isinstance(outputs, str) else (
        list(outputs) if isinstance(outputs, (list, tuple)) else None)
    if not names or not all(isinstance(n, str) for n in names):
        raise MException("deep:dlnetwork:InvalidOutputs",
                         "Outputs must be a layer name or a list of layer names. "
                         f"Received: Outputs={outputs!r}.")
    return names

