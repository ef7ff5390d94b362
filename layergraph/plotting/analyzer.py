"""``analyzeNetwork``: MATLAB's Network Analyzer as one self-contained HTML page.

``info = analyzeNetwork(lgraph)`` returns the :class:`NetworkAnalysis` of
:mod:`layergraph.graph.analysis` with ``to_html(path)`` added, and shows it as MATLAB does:
in the browser when a display is available, otherwise as the printed summary.
"""
from __future__ import annotations

import datetime
import html
import math
import os
import sys
import tempfile
import webbrowser
from typing import Any

from ..graph import analysis, layerGraph
from ..layers._validation import parse_name_value, validatestring
from ..layers.errors import MException
from . import backend, page_assets
from .files import write_text_atomically
from .layout import layer_graph_layout
from .svg import graph_svg

__all__ = ["analyzeNetwork", "NetworkAnalysis"]

NO_BROWSER_ENV = "LAYERGRAPH_NO_BROWSER"
PAGE_TITLE = "Deep Learning Network Analyzer"
PLOTS = ("analyzer", "none")


class NetworkAnalysis(analysis.NetworkAnalysis):
    """Result of :func:`analyzeNetwork` (MATLAB ``NetworkAnalysis``), with the analyzer page.

    Properties as MATLAB's: ``TotalLearnables``, ``LayerInfo``, ``Issues``, plus
    ``NetworkDepth``. ``to_html(path)`` writes the page; ``print(info)`` shows the summary.
    """

    def __init__(self, core: analysis.NetworkAnalysis, lgraph: Any):
        super().__init__(core.LayerInfo, core.Issues, core.NetworkDepth)
        self._graph = lgraph

    def to_html(self, path: Any) -> str:
        """Write the analyzer page to ``path`` (one HTML file, nothing fetched); returns the path."""
        if not isinstance(path, (str, os.PathLike)) or not os.fspath(path):
            raise MException("layergraph:to_html:InvalidFileName",
                             f"path must be a file name (text). Received: {path!r:.80}.")
        target = os.path.abspath(os.fspath(path))
        write_text_atomically(target, page_html(self, self._graph), "to_html")
        return target


def _issue_map(info: analysis.NetworkAnalysis, index: dict[str, int]) -> dict[int, list[tuple[str, str]]]:
    """layer index -> [(severity, description)] for the issues naming it."""
    out: dict[int, list[tuple[str, str]]] = {}
    for row in info.Issues.itertuples(index=False):
        for name in row.LayerNames:
            if name in index:
                out.setdefault(index[name], []).append((row.Severity, row.Description))
    return out


def _severity_class(issues: list[tuple[str, str]]) -> str:
    if any(sev == "Error" for sev, _ in issues):
        return "error"
    return "warning" if issues else ""


def _cell_lines(sizes: dict[str, tuple[int, ...]]) -> str:
    return "<br>".join(f"{html.escape(k)} {analysis._shape_text(v)}" for k, v in sizes.items()) or "–"


def _table_rows(info: analysis.NetworkAnalysis, layers: list[Any],
                issues: dict[int, list[tuple[str, str]]]) -> list[str]:
    rows = []
    for i, row in enumerate(info.LayerInfo.itertuples(index=False)):
        acts = (analysis._size_text(row.ActivationSizes, row.ActivationFormats)
                if row.ActivationSizes else "–")
        cls = _severity_class(issues.get(i, []))
        tip = " ".join(f"{s}: {d}" for s, d in issues.get(i, []))
        title = f' title="{html.escape(tip)}"' if tip else ""
        try:
            description = layers[i].description()
        except Exception:  # noqa: BLE001 - a user layer's description must not break the page
            description = ""
        rows.append(
            f'<tr class="layer {cls}" id="row-{i}" data-index="{i}" tabindex="0"{title}>'
            f'<td class="num">{i + 1}</td><td><b>{html.escape(row.Name)}</b><br>'
            f'<span class="type">{html.escape(str(description))}</span></td>'
            f"<td>{html.escape(row.Type)}</td><td>{html.escape(acts)}</td>"
            f"<td>{_cell_lines(row.LearnableSizes)}</td><td>{_cell_lines(row.StateSizes)}</td></tr>")
    return rows


def _issue_items(info: analysis.NetworkAnalysis, index: dict[str, int]) -> list[str]:
    items = []
    for row in info.Issues.itertuples(index=False):
        links = ", ".join(
            f'<a class="layer-link" href="#row-{index[n]}" data-index="{index[n]}">{html.escape(n)}</a>'
            for n in row.LayerNames if n in index) or "(network)"
        items.append(f'<li class="{row.Severity.lower()}"><span class="sev">{html.escape(row.Severity)}'
                     f"</span> {links}: {html.escape(row.Description)}</li>")
    return items


def _summary(info: analysis.NetworkAnalysis, num_layers: int) -> str:
    severities = list(info.Issues["Severity"])
    errors, warnings = severities.count("Error"), severities.count("Warning")
    total = "NaN" if math.isnan(info.TotalLearnables) else f"{info.TotalLearnables:,}"
    when = datetime.datetime.now().strftime("%d-%b-%Y %H:%M:%S")
    return (f'<h1>{PAGE_TITLE}</h1><span class="stat">Analysis date: {when}</span>'
            f'<span class="stat"><b id="num-layers">{num_layers}</b> layers</span>'
            f'<span class="stat">Learnables <b id="total-learnables">{total}</b></span>'
            f'<span class="stat">Depth <b>{info.NetworkDepth}</b></span>'
            f'<span class="pill warning{" some" if warnings else ""}">{warnings} warnings</span>'
            f'<span class="pill error{" some" if errors else ""}">{errors} errors</span>')


def page_html(info: analysis.NetworkAnalysis, lgraph: Any) -> str:
    """The whole page: header, graph (SVG), issues, layer table; inline CSS and script."""
    layers = list(lgraph.Layers)
    names = [layer.Name for layer in layers]
    index = {name: i for i, name in enumerate(names)}
    issues = _issue_map(info, index)
    svg = graph_svg(layer_graph_layout(lgraph), names,
                    [_severity_class(issues.get(i, [])) for i in range(len(names))])
    items = _issue_items(info, index)
    issue_block = (f'<h2>Issues ({len(items)})</h2><ul>{"".join(items)}</ul>' if items
                   else "<h2>Issues</h2><p>No issues found.</p>")
    total = "NaN" if math.isnan(info.TotalLearnables) else f"{info.TotalLearnables:,}"
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{PAGE_TITLE}</title>", f"<style>{page_assets.CSS}</style>",
        f"<script>{page_assets.ERROR_TRAP}</script></head><body>",
        f"<header>{_summary(info, len(names))}</header><main>",
        f'<div id="graph-pane">{svg}</div><div id="side">',
        f'<section id="issues">{issue_block}</section>',
        '<h2 id="table-title">Layers</h2><table id="layers"><thead><tr><th>#</th><th>Name</th>'
        "<th>Type</th><th>Activations</th><th>Learnables</th><th>States</th></tr></thead><tbody>",
        *_table_rows(info, layers, issues),
        f'</tbody><tfoot><tr><td></td><td colspan="3">Total learnables</td>'
        f'<td colspan="2">{total}</td></tr></tfoot></table></div></main>',
        '<pre id="selfcheck"></pre>', f"<script>{page_assets.JS}</script>", "</body></html>"])


# ---- showing it --------------------------------------------------------------------------

def _display_available() -> bool:
    """A screen a browser can open on (and not a test run or a disabled session)."""
    if os.environ.get(NO_BROWSER_ENV, "") not in ("", "0") or "PYTEST_CURRENT_TEST" in os.environ:
        return False
    return backend.display_available()


def _interactive() -> bool:
    """A Python prompt (or IPython/Jupyter), where the returned value is echoed anyway."""
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    return hasattr(sys, "ps1") or shell is not None


def _open_in_browser(info: NetworkAnalysis) -> str | None:
    """Write the page to a fresh temporary folder and open it; its path, or None if no browser."""
    try:
        browser = webbrowser.get()
    except webbrowser.Error:
        return None
    folder = tempfile.mkdtemp(prefix="layergraph-analyzer-")
    path = info.to_html(os.path.join(folder, "network_analyzer.html"))
    return path if browser.open("file://" + path) else None


def analyzeNetwork(net: Any, *nameValuePairs: Any, **options: Any) -> NetworkAnalysis:
    """Analyse a network and show it: ``info = analyzeNetwork(lgraph)``.

    ``net``: a layer array, LayerGraph, DAGNetwork or dlnetwork. Options: ``TargetUsage``
    (``"trainNetwork"`` | ``"dlnetwork"``) and ``Plots`` (``"analyzer"``, the default, or
    ``"none"``). With ``"analyzer"`` the page opens in the web browser when a display is
    available (MATLAB opens the app); otherwise a script prints the summary (at a Python prompt
    the returned value shows it). The environment variable ``LAYERGRAPH_NO_BROWSER=1`` keeps
    the browser closed; ``Plots="none"`` shows nothing. ``info.to_html(path)`` writes the page.
    """
    given = parse_name_value(nameValuePairs, options, ["TargetUsage", "Plots"], "analyzeNetwork")
    plots = validatestring(given.pop("Plots", "analyzer"), PLOTS, "analyzeNetwork", "Plots")
    core = analysis.analyzeNetwork(net, **given)
    info = NetworkAnalysis(core, layerGraph(net))
    if plots == "none":
        return info
    opened = _open_in_browser(info) if _display_available() else None
    if opened:
        print(f"Network Analyzer: file://{opened}")
    elif not _interactive():
        print(info)
    return info
