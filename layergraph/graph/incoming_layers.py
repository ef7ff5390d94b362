"""Layers entering a LayerGraph: naming, the layer-array checks and chaining.

``layerGraph``, ``addLayers``, ``replaceLayer`` and ``LayerGraph.from_edges`` take layers from
the user; this module turns them into named copies (MATLAB's default names, numbered by
``matlab.lang.makeUniqueStrings``) or raises ``nnet_cnn:nnet:cnn:LayerGraph:<Reason>``.
"""
from __future__ import annotations

from collections import Counter
from typing import Any, Iterable, Sequence

from .display import LayerArray
from ..layers.base import Layer
from ..layers.errors import MException

Edge = tuple[int, int, int, int]          # (src_idx, src_port, dst_idx, dst_port), 0-based
GRAPH_ID = "nnet_cnn:nnet:cnn:LayerGraph:"


def graph_error(reason: str, message: str) -> MException:
    """``MException('nnet_cnn:nnet:cnn:LayerGraph:<reason>', message)``."""
    return MException(GRAPH_ID + reason, message)


def make_unique_strings(strings: Sequence[str], excluded: Iterable[str] = ()) -> list[str]:
    """``matlab.lang.makeUniqueStrings(strings, excluded)``.

    A string that is excluded, or repeats an earlier one, gets the suffix ``_k`` with the
    smallest k >= 1 that is neither in ``strings``, nor excluded, nor already produced.

    >>> make_unique_strings(["conv", "relu", "conv"], excluded=["conv"])
    ['conv_1', 'relu', 'conv_2']
    """
    excluded = set(excluded)
    taken = excluded | set(strings)
    seen: set[str] = set()
    out = []
    for s in strings:
        new = s
        if s in excluded or s in seen:
            k = 1
            while f"{s}_{k}" in taken:
                k += 1
            new = f"{s}_{k}"
            taken.add(new)
        seen.add(s)
        out.append(new)
    return out


def as_layer_list(larray: Any, ident: str) -> list[Layer]:
    """A layer, list/tuple of layers or LayerArray, as a list (no copies yet)."""
    if isinstance(larray, Layer):
        return [larray]
    if isinstance(larray, LayerArray):
        return list(larray)
    if not isinstance(larray, (list, tuple)):
        raise MException(
            ident, "Layers must be a layer, a list of layers or a layer array. "
            f"Received: an object of type {type(larray).__name__}.")
    for i, item in enumerate(larray):
        if not isinstance(item, Layer):
            raise MException(
                ident, "Layers must be a layer, a list of layers or a layer array. "
                f"Received: element {i} of type {type(item).__name__}.")
    return list(larray)


def check_explicit_names(names: list[str], existing: set[str]) -> None:
    """Given layer names entering a graph: no '/', no repeats, none already in ``existing``."""
    for name in names:
        if "/" in name:
            raise graph_error("LayerNamesCannotContainForwardSlash",
                              f"Layer names cannot contain '/'. Received: Name='{name}'.")
    repeated = sorted(n for n, count in Counter(names).items() if count > 1)
    if repeated:
        raise graph_error("LayerNamesMustBeUnique",
                          f"Layer names must be unique. Received more than one layer named "
                          f"{', '.join(repr(n) for n in repeated)}.")
    clashes = [n for n in names if n in existing]
    if clashes:
        raise graph_error("LayerNamesMustNotAlreadyExist",
                          f"Layer names must differ from the names already in the layer graph. "
                          f"Received: {', '.join(repr(n) for n in clashes)}, already in the graph.")


def _new_layer_names(layers: list[Layer], existing: set[str]) -> list[str]:
    """Names for layers entering a graph: explicit names checked, empty names defaulted.

    Empty names become the layer's DefaultName; defaults that repeat, or clash with a name
    already in use, are all numbered by ``make_unique_strings`` (``conv_1``, ``conv_2``), as
    MATLAB names unnamed layers.
    """
    explicit = [layer.Name for layer in layers if layer.Name]
    check_explicit_names(explicit, existing)
    defaults = [layer.DEFAULT_NAME or "layer" for layer in layers if not layer.Name]
    repeated_defaults = {n for n, count in Counter(defaults).items() if count > 1}
    unique = iter(make_unique_strings(defaults, repeated_defaults | existing | set(explicit)))
    return [layer.Name or next(unique) for layer in layers]


def prepare_layers(larray: Any, existing: set[str], ident: str) -> tuple[Layer, ...]:
    """Validated, named copies of the layers to add; they will be chained in order."""
    layers = as_layer_list(larray, ident)
    names = _new_layer_names(layers, existing)
    new = tuple(layer.copy(Name=name) for layer, name in zip(layers, names))
    for i, layer in enumerate(new):
        if i > 0 and layer.IS_INPUT:
            raise graph_error("LayersAfterTheFirstCannotBeInputLayers",
                              "Only the first layer of a layer array can be an input layer, "
                              "because the layers are connected in sequence. Received: input "
                              f"layer '{layer.Name}' at position {i + 1}.")
        if i < len(new) - 1 and layer.IS_OUTPUT:
            raise graph_error("LayersBeforeTheLastCannotBeOutputLayers",
                              "Only the last layer of a layer array can be an output layer, "
                              "because the layers are connected in sequence. Received: output "
                              f"layer '{layer.Name}' at position {i + 1} of {len(new)}.")
    return new


def chain_edges(first: int, count: int) -> list[Edge]:
    """Edges connecting layers first, first+1, ..., first+count-1 in sequence (port 1 to 1)."""
    return [(i, 0, i + 1, 0) for i in range(first, first + count - 1)]
