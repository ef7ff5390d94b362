"""LayerGraph: MATLAB's ``nnet.cnn.LayerGraph`` and its editing functions.

Storage: a tuple of layer objects (``Layers`` order) and a set of *port edges*
``(src_idx, src_port, dst_idx, dst_port)`` -- 0-based indices into ``Layers`` and into the
layer's ``OutputNames`` / ``InputNames``. The ``Connections`` table is derived on demand, in
MATLAB ``digraph`` order: sorted by (source index, destination index), then input port.

A LayerGraph is a value: every edit (``addLayers``, ``removeLayers``, ``connectLayers``,
``disconnectLayers``, ``replaceLayer``) returns a new graph and leaves its argument as it was.
Layer objects are copied on the way in, and ``Layers[i]`` hands out copies, so changing a layer
object afterwards never changes a graph. Errors are ``MException`` with identifiers
``nnet_cnn:nnet:cnn:LayerGraph:<Reason>``.
"""
from __future__ import annotations

import copy
import difflib
from collections import Counter
from typing import Any, Iterable, Sequence

import pandas as pd

from .incoming_layers import GRAPH_ID as _ID, graph_error as _error
from .incoming_layers import Edge, as_layer_list, chain_edges, check_explicit_names, prepare_layers
from .toposort import find_cycle, stable_order
from .display import LayerArray, layer_graph_text
from .properties import check_assignment
from ..layers._validation import parse_name_value, validatestring
from ..layers.base import Layer


def _matlab_edge_order(edge: Edge) -> tuple[int, int, int, int]:
    src, src_port, dst, dst_port = edge
    return (src, dst, dst_port, src_port)


def _port_index(layer: Layer, port: str | None, kind: str) -> int | None:
    """Index of the named input/output port; a bare name selects the single port (None if none)."""
    names = list(layer.InputNames if kind == "input" else layer.OutputNames)
    title = kind.capitalize()
    if port is None:
        if len(names) > 1:
            raise _error(f"MustSpecify{title}ForMultiple{title}Layer",
                         f"Layer '{layer.Name}' has several {kind}s; name one as "
                         f"'{layer.Name}/<{kind}>'. Allowed: "
                         f"{', '.join(repr(f'{layer.Name}/{n}') for n in names)}.")
        return 0 if names else None
    if port not in names:
        raise _error(f"NonExistentLayer{title}",
                     f"Layer '{layer.Name}' has no {kind} named '{port}'. Allowed {kind} names: "
                     f"{', '.join(repr(n) for n in names) or '(none)'}.")
    return names.index(port)


def _reconnect_port(old: Layer, old_port: int, new: Layer, kind: str, mode: str) -> int:
    """replaceLayer: the port of ``new`` that takes over ``old``'s port, by name or by order."""
    if kind == "input" and new.IS_INPUT:
        raise _error("CannotConnectToInputLayer",
                     f"Cannot reconnect the inputs of '{old.Name}' to input layer '{new.Name}'.")
    if kind == "output" and new.IS_OUTPUT:
        raise _error("CannotConnectFromOutputLayer",
                     f"Cannot reconnect the outputs of '{old.Name}' from output layer "
                     f"'{new.Name}'.")
    old_names = old.InputNames if kind == "input" else old.OutputNames
    new_names = list(new.InputNames if kind == "input" else new.OutputNames)
    if mode == "name" and old_names[old_port] in new_names:
        return new_names.index(old_names[old_port])
    if mode == "order" and old_port < len(new_names):
        return old_port
    wanted = f"named '{old_names[old_port]}'" if mode == "name" else f"number {old_port + 1}"
    raise _error(f"NonExistentLayer{kind.capitalize()}",
                 f"replaceLayer with ReconnectBy=\"{mode}\": layer '{new.Name}' has no {kind} "
                 f"{wanted}, which '{old.Name}' had connected. Its {kind}s: "
                 f"{', '.join(repr(n) for n in new_names)}.")


class LayerGraph:
    """MATLAB's ``LayerGraph``: layers plus the connections between their ports.

    Properties (MATLAB names): ``Layers`` (a :class:`LayerArray`), ``Connections`` (DataFrame
    with columns ``Source``, ``Destination``), ``InputNames``, ``OutputNames`` (names of the
    input and output layers, in ``Layers`` order). ``LayerGraph(layers)`` is
    ``layerGraph(layers)``. Helpers for the other tiers: :meth:`layer_index`, :meth:`layer`,
    :attr:`edges`, :meth:`input_sources`, :meth:`output_targets`, :meth:`topological_order`,
    :meth:`has_cycle`, :meth:`with_layers`.
    """

    def __init__(self, layers: Any = ()) -> None:
        new = prepare_layers(layers, set(), "nnet_cnn:layerGraph:InvalidLayerArray")
        self._setup(new, chain_edges(0, len(new)))

    def __setattr__(self, name: str, value: Any) -> None:
        check_assignment(self, name, value)
        super().__setattr__(name, value)

    @classmethod
    def from_edges(cls, layers: Sequence[Layer], edges: Iterable[Edge]) -> "LayerGraph":
        """A graph from named layers and 0-based port edges ``(src, src_port, dst, dst_port)``.

        Builds a whole network in one step (what ``addLayers`` per run plus ``connectLayers``
        per link gives, without making a graph per edit). Checked: every layer is a Layer with
        a unique name without '/'; every index and port exists; no layer feeds itself; each
        input port has one source at most. The layers are shallow-copied.
        """
        new = tuple(as_layer_list(list(layers), _ID + "InvalidLayerArray"))
        names = [layer.Name for layer in new]
        if not all(names):
            raise _error("InvalidLayerArray", "from_edges needs a name on every layer. Received: "
                         f"an unnamed layer at position {names.index('') + 1}.")
        check_explicit_names(names, set())
        edges = tuple(edges)
        for edge in edges:
            _check_edge(new, edge)
        fed = Counter((d, dp) for _, _, d, dp in set(edges))
        busy = [f"'{new[d].Name}/{new[d].InputNames[dp]}'" for (d, dp), n in fed.items() if n > 1]
        if busy:
            raise _error("LayerInputIsNotFree",
                         f"Each layer input takes one connection. Received: several for {busy[0]}.")
        return cls._from_parts(tuple(copy.copy(layer) for layer in new), edges)

    @classmethod
    def _from_parts(cls, layers: tuple[Layer, ...], edges: Iterable[Edge]) -> "LayerGraph":
        """Trusted: the graph's own edits, whose results are valid by construction (no copies)."""
        graph = object.__new__(cls)
        graph._setup(layers, edges)
        return graph

    def _setup(self, layers: tuple[Layer, ...], edges: Iterable[Edge]) -> None:
        self._layers = tuple(layers)
        self._edges = tuple(sorted(set(edges), key=_matlab_edge_order))
        self._index = {layer.Name: i for i, layer in enumerate(self._layers)}
        self._order: tuple[list[int], list[int]] | None = None     # (toposort, cycle)
        self._ports: tuple[list, list] | None = None                 # (sources, targets)

    # ---- MATLAB properties ---------------------------------------------------------------
    @property
    def Layers(self) -> LayerArray:
        """The layers, in order (``lgraph.Layers[0]`` is MATLAB's ``lgraph.Layers(1)``)."""
        return LayerArray.shared(self._layers)

    @property
    def Connections(self) -> pd.DataFrame:
        """Table with columns ``Source`` and ``Destination``, one row per port connection."""
        rows = [(self._source_label(s, sp), self._destination_label(d, dp))
                for s, sp, d, dp in self._edges]
        return pd.DataFrame(rows, columns=["Source", "Destination"])

    @property
    def InputNames(self) -> list[str]:
        """Names of the input layers, in ``Layers`` order."""
        return [layer.Name for layer in self._layers if layer.IS_INPUT]

    @property
    def OutputNames(self) -> list[str]:
        """Names of the output layers, in ``Layers`` order."""
        return [layer.Name for layer in self._layers if layer.IS_OUTPUT]

    def _source_label(self, idx: int, port: int) -> str:
        layer = self._layers[idx]
        return layer.Name if layer.NumOutputs <= 1 else f"{layer.Name}/{layer.OutputNames[port]}"

    def _destination_label(self, idx: int, port: int) -> str:
        layer = self._layers[idx]
        return layer.Name if layer.NumInputs <= 1 else f"{layer.Name}/{layer.InputNames[port]}"

    def __repr__(self) -> str:
        return layer_graph_text(self.InputNames, self.OutputNames,
                                len(self._layers), len(self._edges))

    __str__ = __repr__

    # ---- helpers for analysis, executor and trainer --------------------------------------
    @property
    def edges(self) -> tuple[Edge, ...]:
        """Port edges ``(src_idx, src_port, dst_idx, dst_port)``, 0-based, in Connections order."""
        return self._edges

    def layer_index(self, name: str) -> int:
        """0-based index in ``Layers`` of the layer called ``name``; LayerDoesNotExist if none."""
        idx = self._index.get(name) if isinstance(name, str) else None
        if idx is None:
            close = difflib.get_close_matches(str(name), list(self._index), n=3)
            hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise _error("LayerDoesNotExist",
                         f"Layer '{name}' does not exist in the layer graph.{hint}")
        return idx

    def layer(self, name: str) -> Layer:
        """A copy of the layer called ``name``."""
        return copy.copy(self._layers[self.layer_index(name)])

    def _port_maps(self) -> tuple[list, list]:
        if self._ports is None:
            sources = [[None] * layer.NumInputs for layer in self._layers]
            targets = [[[] for _ in range(layer.NumOutputs)] for layer in self._layers]
            for s, sp, d, dp in self._edges:
                sources[d][dp] = (s, sp)
                targets[s][sp].append((d, dp))
            self._ports = (sources, targets)
        return self._ports

    def input_sources(self, layer_idx: int) -> list[tuple[int, int] | None]:
        """Per input port of layer ``layer_idx``: ``(src_idx, src_port)``, or None when free."""
        return list(self._port_maps()[0][layer_idx])

    def output_targets(self, layer_idx: int) -> list[list[tuple[int, int]]]:
        """Per output port of layer ``layer_idx``: the ``(dst_idx, dst_port)`` it feeds."""
        return [list(t) for t in self._port_maps()[1][layer_idx]]

    def _sorted(self) -> tuple[list[int], list[int]]:
        """Kahn's algorithm, stable by ``Layers`` index; (order, one cycle or [])."""
        if self._order is None:
            arcs = [(s, d) for s, _, d, _ in self._edges]
            order, rest = stable_order(len(self._layers), arcs)
            self._order = (order, find_cycle(rest, arcs))
        return self._order

    def topological_order(self) -> list[int]:
        """Layer indices in topological order (MATLAB ``toposort(..., 'Order', 'stable')``).

        Raises ``...:GraphMustBeAcyclic`` naming the layers of a cycle.
        """
        order, cycle = self._sorted()
        if cycle:
            path = " -> ".join(f"'{self._layers[i].Name}'" for i in cycle + cycle[:1])
            raise _error("GraphMustBeAcyclic",
                         f"The layer graph must be acyclic. It contains the cycle {path}.")
        return list(order)

    def has_cycle(self) -> bool:
        """True when the connections contain a directed cycle."""
        return bool(self._sorted()[1])

    def with_layers(self, new_layers: Iterable[Layer]) -> "LayerGraph":
        """The same connections over replacement layer objects (e.g. trained copies).

        ``new_layers`` must match ``Layers`` one to one: same names, same numbers of inputs and
        outputs. The objects are shallow-copied into the new graph.
        """
        new = tuple(new_layers)
        mismatch = [
            i for i, (a, b) in enumerate(zip(self._layers, new))
            if not isinstance(b, Layer) or (a.Name, a.NumInputs, a.NumOutputs)
            != (b.Name, b.NumInputs, b.NumOutputs)
        ]
        if len(new) != len(self._layers) or mismatch:
            where = (f"{len(new)} layers for a graph of {len(self._layers)}"
                     if len(new) != len(self._layers) else
                     f"layer {mismatch[0]} ('{self._layers[mismatch[0]].Name}') differs in type, "
                     f"name or number of inputs/outputs")
            raise _error("LayersMustMatchGraph",
                         f"with_layers needs one layer per graph layer, with the same names and "
                         f"ports, in Layers order. Received: {where}.")
        return LayerGraph._from_parts(tuple(copy.copy(layer) for layer in new), self._edges)

    def layerGraph(self) -> "LayerGraph":
        """``layerGraph(lgraph)``: the graph itself (it is immutable)."""
        return self

    # ---- editing (each returns a new LayerGraph) -----------------------------------------
    def addLayers(self, larray: Any) -> "LayerGraph":
        """``lgraph = addLayers(lgraph, larray)``: append the layers and chain them in order.

        Nothing is connected to the layers already in the graph.
        """
        new = prepare_layers(larray, set(self._index), _ID + "InvalidLayerArray")
        edges = self._edges + tuple(chain_edges(len(self._layers), len(new)))
        return LayerGraph._from_parts(self._layers + new, edges)

    def removeLayers(self, layerNames: str | Sequence[str]) -> "LayerGraph":
        """``lgraph = removeLayers(lgraph, layerNames)``: drop the layers and all their connections."""
        names = [layerNames] if isinstance(layerNames, str) else layerNames
        if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
            raise _error("InvalidInputForRemoveLayers",
                         "layerNames must be a layer name or a list of layer names. "
                         f"Received: {layerNames!r}.")
        drop = {self.layer_index(name) for name in names}
        kept = [i for i in range(len(self._layers)) if i not in drop]
        new_index = {old: new for new, old in enumerate(kept)}
        edges = [(new_index[s], sp, new_index[d], dp) for s, sp, d, dp in self._edges
                 if s in new_index and d in new_index]
        return LayerGraph._from_parts(tuple(self._layers[i] for i in kept), edges)

    def _endpoint(self, text: Any, role: str) -> tuple[int, str | None]:
        """Parse 'layer' or 'layer/port' (role 'Source' or 'Destination')."""
        if not isinstance(text, str):
            raise _error(f"{role}MustBeString",
                         f"The {role.lower()} must be a layer name, optionally followed by "
                         f"'/<port>'. Received: {text!r} of type {type(text).__name__}.")
        if text.count("/") > 1:
            raise _error(f"CannotHaveMultipleForwardSlashesIn{role}",
                         f"The {role.lower()} must be 'layer' or 'layer/port', with at most one "
                         f"'/'. Received: '{text}'.")
        name, slash, port = text.partition("/")
        return self.layer_index(name), (port if slash else None)

    def connectLayers(self, s: str, d: str) -> "LayerGraph":
        """``lgraph = connectLayers(lgraph, s, d)``: connect 'src[/out]' to 'dst[/inK]'."""
        src, src_port_name = self._endpoint(s, "Source")
        dst, dst_port_name = self._endpoint(d, "Destination")
        src_layer, dst_layer = self._layers[src], self._layers[dst]
        if src_layer.IS_OUTPUT:
            raise _error("CannotConnectFromOutputLayer",
                         f"Cannot connect from output layer '{src_layer.Name}': it has no outputs.")
        if dst_layer.IS_INPUT:
            raise _error("CannotConnectToInputLayer",
                         f"Cannot connect to input layer '{dst_layer.Name}': it has no inputs.")
        edge = (src, _port_index(src_layer, src_port_name, "output"),
                dst, _port_index(dst_layer, dst_port_name, "input"))
        if src == dst:
            raise _error("CannotConnectLayerToItself",
                         f"Cannot connect layer '{src_layer.Name}' to itself.")
        if edge in self._edges:
            raise _error("ConnectionAlreadyExists",
                         f"The connection from '{s}' to '{d}' already exists.")
        occupant = self.input_sources(dst)[edge[3]]
        if occupant is not None:
            raise _error("LayerInputIsNotFree",
                         f"Input '{d}' is already connected (from '{self._source_label(*occupant)}')."
                         f" Disconnect it first with disconnectLayers.")
        return LayerGraph._from_parts(self._layers, self._edges + (edge,))

    def disconnectLayers(self, s: str, d: str) -> "LayerGraph":
        """``lgraph = disconnectLayers(lgraph, s, d)``; no error when they are not connected."""
        src, src_port_name = self._endpoint(s, "Source")
        dst, dst_port_name = self._endpoint(d, "Destination")
        edge = (src, _port_index(self._layers[src], src_port_name, "output"),
                dst, _port_index(self._layers[dst], dst_port_name, "input"))
        return LayerGraph._from_parts(self._layers, (e for e in self._edges if e != edge))

    def replaceLayer(self, layerName: str, larray: Any, *args: Any, **kwargs: Any) -> "LayerGraph":
        """``lgraph = replaceLayer(lgraph, layerName, larray, ReconnectBy="name"|"order")``.

        The layers of ``larray`` are chained and put in place of ``layerName`` in ``Layers``.
        The old layer's input connections go to the first new layer and its output
        connections come from the last one, matched by port name ("name", default) or by
        port position ("order").
        """
        opts = parse_name_value(args, kwargs, ["ReconnectBy"], "replaceLayer")
        mode = validatestring(opts.get("ReconnectBy", "name"), ["name", "order"],
                              "replaceLayer", "ReconnectBy")
        pos = self.layer_index(layerName)
        old = self._layers[pos]
        new = prepare_layers(larray, set(self._index) - {layerName}, _ID + "InvalidLayerArray")
        if not new:
            raise _error("InvalidLayerArray",
                         "replaceLayer needs at least one new layer. Received: an empty array.")
        first, last = pos, pos + len(new) - 1

        def moved(i: int) -> int:
            return i if i < pos else i + len(new) - 1

        edges = chain_edges(first, len(new))
        for s, sp, d, dp in self._edges:
            if d == pos:
                edges.append((moved(s), sp, first, _reconnect_port(old, dp, new[0], "input", mode)))
            elif s == pos:
                edges.append((last, _reconnect_port(old, sp, new[-1], "output", mode), moved(d), dp))
            else:
                edges.append((moved(s), sp, moved(d), dp))
        layers = self._layers[:pos] + new + self._layers[pos + 1:]
        return LayerGraph._from_parts(layers, edges)


def _check_edge(layers: tuple[Layer, ...], edge: Any) -> None:
    """An edge of :meth:`LayerGraph.from_edges`: four ints naming existing, distinct ports."""
    if not _names_existing_ports(layers, edge):
        raise _error("InvalidEdge",
                     "Edges must be (src, src_port, dst, dst_port): 0-based indices of layers "
                     f"and of their outputs/inputs. Received: {edge!r} for {len(layers)} layers.")
    if edge[0] == edge[2]:
        raise _error("CannotConnectLayerToItself",
                     f"Cannot connect layer '{layers[edge[0]].Name}' to itself.")


def _names_existing_ports(layers: tuple[Layer, ...], edge: Any) -> bool:
    if not (isinstance(edge, tuple) and len(edge) == 4
            and all(isinstance(k, int) and not isinstance(k, bool) for k in edge)):
        return False
    src, src_port, dst, dst_port = edge
    return (0 <= src < len(layers) and 0 <= dst < len(layers)
            and 0 <= src_port < layers[src].NumOutputs and 0 <= dst_port < layers[dst].NumInputs)


__all__ = ["LayerGraph", "LayerArray"]
