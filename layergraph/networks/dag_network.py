"""DAGNetwork: an assembled (or trained) network ready for inference.

``assembleNetwork(lgraph)`` validates a LayerGraph whose learnables are all set and returns a
``DAGNetwork``; ``predict``, ``classify`` and ``activations`` run it on MATLAB-layout data
(``h x w [x d] x c x N``) in mini-batches through the graph executor.

``predict(net, X)`` dispatches on the network: it also serves ``dlnetwork`` (whose
``predict`` method returns the output activations instead of N x K scores).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from .. import graph as graph_module
from ..graph.properties import check_assignment
from ..graph.editing import undefined_function_error
from ..graph.display import LayerArray, cell_text, properties_text
from ..runtime.layout import check_predictors, internal_to_matlab, matlab_to_internal
from ..runtime import cpu as cpu_runtime, resources
from ..runtime.executor import Executor, input_statistics, is_empty, unconnected_inputs
from ..ops import _backend
from . import datastore_inference
from ..layers._validation import parse_name_value, positive_int_vector, validatestring
from ..layers.errors import MException

__all__ = ["DAGNetwork", "assembleNetwork", "predict", "classify", "activations"]


# ---- shared helpers (also used by dlnetwork) -----------------------------------------------
def num_spatial_dims(lgraph: Any) -> int:
    """Spatial dimensions of the (single) input layer: len(InputSize) - 1."""
    layer = next(layer for layer in lgraph.Layers if layer.IS_INPUT)
    return len(layer.InputSize) - 1


def inference_data(lgraph: Any, X: Any, func: str, keep_device: bool = False) -> np.ndarray:
    """``X`` checked against the input layer (real numeric, ``InputSize x N``, N >= 1), on the host
    (``keep_device``: CuPy data stay on the GPU); MException ``nnet_cnn:<func>:InvalidPredictors``
    / ``WrongInputSize`` otherwise."""
    layer = next(layer for layer in lgraph.Layers if layer.IS_INPUT)
    return check_predictors(X, tuple(layer.InputSize), "X", func, keep_device)


def check_network(net: Any, func: str) -> None:
    """MATLAB's error for a network function called on something that has no such method."""
    if not isinstance(net, GraphNetwork) or not hasattr(net, func):
        raise undefined_function_error(
            func, net, "a DAGNetwork or a dlnetwork" if func == "predict" else "a DAGNetwork")


def run_in_batches(executor: Executor, X: Any, num_spatial: int, outputs: list[str],
                   batch_size: int, func: str = "predict") -> dict[str, list]:
    """Inference forward over checked MATLAB-layout ``X`` (``*S x C x N``, see
    :func:`inference_data`) in mini-batches of at most ``batch_size`` observations
    (``Executor.inference_batches``).

    Returns ``{output name: [y per batch]}``, each ``y`` internal ``(C, n, *S)`` on the
    executor's device. MException ``nnet_cnn:<func>:OutOfMemory`` before the first batch when
    its activations cannot fit (``runtime.resources``), and for a MemoryError on the way.
    """
    def outputs_of(part: slice) -> dict[str, Any]:
        x = matlab_to_internal(X[..., part], num_spatial, executor.xp, executor.dtype)
        return executor.forward(x, training=False, outputs=outputs).outputs

    parts = executor.inference_batches(X.shape[-1], batch_size)
    largest = max(p.stop - p.start for p in parts)
    resources.check_memory(executor, largest, func, outputs, extra_bytes=largest * int(
        np.prod(X.shape[:-1])) * executor.dtype.itemsize)          # the batch's internal copy
    try:
        results = executor.map_batches(outputs_of, parts,
                                       executor.activation_bytes(largest, outputs))
    except MemoryError as error:
        raise resources.out_of_memory(func, error, largest) from error
    return {name: [result[name] for result in results] for name in outputs}


# ---- DAGNetwork --------------------------------------------------------------------------
class GraphNetwork:
    """What DAGNetwork and dlnetwork share: a network over one LayerGraph (``self._lgraph``).

    MATLAB's graph properties ``Layers``, ``Connections`` and ``InputNames``, and
    ``layerGraph(net)``; each subclass adds ``OutputNames`` and its own display.
    """

    _lgraph: graph_module.LayerGraph

    @property
    def Layers(self) -> LayerArray:
        """The layers, in order (items are copies)."""
        return self._lgraph.Layers

    @property
    def Connections(self) -> pd.DataFrame:
        """Table with columns ``Source`` and ``Destination``, one row per connection."""
        return self._lgraph.Connections

    @property
    def InputNames(self) -> list[str]:
        """Names of the input layers, in ``Layers`` order."""
        return self._lgraph.InputNames

    def layerGraph(self) -> graph_module.LayerGraph:
        """The network's LayerGraph (MATLAB ``layerGraph(net)``)."""
        return self._lgraph

    def __str__(self) -> str:
        return repr(self)

    def __setattr__(self, name: str, value: Any) -> None:
        check_assignment(self, name, value)
        super().__setattr__(name, value)


class DAGNetwork(GraphNetwork):
    """MATLAB ``DAGNetwork``: Layers, Connections, InputNames, OutputNames; immutable.

    Build it with ``assembleNetwork(lgraph)`` or ``trainNetwork``.  The network holds the
    graph (MATLAB-layout layers) and an executor on its device, made on first use.
    """

    def __init__(self, lgraph: graph_module.LayerGraph, executor: Executor | None = None):
        freeze_values(lgraph)
        self._lgraph = lgraph
        self._executors: dict[str, Executor] = {executor.device: executor} if executor else {}

    @property
    def OutputNames(self) -> list[str]:
        """Names of the output layers, in ``Layers`` order."""
        return self._lgraph.OutputNames

    @property
    def executor(self) -> Executor:
        """The executor ``ExecutionEnvironment="auto"`` uses: the one the network was made
        with, else a float32 one on the GPU when CuPy sees one, else on the CPU."""
        return self.executor_for("auto")

    def executor_for(self, environment: str) -> Executor:
        """The float32 executor for ``"auto"``, ``"cpu"`` or ``"gpu"`` (made on first use)."""
        if environment == "auto":
            if self._executors:
                return next(iter(self._executors.values()))
            environment = "gpu" if _backend.gpu_available() else "cpu"
        if environment not in self._executors:
            self._executors[environment] = Executor(self._lgraph, device=environment)
        return self._executors[environment]

    def __repr__(self) -> str:
        rows = [("Layers", f"[{len(self.Layers)}x1 nnet.cnn.layer.Layer]"),
                ("Connections", f"[{len(self.Connections)}x2 table]"),
                ("InputNames", cell_text(self.InputNames)),
                ("OutputNames", cell_text(self.OutputNames))]
        return properties_text("DAGNetwork", rows) + "\n"

    # -- inference
    def _input_size(self) -> tuple[int, ...]:
        return tuple(next(layer for layer in self._lgraph.Layers if layer.IS_INPUT).InputSize)

    def _output_layer(self) -> Any:
        return self.Layers[self.OutputNames[0]]

    @resources.memory_errors_as("predict")
    def predict(self, X: Any, *args: Any, **kwargs: Any) -> np.ndarray:
        """Scores ``N x K`` (classes in ``Classes`` order) or responses ``N x R``.

        An output with spatial extent (image regression) comes back in MATLAB layout
        ``h x w [x d] x c x N``.
        """
        if datastore_inference.is_datastore(X):       # chunk by chunk (networks/datastore_inference.py)
            m = _inference_options(args, kwargs, "predict")["MiniBatchSize"]
            return datastore_inference.over_datastore(
                X, self._input_size(), m, lambda chunk: self.predict(chunk, *args, **kwargs),
                lambda part: 0 if part.ndim == 2 else -1, "predict")
        opts = _inference_options(args, kwargs, "predict")
        name = self.OutputNames[0]
        X = inference_data(self._lgraph, X, "predict")
        executor = self.executor_for(opts["ExecutionEnvironment"])
        cpu_runtime.prepare(executor.device)
        chunks = run_in_batches(executor, X,
                                num_spatial_dims(self._lgraph), [name], opts["MiniBatchSize"])[name]
        if chunks[0].size != chunks[0].shape[0] * chunks[0].shape[1]:
            return np.concatenate([internal_to_matlab(y) for y in chunks], axis=-1)
        scores = [internal_to_matlab(y.reshape(y.shape[0], y.shape[1])) for y in chunks]
        return np.concatenate(scores, axis=1).T

    def classify(self, X: Any, *args: Any, **kwargs: Any) -> tuple[pd.Categorical, np.ndarray]:
        """``(labels, scores)``: labels a pandas.Categorical over ``Classes``; scores ``N x K``.

        A segmentation network (scores per voxel, ``h x w [x d] x K x N``) gives the class name
        of every voxel, an ``h x w [x d] x N`` str array, as ``semanticseg``.
        """
        layer = self._output_layer()
        classes = _classes(layer)
        scores = self.predict(X, *args, **kwargs)
        if scores.ndim > 2:
            return np.asarray(classes)[scores.argmax(axis=-2)], scores
        labels = pd.Categorical.from_codes(np.argmax(scores, axis=1), categories=classes)
        return labels, scores

    @resources.memory_errors_as("activations")
    def activations(self, X: Any, layer_name: str, *args: Any, **kwargs: Any) -> np.ndarray:
        """Output of ``layer_name`` in MATLAB layout ``h x w [x d] x c x N`` (or OutputAs rows/columns)."""
        opts = _inference_options(args, kwargs, "activations", with_output_as=True)
        if datastore_inference.is_datastore(X):
            axis = {"channels": -1, "rows": 0, "columns": 1}[opts["OutputAs"]]
            return datastore_inference.over_datastore(
                X, self._input_size(), opts["MiniBatchSize"],
                lambda chunk: self.activations(chunk, layer_name, *args, **kwargs),
                lambda part: axis, "activations")
        executor = self.executor_for(opts["ExecutionEnvironment"])
        if not isinstance(layer_name, str):
            raise MException("nnet_cnn:activations:InvalidLayerName",
                             "layerName must be the name of one layer (a string). "
                             f"Received: {layer_name!r} of type {type(layer_name).__name__}.")
        executor._check_names([layer_name], "layerName")
        cpu_runtime.prepare(executor.device)
        X = inference_data(self._lgraph, X, "activations")
        chunks = run_in_batches(executor, X, num_spatial_dims(self._lgraph), [layer_name],
                                opts["MiniBatchSize"], "activations")[layer_name]
        act = np.concatenate([internal_to_matlab(y) for y in chunks], axis=-1)
        if opts["OutputAs"] == "channels":
            return act
        rows = act.reshape(-1, act.shape[-1], order="F").T
        return rows if opts["OutputAs"] == "rows" else rows.T


def check_rescale_ranges(lgraph: Any, func: str) -> None:
    """Input layers that rescale divide by ``Max - Min``: Max must exceed Min everywhere, or
    every output would be NaN/Inf (checked where the values meet, not per property, so that
    Min and Max can be set in any order)."""
    for layer in lgraph.Layers:
        if not {"Min", "Max"} <= set(input_statistics(layer)) or is_empty(layer.Min) or is_empty(layer.Max):
            continue
        if np.any(np.asarray(layer.Max) <= np.asarray(layer.Min)):
            raise MException(f"nnet_cnn:{func}:InvalidNormalizationRange",
                             f"Layer '{layer.Name}': Max must be greater than Min everywhere (Normalization "
                             f"'{layer.Normalization}' divides by Max - Min). Received: Min="
                             f"{np.asarray(layer.Min).ravel()[:8]}, Max={np.asarray(layer.Max).ravel()[:8]}.")


def freeze_values(lgraph: Any) -> None:
    """Make the network's learnable, state and statistic arrays read-only.

    ``net.Layers[i]`` shares them, and the executors hold converted copies: an in-place edit
    (``net.Layers[1].Weights[...] = 0``) would change what ``net.Layers`` shows and saves but not
    what ``predict`` computes. MATLAB refuses such edits (the network is read-only); so does
    NumPy now.
    """
    for layer in lgraph.Layers:
        for name in layer.LEARNABLES + layer.STATES + tuple(input_statistics(layer)):
            value = getattr(layer, name, None)
            if isinstance(value, np.ndarray):
                value.flags.writeable = False


def _classes(layer: Any) -> list:
    classes = getattr(layer, "Classes", "auto")
    if isinstance(classes, str):
        raise MException("nnet_cnn:DAGNetwork:NoClasses",
                         f"classify needs a classification output layer with Classes set. "
                         f"Received: layer '{layer.Name}' with Classes={classes!r}.")
    return list(classes.categories if hasattr(classes, "categories") else classes)


def _inference_options(args: Sequence[Any], kwargs: dict, func: str, with_output_as: bool = False) -> dict:
    names = ["MiniBatchSize", "ExecutionEnvironment", "Acceleration"] + (["OutputAs"] if with_output_as else [])
    opts = parse_name_value(args, kwargs, names, func)
    environment = validatestring(opts.get("ExecutionEnvironment", "auto"), ["auto", "cpu", "gpu"],
                                 func, "ExecutionEnvironment")
    if environment == "gpu" and not _backend.gpu_available():
        raise MException(f"nnet_cnn:{func}:GPUNotAvailable",
                         "ExecutionEnvironment='gpu' needs CuPy and an NVIDIA GPU. Received: "
                         "ExecutionEnvironment='gpu', but no usable GPU was found.")
    return {"MiniBatchSize": positive_int_vector(opts.get("MiniBatchSize", 128), func, "MiniBatchSize", (1,))[0],
            "OutputAs": validatestring(opts.get("OutputAs", "channels"), ["channels", "rows", "columns"],
                                       func, "OutputAs"),
            "ExecutionEnvironment": environment}


# ---- public functions --------------------------------------------------------------------
def predict(net: Any, X: Any, *args: Any, **kwargs: Any) -> Any:
    """``Y = predict(net, X)``: N x K scores of a DAGNetwork, or a dlnetwork's outputs."""
    check_network(net, "predict")
    return net.predict(X, *args, **kwargs)


def classify(net: DAGNetwork, X: Any, *args: Any, **kwargs: Any) -> tuple[pd.Categorical, np.ndarray]:
    """``[YPred, scores] = classify(net, X)`` -> ``(pandas.Categorical, N x K scores)``."""
    check_network(net, "classify")
    return net.classify(X, *args, **kwargs)


def activations(net: DAGNetwork, X: Any, layerName: str, *args: Any, **kwargs: Any) -> np.ndarray:
    """``act = activations(net, X, layerName)`` in MATLAB layout (``h x w [x d] x c x N``)."""
    check_network(net, "activations")
    return net.activations(X, layerName, *args, **kwargs)


def assembleNetwork(layers_or_lgraph: Any) -> DAGNetwork:
    """``net = assembleNetwork(lgraph)``: a DAGNetwork from layers whose learnables are set.

    Checks (identifiers ``nnet_cnn:assembleNetwork:<Reason>``): one input layer, at least one
    output layer, every layer input connected, every learnable / state / needed input
    normalization statistic set, classification Classes set.
    """
    lgraph = graph_module.layerGraph(layers_or_lgraph)
    validate_graph(lgraph, "assembleNetwork", require_output=True)
    missing = unset_values(lgraph)
    if missing:
        raise MException("nnet_cnn:assembleNetwork:LearnablesNotSet",
                         "All learnable parameters and states must be set to assemble a network. "
                         f"Missing: {'; '.join(missing)}.")
    for layer in lgraph.Layers:
        if layer.IS_OUTPUT and hasattr(layer, "Classes") and isinstance(layer.Classes, str):
            raise MException("nnet_cnn:assembleNetwork:ClassesNotSet",
                             f"Layer '{layer.Name}': set Classes of the classification layer "
                             f"(e.g. classificationLayer(Classes=[...])). Received: Classes='{layer.Classes}'.")
    check_rescale_ranges(lgraph, "assembleNetwork")
    return DAGNetwork(lgraph)


def validate_graph(lgraph: Any, func: str, require_output: bool) -> None:
    """Structure checks shared by assembleNetwork, trainNetwork and dlnetwork (MException naming
    the layers); with ``require_output`` every layer output must feed another layer."""
    layers = list(lgraph.Layers)
    inputs = [layer.Name for layer in layers if layer.IS_INPUT]
    if len(inputs) != 1:
        raise MException(f"nnet_cnn:{func}:WrongNumberOfInputLayers",
                         f"The network must have exactly one input layer. Received: {inputs or 'none'}.")
    outputs = [layer.Name for layer in layers if layer.IS_OUTPUT]
    if require_output and not outputs:
        raise MException(f"nnet_cnn:{func}:MissingOutputLayer",
                         "The network must have an output layer (classificationLayer or regressionLayer). "
                         "Received: none.")
    if not require_output and outputs:
        raise MException(f"nnet_cnn:{func}:OutputLayerNotSupported",
                         f"A dlnetwork must not contain output layers. Received: {outputs}. "
                         "Remove them with removeLayers.")
    order = lgraph.topological_order()
    if layers[order[0]].Name != inputs[0]:
        raise MException(f"nnet_cnn:{func}:InputLayerNotFirst",
                         f"The input layer '{inputs[0]}' must come first in the topological order. "
                         f"Received: '{layers[order[0]].Name}' first.")
    unconnected = unconnected_inputs(lgraph)
    if unconnected:
        raise MException(f"nnet_cnn:{func}:UnconnectedInput",
                         f"Every layer input must be connected. Unconnected inputs: {unconnected}.")
    unused = [f"{layer.Name}/{port}" for i, layer in enumerate(layers)
              for port, targets in zip(layer.OutputNames, lgraph.output_targets(i)) if not targets]
    if require_output and unused:      # a dlnetwork's free outputs are its outputs
        raise MException(f"nnet_cnn:{func}:UnconnectedOutput",
                         f"Invalid network. Layer '{unused[0].split('/')[0]}': Unused output. Each "
                         "layer output must be connected to the input of another layer. Received: "
                         f"unconnected outputs {unused}.")


def unset_values(lgraph: Any) -> list[str]:
    """``"layer.Property"`` for every learnable, state or needed normalization statistic left empty."""
    missing = []
    for layer in lgraph.Layers:
        names = list(layer.LEARNABLES) + list(layer.STATES) + list(input_statistics(layer))
        missing += [f"{layer.Name}.{n}" for n in names if is_empty(getattr(layer, n, None))]
    return missing

