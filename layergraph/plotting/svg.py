"""The layered graph as inline SVG text (the analyzer page), same geometry as ``plot``."""
from __future__ import annotations

import html
from typing import Sequence

import numpy as np

from . import geometry
from .layout import GraphLayout

PX_PER_UNIT = 60.0
FONT_PX = 11
CHAR_PX = 6.3            # label width per character at FONT_PX (sans-serif, generous)
NODE_RADIUS_PX = 5.0


def _num(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def _curve_d(curves: np.ndarray) -> str:
    """SVG path data of Bezier pieces (each piece one ``M ... C ...``)."""
    parts = []
    for seg in curves * PX_PER_UNIT:
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = seg
        parts.append(f"M{_num(x0)} {_num(y0)}C{_num(x1)} {_num(y1)} {_num(x2)} {_num(y2)} "
                     f"{_num(x3)} {_num(y3)}")
    return "".join(parts)


def graph_svg(layout: GraphLayout, labels: Sequence[str], node_classes: Sequence[str]) -> str:
    """``<svg>`` with one ``<g class="node ..." data-index=i>`` per node and one path per arc.

    ``node_classes[i]`` adds CSS classes to node i (e.g. ``"error"``). Labels are escaped.
    """
    radius = NODE_RADIUS_PX / PX_PER_UNIT
    longest = max((len(s) for s in labels), default=0)
    width, height = geometry.extent(layout, (CHAR_PX * longest + 3 * NODE_RADIUS_PX) / PX_PER_UNIT)
    w_px, h_px = width * PX_PER_UNIT, height * PX_PER_UNIT
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" id="graph" width="{_num(w_px)}" '
           f'height="{_num(h_px)}" viewBox="0 0 {_num(w_px)} {_num(h_px)}" '
           f'font-size="{FONT_PX}" role="img" aria-label="layer graph">',
           '<g class="arcs">']
    for k, route in enumerate(layout.routes):
        curves = geometry.trimmed_curves(route, radius)
        if not len(curves):
            continue
        src, dst = (int(v) for v in layout.arcs[k])
        head = geometry.arrowhead(curves) * PX_PER_UNIT
        tri = " ".join(f"{_num(x)},{_num(y)}" for x, y in head)
        back = " reversed" if k in layout.reversed_arcs else ""
        out.append(f'<g class="arc{back}" data-src="{src}" data-dst="{dst}">'
                   f'<path d="{_curve_d(curves)}"/><polygon points="{tri}"/></g>')
    out.append("</g><g class=\"nodes\">")
    points = geometry.node_points(layout) * PX_PER_UNIT
    for i, ((x, y), label) in enumerate(zip(points, labels)):
        extra = f" {node_classes[i]}" if node_classes[i] else ""
        out.append(f'<g class="node{extra}" data-index="{i}" id="node-{i}" tabindex="0">'
                   f'<title>{html.escape(label)}</title>'
                   f'<circle cx="{_num(x)}" cy="{_num(y)}" r="{_num(NODE_RADIUS_PX)}"/>'
                   f'<text x="{_num(x + 1.8 * NODE_RADIUS_PX)}" y="{_num(y)}" '
                   f'dominant-baseline="central">{html.escape(label)}</text></g>')
    out.append("</g></svg>")
    return "\n".join(out)
