"""MATLAB displays of layer arrays and layer graphs, and the LayerArray container.

A layer array prints as MATLAB's ``nnet.cnn.layer.Layer`` array display::

      7x1 Layer array with layers:

         1   ''   Image Input             28x28x1 images with 'zerocenter' normalization
         2   ''   2-D Convolution         25 3x3 convolutions with stride [1  1] and ...

(MATLAB's ``fprintf('    %2i   %-*s   %-*s   %s\\n', ...)`` rows, widths from the widest quoted
name and the widest type.)
"""
from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, overload

import numpy as np

from ..layers.base import Layer
from ..layers.errors import MException, MIndexError


class LayerArray(Sequence):
    """An immutable column of layers (MATLAB's ``N x 1 Layer array``) with MATLAB's display.

    Index by position (0-based int or slice, Python style) or by layer name (str). Items are
    returned as shallow copies, so assigning a property on an item (``arr[0].Name = "x"``)
    never changes the array or the graph it came from.

    >>> arr = LayerArray([])
    >>> print(arr)
      0x1 empty Layer array.
    """

    __slots__ = ("_layers",)

    def __init__(self, layers: Iterable[Layer] = ()):
        items = tuple(layers)
        for i, item in enumerate(items):
            if not isinstance(item, Layer):
                raise MException(
                    "nnet_cnn:LayerArray:InvalidLayer",
                    f"A layer array holds layer objects only. Received: element {i} of type "
                    f"{type(item).__name__}.",
                )
        self._layers = tuple(layer.copy() for layer in items)

    @classmethod
    def shared(cls, layers: tuple[Layer, ...]) -> "LayerArray":
        """An array sharing ``layers`` without copying or checking them.

        For owners that never mutate their layers (a LayerGraph's ``Layers``); items still
        come out as copies.
        """
        new = object.__new__(cls)
        new._layers = layers
        return new

    def __len__(self) -> int:
        return len(self._layers)

    @overload
    def __getitem__(self, key: int | str) -> Layer: ...
    @overload
    def __getitem__(self, key: slice) -> "LayerArray": ...

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, slice):
            return LayerArray.shared(self._layers[key])
        if isinstance(key, str):
            for layer in self._layers:
                if layer.Name == key:
                    return copy.copy(layer)
            raise MException(
                "nnet_cnn:LayerArray:LayerDoesNotExist",
                f"No layer named '{key}' in the layer array. Layer names: "
                f"{', '.join(repr(layer.Name) for layer in self._layers) or '(none)'}.",
            )
        if isinstance(key, (bool, np.bool_)) or not isinstance(key, (int, np.integer)):
            raise MException(
                "MATLAB:badsubscript",
                f"Layer arrays are indexed by an integer, a slice or a layer name. "
                f"Received: {key!r} ({type(key).__name__}).",
            )
        if not -len(self._layers) <= key < len(self._layers):
            raise MIndexError(
                "MATLAB:badsubscript",
                f"Index exceeds the number of layers: the array has {len(self._layers)} layers "
                f"(indices 0 to {len(self._layers) - 1}, 0-based). Received: {key}.",
            )
        return copy.copy(self._layers[key])

    def __iter__(self) -> Iterator[Layer]:
        return (copy.copy(layer) for layer in self._layers)

    @property
    def Name(self) -> list[str]:
        """The layer names, in order (MATLAB's ``{layers.Name}``)."""
        return [layer.Name for layer in self._layers]

    def __repr__(self) -> str:
        return layer_array_text(self._layers)

    __str__ = __repr__


def layer_array_text(layers: Sequence[Layer]) -> str:
    """MATLAB's display of an ``N x 1`` layer array (header, blank line, one row per layer)."""
    if not layers:
        return "  0x1 empty Layer array."
    names = [f"'{layer.Name}'" for layer in layers]
    types = [layer.Type for layer in layers]
    name_width = max(len(n) for n in names)
    type_width = max(len(t) for t in types)
    rows = [
        f"    {i:2d}   {name:<{name_width}}   {typ:<{type_width}}   {layer.description()}"
        for i, (name, typ, layer) in enumerate(zip(names, types, layers), start=1)
    ]
    return f"  {len(layers)}x1 Layer array with layers:\n\n" + "\n".join(rows)


def cell_text(names: Sequence[str]) -> str:
    """MATLAB's inline display of a row cell array of char: ``{'a'  'b'}``, empty ``{}``."""
    return "{" + "  ".join(f"'{n}'" for n in names) + "}"


def properties_text(class_name: str, rows: Sequence[tuple[str, str]]) -> str:
    """MATLAB's ``<Class> with properties:`` block over already formatted values.

    A blank line, then one ``Name: value`` row per property, names right-aligned on the colon;
    no trailing newline (callers add MATLAB's blank line or footer).

    >>> print(properties_text("LayerGraph", [("InputNames", "{}"), ("Layers", "[0x1 x]")]))
      LayerGraph with properties:
    <BLANKLINE>
        InputNames: {}
            Layers: [0x1 x]
    """
    width = max(len(name) for name, _ in rows)
    lines = [f"    {name:>{width}}: {value}" for name, value in rows]
    return f"  {class_name} with properties:\n\n" + "\n".join(lines)


def layer_graph_text(input_names: Sequence[str], output_names: Sequence[str],
                     num_layers: int, num_connections: int) -> str:
    """MATLAB's ``LayerGraph with properties:`` block (R2022+ property order)."""
    return properties_text("LayerGraph", [
        ("InputNames", cell_text(input_names)),
        ("OutputNames", cell_text(output_names)),
        ("Layers", f"[{num_layers}x1 nnet.cnn.layer.Layer]"),
        ("Connections", f"[{num_connections}x2 table]"),
    ])
