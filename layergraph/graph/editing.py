"""The function forms of graph editing (MATLAB ``layerGraph``, ``addLayers``, ``removeLayers``, ...).

Each returns a new LayerGraph and leaves its argument as it was.
"""
from __future__ import annotations

from typing import Any, Sequence

from ..layers.errors import MException
from .layer_graph import LayerGraph

__all__ = ["layerGraph", "addLayers", "removeLayers", "connectLayers", "disconnectLayers", "replaceLayer"]


def undefined_function_error(func: str, arg: Any, expected: str) -> MException:
    """MATLAB's error for a function called on an argument of a class that lacks it."""
    return MException("MATLAB:UndefinedFunction",
                      f"Undefined function '{func}' for input arguments of type "
                      f"'{type(arg).__name__}'. The first argument must be {expected}.")


def _method(obj: Any, name: str) -> Any:
    bound = getattr(obj, name, None)
    if not callable(bound) or isinstance(obj, type):
        raise undefined_function_error(name, obj, "a LayerGraph")
    return bound


def layerGraph(x: Any = None) -> LayerGraph:
    """``lgraph = layerGraph()``, ``layerGraph(layers)`` (chained in order), ``layerGraph(net)``.

    A network argument (an object with a ``layerGraph()`` method or an ``lgraph`` attribute)
    gives its graph.
    """
    if x is None:
        return LayerGraph()
    to_graph = getattr(x, "layerGraph", None)
    if callable(to_graph) and not isinstance(x, type):
        return to_graph()
    if isinstance(getattr(x, "lgraph", None), LayerGraph):
        return x.lgraph
    return LayerGraph(x)


def addLayers(lgraph: LayerGraph, larray: Any) -> LayerGraph:
    """``lgraph = addLayers(lgraph, larray)``: append the layers, chained in order."""
    return _method(lgraph, "addLayers")(larray)


def removeLayers(lgraph: LayerGraph, layerNames: str | Sequence[str]) -> LayerGraph:
    """``lgraph = removeLayers(lgraph, layerNames)``: drop layers and their connections."""
    return _method(lgraph, "removeLayers")(layerNames)


def connectLayers(lgraph: LayerGraph, s: str, d: str) -> LayerGraph:
    """``lgraph = connectLayers(lgraph, s, d)``: connect 'src[/out]' to 'dst[/inK]'."""
    return _method(lgraph, "connectLayers")(s, d)


def disconnectLayers(lgraph: LayerGraph, s: str, d: str) -> LayerGraph:
    """``lgraph = disconnectLayers(lgraph, s, d)``: remove that connection if present."""
    return _method(lgraph, "disconnectLayers")(s, d)


def replaceLayer(lgraph: LayerGraph, layerName: str, larray: Any, *args: Any,
                 **kwargs: Any) -> LayerGraph:
    """``lgraph = replaceLayer(lgraph, layerName, larray, ReconnectBy="name"|"order")``."""
    return _method(lgraph, "replaceLayer")(layerName, larray, *args, **kwargs)
