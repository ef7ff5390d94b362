"""The analyzer page in a real headless Chromium: loads cleanly, lists every layer, draws the graph."""
from __future__ import annotations

import functools
import html
import json
import re

import pytest

import layergraph as lg
from helpers.browser import find_chromium, load_page
from helpers.images import assert_png_shows_something, colour_fraction

pytestmark = pytest.mark.skipif(find_chromium() is None,
                                reason="chromium is not installed (.ci/run installs the Debian package)")
WINDOW = (1200, 900)


def self_check(dom: str) -> dict:
    match = re.search(r'<pre id="selfcheck">(.*?)</pre>', dom, re.S)
    assert match, "the page's self-check did not run"
    return json.loads(html.unescape(match.group(1)))


@functools.lru_cache(maxsize=None)
def network_with_issues():
    lgraph = lg.resnet3dLayers([64, 64, 64], 3, StackDepth=[1, 1], NumFilters=[2, 4])
    lgraph = lg.disconnectLayers(lgraph, "stack2_block1_skip_bn", "stack2_block1_add/in2")
    lgraph = lg.addLayers(lgraph, lg.additionLayer(2, Name="loop_add"))
    lgraph = lg.connectLayers(lgraph, "stack2_block1_relu3", "loop_add/in1")
    return lg.connectLayers(lgraph, "loop_add", "stack2_block1_add/in2")   # a cycle


def test_resnet50_3d_page(tmp_path):
    info = lg.analyzeNetwork(lg.resnet3dLayers([224, 224, 64, 3], 10), Plots="none")
    page = info.to_html(tmp_path / "analyzer.html")
    run = load_page(page, tmp_path / "shot.png", fragment="selfcheck", window=WINDOW)
    assert run.returncode == 0
    assert run.console == [], "console messages:\n" + "\n".join(run.console)
    check = self_check(run.dom)
    assert check["errors"] == []
    assert check["rows"] == 177 and check["nodes"] == 177 and check["arcs"] == 192
    assert check["issues"] == 0 and check["errorRows"] == 0
    assert check["nodeClickSelectsRow"] and check["rowClickSelectsNode"]
    assert "46,246,026" in run.dom            # total learnables in the summary and the footer
    rgb = assert_png_shows_something(run.screenshot, size=WINDOW, min_ink=0.05)
    assert colour_fraction(rgb, "#0072BD") > 0.002          # the graph's nodes and arcs


def test_page_of_a_network_with_issues(tmp_path):
    info = lg.analyzeNetwork(network_with_issues(), Plots="none")
    assert len(info.Issues) >= 2
    page = info.to_html(tmp_path / "issues.html")
    run = load_page(page, tmp_path / "shot.png", fragment="selfcheck", window=WINDOW)
    assert run.console == [], "console messages:\n" + "\n".join(run.console)
    check = self_check(run.dom)
    n = len(lg.layerGraph(network_with_issues()).Layers)
    assert check["errors"] == [] and check["rows"] == check["nodes"] == n
    assert check["issues"] == len(info.Issues)
    flagged = {name for names in info.Issues["LayerNames"] for name in names}
    assert check["errorRows"] == check["errorNodes"] == len(flagged)
    assert check["issueLinkSelectsRow"]
    for text in info.Issues["Description"]:
        assert html.escape(text, quote=False) in run.dom
    rgb = assert_png_shows_something(run.screenshot, size=WINDOW, min_ink=0.05)
    assert colour_fraction(rgb, "#c0392b", tolerance=30) > 0.0003      # issues in red


def test_the_console_check_can_fail(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text('<html><body><p>x</p><script>undefinedFunction();</script></body></html>')
    run = load_page(page, tmp_path / "shot.png")
    assert any("undefinedFunction" in line for line in run.console)
