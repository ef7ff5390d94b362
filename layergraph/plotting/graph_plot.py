"""``plot(lgraph)``: MATLAB's layered digraph of a layer graph, drawn with matplotlib.

One node per layer, labelled with the layer name; arcs from ``Connections``, routed around the
layers they skip (:mod:`.layout`). ``h = plot(lgraph)`` returns a :class:`GraphPlot` whose
``figure`` is the matplotlib figure (``h.figure.savefig("net.svg")``).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..graph import layerGraph
from ..layers.base import Layer
from ..layers.errors import MException
from . import backend, geometry
from .layout import GraphLayout, layer_graph_layout

__all__ = ["plot", "GraphPlot"]

INCH_PER_UNIT = 1.0          # drawing units -> inches when the figure fits every label
SCREEN_HEIGHT_INCHES = 10.0  # an on-screen window (zoom and pan, as in MATLAB)
FONT_POINTS = 7.5
NODE_RADIUS = 0.05
CHAR_WIDTH = 0.075           # drawing units per label character at FONT_POINTS


class GraphPlot:
    """Handle of a drawn layer graph (MATLAB ``GraphPlot``).

    ``figure``/``axes``: the matplotlib objects; ``XData``, ``YData``: node positions (drawing
    units, y down); ``NodeLabel``: the layer names; ``layout``: the :class:`GraphLayout`.
    """

    def __init__(self, figure: Any, axes: Any, points: np.ndarray, labels: list[str],
                 layout: GraphLayout):
        self.figure, self.axes, self.layout = figure, axes, layout
        self.XData, self.YData = points[:, 0].copy(), points[:, 1].copy()
        self.NodeLabel = list(labels)

    def __repr__(self) -> str:
        return f"GraphPlot with {len(self.NodeLabel)} nodes and {len(self.layout.arcs)} edges"


def _is_graph_like(x: Any) -> bool:
    return (isinstance(x, Layer) or (isinstance(x, (list, tuple)) and bool(x) and
                                     all(isinstance(v, Layer) for v in x))
            or type(x).__name__ == "LayerArray" or hasattr(x, "edges") and hasattr(x, "Layers")
            or (callable(getattr(x, "layerGraph", None)) and not isinstance(x, type)))


def _curves_path(mpath: Any, curves_list: list[np.ndarray]) -> Any:
    """One compound matplotlib Path of cubic Bezier pieces."""
    vertices, codes = [], []
    for curves in curves_list:
        for seg in curves:
            vertices += [seg[0], seg[1], seg[2], seg[3]]
            codes += [mpath.Path.MOVETO, mpath.Path.CURVE4, mpath.Path.CURVE4, mpath.Path.CURVE4]
    if not vertices:
        return mpath.Path(np.zeros((0, 2)))
    return mpath.Path(np.array(vertices), codes)


def draw_layer_graph(ax: Any, layout: GraphLayout, labels: list[str],
                     colors: list[str] | None = None) -> np.ndarray:
    """Draw nodes, arcs (with arrowheads) and labels on ``ax``; returns the node points."""
    import matplotlib.collections as mcoll
    import matplotlib.patches as mpatches
    import matplotlib.path as mpath

    points = geometry.node_points(layout)
    curves = [geometry.trimmed_curves(r, NODE_RADIUS) for r in layout.routes]
    ax.add_patch(mpatches.PathPatch(_curves_path(mpath, curves), facecolor="none",
                                    edgecolor=geometry.MATLAB_BLUE, linewidth=0.8))
    heads = [geometry.arrowhead(c) for c in curves if len(c)]
    ax.add_collection(mcoll.PolyCollection(heads, facecolors=geometry.MATLAB_BLUE,
                                           edgecolors="none"))
    node_colors = colors or [geometry.MATLAB_BLUE] * len(labels)
    ax.add_collection(mcoll.EllipseCollection(
        np.full(len(labels), 2 * NODE_RADIUS), np.full(len(labels), 2 * NODE_RADIUS),
        np.zeros(len(labels)), units="xy", offsets=points, offset_transform=ax.transData,
        facecolors=node_colors, edgecolors="none"))
    for (x, y), text in zip(points, labels):
        ax.text(x + 1.6 * NODE_RADIUS, y, text, fontsize=FONT_POINTS, va="center", ha="left")
    return points


def plot(*args: Any, **kwargs: Any) -> Any:
    """``h = plot(lgraph)``: the layered digraph of a layer graph, layer array or network.

    Nodes are the layers (labelled by name) in MATLAB's ``'Layout','layered'`` top-down
    arrangement; skip connections run beside the layers they skip. Returns a
    :class:`GraphPlot` (``h.figure`` is the matplotlib figure). A graph with cycles or
    unconnected layers is drawn too. Anything else is passed to ``matplotlib.pyplot.plot``,
    as MATLAB's ``plot(x, y)``. Needs matplotlib (``pip install layergraph[plot]``).
    """
    if not args or not _is_graph_like(args[0]):
        return backend.pyplot("plot").plot(*args, **kwargs)
    if len(args) > 1 or kwargs:
        raise MException("layergraph:plot:TooManyInputs",
                         "plot(lgraph) takes the graph only. Received: "
                         f"{len(args) - 1} more positional and {len(kwargs)} keyword arguments.")
    lgraph = layerGraph(args[0])
    mpl = backend.require_matplotlib("plot")
    plt = backend.pyplot("plot")
    layout = layer_graph_layout(lgraph)
    labels = [layer.Name for layer in lgraph.Layers]
    longest = max((len(n) for n in labels), default=0)
    width, height = geometry.extent(layout, label_width=CHAR_WIDTH * longest + 3 * NODE_RADIUS)
    scale = INCH_PER_UNIT
    if not backend.draws_to_files(mpl):
        scale = min(scale, SCREEN_HEIGHT_INCHES / max(height, 1e-9))
    fig = plt.figure(figsize=(max(width * scale, 2.0), max(height * scale, 1.0)))
    ax = fig.add_axes((0, 0, 1, 1))
    points = draw_layer_graph(ax, layout, labels)
    ax.set_xlim(0, max(width, 2.0 / scale))
    ax.set_ylim(max(height, 1.0 / scale), 0)
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_axis_off()
    return GraphPlot(fig, ax, points, labels, layout)
