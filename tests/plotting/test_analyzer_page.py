"""analyzeNetwork shows something (page or summary); to_html writes one self-contained file."""
from __future__ import annotations

import os
import re
import sys
import webbrowser

import pytest

import layergraph as lg
from layergraph.graph import analysis as core
from layergraph.layers.errors import MException
from layergraph.plotting import analyzer


def small_net(name="relu"):
    return [lg.imageInputLayer([8, 8, 1], Name="in"), lg.convolution2dLayer(3, 2, Name="conv"),
            lg.reluLayer(Name=name), lg.fullyConnectedLayer(2, Name="fc"),
            lg.softmaxLayer(Name="sm"), lg.classificationLayer(Name="out")]


class FakeBrowser:
    def __init__(self):
        self.urls = []

    def open(self, url):
        self.urls.append(url)
        return True


@pytest.fixture
def fake_browser(monkeypatch):
    browser = FakeBrowser()
    monkeypatch.setattr(webbrowser, "get", lambda: browser)
    return browser


def test_without_a_display_a_script_prints_the_summary(capsys, fake_browser):
    info = lg.analyzeNetwork(small_net())
    out = capsys.readouterr().out
    assert out.strip() == str(info).strip() and "NetworkAnalysis: 6 layers" in out
    assert fake_browser.urls == []
    assert isinstance(info, core.NetworkAnalysis) and isinstance(info, lg.NetworkAnalysis)


def test_at_a_prompt_the_echo_shows_it(capsys, monkeypatch):
    monkeypatch.setattr(sys, "ps1", ">>> ", raising=False)
    lg.analyzeNetwork(small_net())
    assert capsys.readouterr().out == ""


def test_with_a_display_the_page_opens_in_the_browser(capsys, monkeypatch, fake_browser):
    monkeypatch.delenv("PYTEST_CURRENT_TEST")
    monkeypatch.delenv(analyzer.NO_BROWSER_ENV, raising=False)
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(sys, "platform", "linux")
    lg.analyzeNetwork(small_net())
    assert len(fake_browser.urls) == 1
    path = fake_browser.urls[0].removeprefix("file://")
    assert os.path.isfile(path) and "<svg" in open(path, encoding="utf-8").read()
    assert capsys.readouterr().out.strip() == f"Network Analyzer: file://{path}"


def test_the_environment_variable_keeps_the_browser_closed(capsys, monkeypatch, fake_browser):
    monkeypatch.delenv("PYTEST_CURRENT_TEST")
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv(analyzer.NO_BROWSER_ENV, "1")
    lg.analyzeNetwork(small_net())
    assert fake_browser.urls == [] and "NetworkAnalysis" in capsys.readouterr().out


@pytest.mark.parametrize("args", [(), ("plots", "no")])
def test_plots_none_shows_nothing(capsys, monkeypatch, fake_browser, args):
    monkeypatch.delenv("PYTEST_CURRENT_TEST")
    monkeypatch.setenv("DISPLAY", ":0")
    info = lg.analyzeNetwork(small_net(), *args, **({} if args else {"Plots": "none"}))
    assert fake_browser.urls == [] and capsys.readouterr().out == "" and len(info.LayerInfo) == 6


def test_plots_must_be_analyzer_or_none():
    with pytest.raises(MException, match="Plots") as err:
        lg.analyzeNetwork(small_net(), Plots="window")
    assert "analyzer" in err.value.message


def test_page_is_self_contained_and_complete(tmp_path):
    info = lg.analyzeNetwork(lg.resnet3dLayers([224, 224, 64, 3], 10), Plots="none")
    text = open(info.to_html(tmp_path / "a.html"), encoding="utf-8").read()
    assert re.findall(r"https?://[^\s\"']+", text) == ["http://www.w3.org/2000/svg"]
    assert not re.search(r"<link|<img|<iframe|\ssrc=|@import|url\(", text)
    assert text.count('<tr class="layer') == 177 and len(re.findall('<g class="node[ "]', text)) == 177
    assert len(re.findall('<g class="arc[ "]', text)) == 192
    assert "46,246,026" in text and "No issues found." in text
    assert "56(S) × 56(S) × 16(S) × 256(C) × 1(B)" in text and "Weights 7×7×7×3×64" in text


def test_names_are_escaped(tmp_path):
    info = lg.analyzeNetwork(small_net(name='r<b>&"x'), Plots="none")
    text = open(info.to_html(tmp_path / "a.html"), encoding="utf-8").read()
    assert "r<b>" not in text and "r&lt;b&gt;&amp;&quot;x" in text


def test_issues_are_linked_to_their_rows(tmp_path):
    lgraph = lg.disconnectLayers(lg.layerGraph(small_net()), "relu", "fc")
    info = lg.analyzeNetwork(lgraph, Plots="none")
    text = open(info.to_html(tmp_path / "a.html"), encoding="utf-8").read()
    assert f"<h2>Issues ({len(info.Issues)})</h2>" in text
    assert '<a class="layer-link" href="#row-2" data-index="2">relu</a>' in text
    assert '<tr class="layer error" id="row-2"' in text and '<g class="node error" data-index="2"' in text


def test_unwritable_paths_name_the_path(tmp_path):
    info = lg.analyzeNetwork(small_net(), Plots="none")
    missing = tmp_path / "no" / "such" / "a.html"
    with pytest.raises(MException, match=re.escape(str(missing))) as err:
        info.to_html(missing)
    assert err.value.identifier == "layergraph:to_html:CannotWriteFile"
    with pytest.raises(MException, match="it is a folder"):
        info.to_html(tmp_path)
    with pytest.raises(MException, match="path must be a file name"):
        info.to_html(3)


def test_a_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "a.html"
    target.write_text("old")
    os.chmod(target, 0o640)
    info = lg.analyzeNetwork(small_net(), Plots="none")
    info.to_html(target)
    assert oct(os.stat(target).st_mode & 0o777) == "0o640" and "<svg" in target.read_text()
    target.write_text("old")
    monkeypatch.setattr(analyzer, "page_html", lambda *a: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        info.to_html(target)
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["a.html"]
