"""Drawing geometry shared by ``plot`` (matplotlib) and the analyzer page (SVG).

Coordinates are in *drawing units*: a layout column is ``COLUMN`` units wide and a rank
``ROW`` units tall, so both renderers draw the same picture at their own scale.
"""
from __future__ import annotations

import numpy as np

from .layout import GraphLayout

COLUMN = 2.4        # horizontal distance between columns (fits a ~24-character label)
ROW = 0.42          # vertical distance between ranks
MARGIN = 0.35
ARROW_LENGTH = 0.1
ARROW_HALF_WIDTH = 0.045
MATLAB_BLUE = "#0072BD"
ISSUE_RED = "#D95319"


def node_points(layout: GraphLayout) -> np.ndarray:
    """(n, 2) node centres in drawing units (y grows downwards)."""
    return np.column_stack([MARGIN + layout.x * COLUMN, MARGIN + layout.y * ROW])


def extent(layout: GraphLayout, label_width: float) -> tuple[float, float]:
    """(width, height) of the drawing in drawing units, labels right of the nodes included."""
    return (2 * MARGIN + layout.width * COLUMN + label_width,
            2 * MARGIN + max(layout.height - 1, 0) * ROW)


def route_curves(route: np.ndarray) -> np.ndarray:
    """Cubic Bezier segments along a route: (k, 4, 2) control points in drawing units.

    Each segment leaves and enters its ranks vertically, so a chain of dummies becomes one
    smooth curve and the arrow at the end points along the flow.
    """
    p = np.column_stack([MARGIN + route[:, 0] * COLUMN, MARGIN + route[:, 1] * ROW])
    start, end = p[:-1], p[1:]
    bend = (end[:, 1] - start[:, 1])[:, None] * np.array([0.0, 0.5])
    return np.stack([start, start + bend, end - bend, end], axis=1)


def trimmed_curves(route: np.ndarray, node_radius: float) -> np.ndarray:
    """:func:`route_curves` with the last point pulled back so an arrowhead fits before the node."""
    curves = route_curves(route)
    if not len(curves):
        return curves
    last = curves[-1]
    direction = np.sign(last[3, 1] - last[2, 1]) or 1.0
    pull = node_radius + ARROW_LENGTH
    last[3, 1] -= direction * pull
    last[2, 1] -= direction * min(pull, abs(last[3, 1] - last[0, 1]) / 2)
    return curves


def arrowhead(curves: np.ndarray) -> np.ndarray:
    """(3, 2) triangle at the end of trimmed ``curves``, pointing along the last tangent."""
    tip_base = curves[-1, 3]
    tangent = curves[-1, 3] - curves[-1, 2]
    norm = float(np.hypot(*tangent))
    d = tangent / norm if norm > 1e-9 else np.array([0.0, 1.0])
    normal = np.array([-d[1], d[0]])
    tip = tip_base + d * ARROW_LENGTH
    return np.array([tip, tip_base + normal * ARROW_HALF_WIDTH, tip_base - normal * ARROW_HALF_WIDTH])
