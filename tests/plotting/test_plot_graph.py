"""plot(lgraph): a matplotlib figure of the layered graph, headless, checked by its pixels."""
from __future__ import annotations

import sys

import numpy as np
import pytest

import layergraph as lg
from layergraph.layers.errors import MException
from layergraph.plotting import geometry
from helpers.images import assert_png_shows_something, colour_fraction

plt = pytest.importorskip("matplotlib.pyplot", reason="the plot extra (matplotlib) is not installed")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def small_graph():
    layers = [lg.imageInputLayer([8, 8, 1], Name="in", Normalization="none"),
              lg.convolution2dLayer(3, 4, Name="conv", Padding="same"),
              lg.reluLayer(Name="relu"), lg.additionLayer(2, Name="add"),
              lg.fullyConnectedLayer(2, Name="fc"), lg.softmaxLayer(Name="sm"),
              lg.classificationLayer(Name="out")]
    return lg.connectLayers(lg.layerGraph(layers), "conv", "add/in2")


def test_headless_figure_of_the_resnet50_3d(tmp_path):
    assert plt.get_backend().lower() == "agg"          # no display in the test run
    lgraph = lg.resnet3dLayers([224, 224, 64, 3], 10)
    h = lg.plot(lgraph)
    assert h.figure is h.axes.figure and h.figure in map(plt.figure, plt.get_fignums())
    assert h.NodeLabel == [layer.Name for layer in lgraph.Layers]
    assert len(h.XData) == len(h.YData) == 177
    texts = [t.get_text() for t in h.axes.texts]
    assert texts == h.NodeLabel
    width, height = h.figure.get_size_inches()
    assert height > 50 and height / width > 8          # tall: one rank per ~0.4 inch
    path = tmp_path / "net.png"
    h.figure.savefig(path, dpi=40)
    rgb = assert_png_shows_something(path, size=(round(width * 40), round(height * 40)), min_ink=0.01)
    assert colour_fraction(rgb, geometry.MATLAB_BLUE) > 0.003


def test_labels_are_text_in_an_svg(tmp_path):
    h = lg.plot(small_graph())
    h.figure.savefig(tmp_path / "net.svg")
    svg = (tmp_path / "net.svg").read_text()
    assert svg.count("<path") > 7 and "<svg" in svg


def test_skip_connection_is_routed_beside_the_chain():
    h = lg.plot(lg.resnet3dLayers([64, 64, 64], 3, StackDepth=[2, 1], NumFilters=[2, 4]))
    names, lay = h.NodeLabel, h.layout
    k = next(k for k, (s, d) in enumerate(lay.arcs.tolist())        # the identity skip
             if names[s] == "stack1_block1_relu3" and names[d] == "stack1_block2_add")
    inner = lay.routes[k][1:-1]
    assert len(inner) == 8                  # beside conv1 .. bn3 of the block
    for x, y in inner:
        same_rank = lay.x[lay.y == y]
        assert len(same_rank) == 1 and abs(same_rank[0] - x) >= 1 - 1e-6


@pytest.mark.parametrize("make", ["DAGNetwork", "dlnetwork", "layers"])
def test_networks_and_layer_arrays_plot(make):
    if make == "layers":
        net = [lg.imageInputLayer([4, 4, 1], Name="in"), lg.reluLayer(Name="r")]
    elif make == "dlnetwork":
        net = lg.dlnetwork(lg.removeLayers(small_graph(), ["sm", "out"]))
    else:
        lgraph = small_graph()
        lg.rng(0)
        X = np.random.default_rng(0).standard_normal((8, 8, 1, 4)).astype(np.float32)
        net, _ = lg.trainNetwork(X, ["a", "b", "a", "b"], lgraph,
                                 lg.trainingOptions("sgdm", MaxEpochs=1, MiniBatchSize=4, Verbose=False))
    h = lg.plot(net)
    assert len(h.NodeLabel) == len(lg.layerGraph(net).Layers)


def test_cycles_and_unconnected_layers_still_plot():
    lgraph = lg.connectLayers(lg.layerGraph(
        [lg.imageInputLayer([4, 4, 1], Name="in"), lg.additionLayer(2, Name="add"),
         lg.reluLayer(Name="r")]), "r", "add/in2")
    lgraph = lg.addLayers(lgraph, lg.reluLayer(Name="alone"))
    h = lg.plot(lgraph)
    assert h.NodeLabel == ["in", "add", "r", "alone"]
    assert h.layout.reversed_arcs


def test_plot_of_data_is_matplotlibs_plot():
    lines = lg.plot([1, 2, 3], [4, 5, 6], "r-")
    assert len(lines) == 1 and list(lines[0].get_ydata()) == [4, 5, 6]


def test_extra_arguments_are_rejected():
    with pytest.raises(MException, match="Received: 1 more positional") as err:
        lg.plot(small_graph(), "Layout")
    assert err.value.identifier == "layergraph:plot:TooManyInputs"


def test_missing_matplotlib_names_the_extra(monkeypatch):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(MException, match=r"pip install layergraph\[plot\]") as err:
        lg.plot(small_graph())
    assert err.value.identifier == "layergraph:plot:MatplotlibMissing"


@pytest.mark.parametrize("env, files", [({"MPLBACKEND": "TkAgg"}, False), ({"MPLBACKEND": "agg"}, True),
                                        ({"DISPLAY": ":0"}, False), ({}, True)])
def test_file_or_window_is_decided_without_importing_matplotlib(monkeypatch, env, files):
    from layergraph.plotting import backend
    for name in ("MPLBACKEND", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.delitem(sys.modules, "matplotlib")
    assert backend.draws_to_files_without_import() is files
