"""analyzeNetwork: size inference, learnable counts and structural checks, without a window.

``analyzeNetwork(net)`` walks the layers in topological order, asks each layer for its output
sizes (``output_sizes``), derives learnable and state sizes from the layer properties (no weight
arrays are allocated for uninitialised layers) and collects the problems MATLAB's analyzer
reports (unconnected inputs and outputs, cycles, missing input/output layers, size errors).
The result is a :class:`NetworkAnalysis` whose ``LayerInfo`` and ``Issues`` are pandas
DataFrames, as MATLAB's ``NetworkAnalysis`` object holds tables.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd

from .editing import layerGraph
from .layer_graph import LayerGraph
from .toposort import stable_order
from .display import LayerArray
from ..layers._validation import parse_name_value, validatestring
from ..layers.base import Layer
from ..layers.errors import MException

# The public analyzeNetwork (which also shows the analyzer page) is layergraph.plotting's.
__all__: list[str] = []

LAYER_INFO_COLUMNS = ["Name", "Type", "ActivationSizes", "ActivationFormats", "LearnableSizes",
                      "NumLearnables", "StateSizes"]
ISSUE_COLUMNS = ["Severity", "LayerNames", "Description"]
TARGET_USAGES = ("trainNetwork", "dlnetwork")
DEPTH_LAYER_PREFIXES = ("Convolution", "TransposedConvolution", "FullyConnected")


# ---- the graph as index arrays -----------------------------------------------------------

@dataclass
class _Topology:
    """Layers plus, per layer, the (source index, source port) feeding each input port."""

    layers: list[Layer]
    sources: list[list[tuple[int, int] | None]]
    consumers: list[set[int]]       # per layer: destination indices
    used_outputs: list[set[int]]    # per layer: output ports in use


def _topology(lgraph: LayerGraph) -> _Topology:
    """The graph's port maps as per-layer lists (input sources, consumers, outputs in use)."""
    layers = list(lgraph.Layers)
    targets = [lgraph.output_targets(i) for i in range(len(layers))]
    return _Topology(layers, [lgraph.input_sources(i) for i in range(len(layers))],
                     [{dst for port in t for dst, _ in port} for t in targets],
                     [{p for p, port in enumerate(t) if port} for t in targets])


def _cycle_members(topo: _Topology, unplaced: list[int]) -> list[int]:
    """Of the layers Kahn could not place, those on a cycle: drop the ones feeding no other."""
    remaining = set(unplaced)
    while True:
        sinks = {i for i in remaining if not topo.consumers[i] & remaining}
        if not sinks:
            return sorted(remaining)
        remaining -= sinks


# ---- size propagation over a valid graph -------------------------------------------------

def propagate_sizes(lgraph: LayerGraph,
                    visit: Callable[[Layer, list[tuple[int, ...]]], Layer]) -> list[Layer]:
    """Call ``visit(layer, input_sizes)`` on every layer in topological order.

    Sizes exclude the batch and are MATLAB-ordered (``(h, w[, d], c)``). ``visit`` returns the
    layer whose ``output_sizes`` feed the layer's consumers (itself, or e.g. an initialised
    copy). Returns the layers in ``Layers`` order. A layer with an unconnected input, and
    every layer it feeds, has no known input size: it is not visited and comes back as it is.
    """
    layers = list(lgraph.Layers)
    out_sizes: dict[tuple[int, int], tuple[int, ...]] = {}
    for i in lgraph.topological_order():
        sources = lgraph.input_sources(i)
        if not all(src in out_sizes for src in sources):
            continue
        in_sizes = [out_sizes[src] for src in sources]
        layers[i] = visit(layers[i], in_sizes)
        for port, size in enumerate(layers[i].output_sizes(in_sizes)):
            out_sizes[(i, port)] = tuple(size)
    return layers


# ---- learnable and state sizes from properties -------------------------------------------

def _channel_vector(ndim: int, channels: int) -> tuple[int, ...]:
    return (1,) * ndim + (channels,)


def _derived_size(layer: Layer, name: str, in_size: tuple[int, ...]) -> tuple[int, ...] | None:
    """MATLAB shape of learnable/state ``name`` from the layer's hyperparameters and input size."""
    spatial, channels = len(in_size) - 1, in_size[-1]
    if hasattr(layer, "FilterSize") and hasattr(layer, "NumFilters"):
        kernel = tuple(int(k) for k in np.ravel(layer.FilterSize))
        filters = int(layer.NumFilters)
        return kernel + (channels, filters) if name == "Weights" else _channel_vector(len(kernel), filters)
    if hasattr(layer, "OutputSize"):
        out = int(layer.OutputSize)
        return (out, int(np.prod(in_size))) if name == "Weights" else (out, 1)
    if name in ("Offset", "Scale", "TrainedMean", "TrainedVariance"):
        return _channel_vector(spatial, channels)
    return None


def _parameter_sizes(layer: Layer, names: tuple[str, ...], in_sizes: list[tuple[int, ...]]
                     ) -> dict[str, tuple[int, ...]]:
    """Sizes of the named parameters: the stored value's shape if set, else derived."""
    sizes: dict[str, tuple[int, ...]] = {}
    missing = []
    for name in names:
        value = getattr(layer, name, None)
        if value is not None and np.size(value) > 0:
            sizes[name] = tuple(np.shape(value))
        else:
            derived = _derived_size(layer, name, in_sizes[0]) if in_sizes else None
            if derived is None:
                missing.append(name)
            else:
                sizes[name] = derived
    if missing:  # an unfamiliar layer: let it initialise itself and read the shapes
        initialized = layer.initialize(in_sizes, np.random.default_rng(0))
        sizes.update({name: tuple(np.shape(getattr(initialized, name))) for name in missing})
    return {name: sizes[name] for name in names}


# ---- the result object -------------------------------------------------------------------

def _size_text(sizes: tuple[int, ...], formats: str) -> str:
    return " × ".join(f"{n}({f})" for n, f in zip(sizes, formats))


def _shape_text(shape: tuple[int, ...]) -> str:
    return "×".join(str(n) for n in shape)


class NetworkAnalysis:
    """Result of :func:`analyzeNetwork` (MATLAB ``NetworkAnalysis``).

    ``TotalLearnables`` (int; NaN when the network has errors), ``LayerInfo`` (DataFrame:
    Name, Type, ActivationSizes, ActivationFormats, LearnableSizes, NumLearnables,
    StateSizes), ``Issues`` (DataFrame: Severity, LayerNames, Description) and
    ``NetworkDepth`` (largest number of sequential convolution / fully connected layers on a
    path from an input to an output).
    """

    def __init__(self, layer_info: pd.DataFrame, issues: pd.DataFrame, depth: int):
        self.LayerInfo = layer_info
        self.Issues = issues
        self.NetworkDepth = depth
        has_errors = bool((issues["Severity"] == "Error").any())
        self.TotalLearnables = math.nan if has_errors else int(layer_info["NumLearnables"].sum())

    def _layer_rows(self) -> list[tuple[str, ...]]:
        """Table rows: one per layer, plus continuation rows for further learnables/states."""
        rows = []
        for i, row in enumerate(self.LayerInfo.itertuples(index=False), start=1):
            acts = _size_text(row.ActivationSizes, row.ActivationFormats) if row.ActivationSizes else "-"
            learn = [f"{k} {_shape_text(v)}" for k, v in row.LearnableSizes.items()] or ["-"]
            state = [f"{k} {_shape_text(v)}" for k, v in row.StateSizes.items()] or ["-"]
            extra = max(len(learn), len(state))
            learn, state = learn + [""] * (extra - len(learn)), state + [""] * (extra - len(state))
            rows.append((str(i), row.Name, row.Type, acts, learn[0], state[0]))
            rows += [("", "", "", "", a, b) for a, b in zip(learn[1:], state[1:])]
        return rows

    def __str__(self) -> str:
        header = ("#", "Name", "Type", "Activations", "Learnables", "States")
        rows = self._layer_rows()
        widths = [max(len(r[k]) for r in [header, *rows]) for k in range(len(header))]
        fmt = "  ".join(f"{{:{'>' if k == 0 else '<'}{w}}}" for k, w in enumerate(widths))
        lines = [f"NetworkAnalysis: {len(self.LayerInfo)} layers, network depth {self.NetworkDepth}", "",
                 fmt.format(*header).rstrip(), fmt.format(*("-" * w for w in widths))]
        lines += [fmt.format(*r).rstrip() for r in rows]
        total = "NaN" if math.isnan(self.TotalLearnables) else str(self.TotalLearnables)
        lines += ["", f"Total learnables: {total}", ""]
        if self.Issues.empty:
            lines.append("Issues: none")
        else:
            lines.append(f"Issues: {len(self.Issues)}")
            lines += [f"  {r.Severity}: {', '.join(r.LayerNames) or '(network)'}: {r.Description}"
                      for r in self.Issues.itertuples(index=False)]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)


# ---- the analysis ------------------------------------------------------------------------

class _Analyzer:
    """One pass over a topology: sizes, learnables, issues, depth."""

    def __init__(self, topo: _Topology, usage: str):
        self.topo = topo
        self.usage = usage
        n = len(topo.layers)
        self.out_sizes: list[list[tuple[int, ...]] | None] = [None] * n
        self.rows: list[dict[str, Any]] = []
        self.issues: list[tuple[str, list[str], str]] = []

    def issue(self, severity: str, names: list[str], description: str) -> None:
        self.issues.append((severity, names, description))

    def check_structure(self, cyclic: list[int]) -> None:
        layers = self.topo.layers
        if cyclic:
            self.issue("Error", [layers[i].Name for i in _cycle_members(self.topo, cyclic)],
                       "The network contains a cycle; layer graphs must be acyclic.")
        for i, layer in enumerate(layers):
            for port, src in zip(layer.InputNames, self.topo.sources[i]):
                if src is None:
                    self.issue("Error", [layer.Name],
                               f"Missing input: input '{port}' of layer '{layer.Name}' is not "
                               f"connected. Each layer input must be connected to the output of another layer.")
        if not any(layer.IS_INPUT for layer in layers):
            self.issue("Error", [], "Missing input layer. The network must have at least one input layer.")
        if self.usage == "trainNetwork":
            self._check_outputs_for_training()
        else:
            for layer in layers:
                if layer.IS_OUTPUT:
                    self.issue("Error", [layer.Name],
                               f"Layer '{layer.Name}' is an output layer; dlnetwork objects do not "
                               f"support output layers. Remove it or use TargetUsage=\"trainNetwork\".")

    def _check_outputs_for_training(self) -> None:
        layers = self.topo.layers
        if not any(layer.IS_OUTPUT for layer in layers):
            self.issue("Error", [], "Missing output layer. The network must have at least one output layer.")
        for i, layer in enumerate(layers):
            for port_index, port in enumerate(layer.OutputNames):
                if port_index not in self.topo.used_outputs[i]:
                    self.issue("Error", [layer.Name],
                               f"Unconnected output: output '{port}' of layer '{layer.Name}' is not "
                               f"connected. Each layer output must be connected to the input of another layer.")

    def infer(self, i: int) -> None:
        """Sizes of layer ``i`` (its inputs are already done) and its table row."""
        layer = self.topo.layers[i]
        sources = self.topo.sources[i]
        known = all(s is not None and self.out_sizes[s[0]] is not None for s in sources)
        in_sizes = [self.out_sizes[s][p] for s, p in sources] if known else None
        if in_sizes is not None:
            try:
                outs = list(layer.output_sizes(in_sizes))
                bad = [o for o in outs if any(n < 1 for n in o)]
                if bad:
                    raise MException("nnet_cnn:analyzeNetwork:InputTooSmall",
                                     f"Layer '{layer.Name}': the input of size "
                                     f"{_shape_text(in_sizes[0])} is smaller than the layer's window; "
                                     f"the output size would be {_shape_text(bad[0])}.")
                self.out_sizes[i] = outs
            except MException as err:
                self.issue("Error", [layer.Name], err.message)
                in_sizes = None
        self.rows.append(self.row(layer, i, in_sizes))

    def row(self, layer: Layer, i: int, in_sizes: list[tuple[int, ...]] | None) -> dict[str, Any]:
        outs = self.out_sizes[i]
        activation = (outs[0] if outs else in_sizes[0] if in_sizes else None)
        learnables = _parameter_sizes(layer, layer.LEARNABLES, in_sizes) if in_sizes is not None else {}
        states = _parameter_sizes(layer, layer.STATES, in_sizes) if in_sizes is not None else {}
        sizes = tuple(activation) + (1,) if activation else ()
        return {
            "Name": layer.Name,
            "Type": layer.Type,
            "ActivationSizes": sizes,
            "ActivationFormats": "S" * (len(sizes) - 2) + "CB" if sizes else "",
            "LearnableSizes": learnables,
            "NumLearnables": int(sum(np.prod(s) for s in learnables.values())),
            "StateSizes": states,
        }

    def depth(self, order: list[int]) -> int:
        """Largest number of convolution / fully connected layers on a path (acyclic part)."""
        best = [0] * len(self.topo.layers)
        for i in order:
            counted = type(self.topo.layers[i]).__name__.startswith(DEPTH_LAYER_PREFIXES)
            before = [best[s] for s, _ in filter(None, self.topo.sources[i])]
            best[i] = max(before, default=0) + int(counted)
        return max((best[i] for i in order), default=0)


def _as_layer_graph(net: Any) -> LayerGraph:
    """The LayerGraph of a layer, layer array (list or LayerArray), LayerGraph or network."""
    is_layers = isinstance(net, (Layer, LayerArray)) or (
        isinstance(net, (list, tuple)) and all(isinstance(x, Layer) for x in net))
    is_network = callable(getattr(net, "layerGraph", None)) and not isinstance(net, type)
    if not (is_layers or is_network):
        raise MException("nnet_cnn:analyzeNetwork:InvalidNetwork",
                         "net must be a layer array, a LayerGraph, a DAGNetwork or a dlnetwork. "
                         f"Received: an object of type {type(net).__name__}.")
    return layerGraph(net)


def analyzeNetwork(net: Any, *nameValuePairs: Any, **options: Any) -> NetworkAnalysis:
    """Analyse a layer array, LayerGraph or network; return a :class:`NetworkAnalysis`.

    Option ``TargetUsage``: ``"trainNetwork"`` (default, except for a dlnetwork) requires an
    output layer and every output to be connected; ``"dlnetwork"`` forbids output layers.
    Opens no window: ``print(analyzeNetwork(lgraph))`` shows the table.

    >>> from layergraph import resnet3dLayers
    >>> info = analyzeNetwork(resnet3dLayers([224, 224, 64, 3], 10))
    >>> info.LayerInfo.loc[4, "ActivationSizes"]
    (56, 56, 16, 64, 1)
    """
    given = parse_name_value(nameValuePairs, options, ["TargetUsage"], "analyzeNetwork")
    default_usage = "dlnetwork" if type(net).__name__ == "dlnetwork" else "trainNetwork"
    usage = validatestring(given.get("TargetUsage", default_usage), TARGET_USAGES,
                           "analyzeNetwork", "TargetUsage")
    lgraph = _as_layer_graph(net)
    topo = _topology(lgraph)
    layers = topo.layers
    order, cyclic = stable_order(len(layers), [(s, d) for s, _, d, _ in lgraph.edges])
    analyzer = _Analyzer(topo, usage)
    analyzer.check_structure(cyclic)
    for i in order:
        analyzer.infer(i)
    for i in cyclic:
        analyzer.rows.append(analyzer.row(layers[i], i, None))
    position = {i: k for k, i in enumerate(order + cyclic)}
    rows = [analyzer.rows[position[i]] for i in range(len(layers))]
    info = pd.DataFrame(rows, columns=LAYER_INFO_COLUMNS)
    issues = pd.DataFrame(analyzer.issues, columns=ISSUE_COLUMNS)
    return NetworkAnalysis(info, issues, analyzer.depth(order))
