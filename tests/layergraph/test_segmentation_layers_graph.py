"""A small encoder-decoder graph with the segmentation layers: analyzeNetwork sizes, save/load
round trip, and an executor pass with the pixel losses on its output."""
import numpy as np
import pytest

import layergraph as lg


def _graph(output_layer):
    layers = [lg.image3dInputLayer([8, 8, 4, 2], Name="in", Normalization="none"),
              lg.convolution3dLayer(3, 4, Padding="same", Name="enc"),
              lg.reluLayer(Name="enc_relu"),
              lg.maxPooling3dLayer(2, Stride=2, Name="pool"),
              lg.convolution3dLayer(3, 6, Padding="same", Name="mid"),
              lg.transposedConv3dLayer(2, 4, Stride=2, Name="up"),
              lg.concatenationLayer(4, 2, Name="cat"),
              lg.convolution3dLayer(1, 3, Name="head"),
              lg.softmaxLayer(Name="sm"), output_layer]
    g = lg.layerGraph(layers)
    g = g.addLayers(lg.crop3dLayer(Name="crop"))
    g = g.disconnectLayers("up", "cat/in1").connectLayers("up", "crop/in")
    g = g.connectLayers("enc_relu", "crop/ref").connectLayers("crop", "cat/in1")
    return g.connectLayers("enc_relu", "cat/in2")


@pytest.mark.parametrize("output_layer", [
    lg.pixelClassificationLayer(Name="seg", Classes=["a", "b", "c"]),
    lg.dicePixelClassificationLayer(Name="seg")], ids=["pixel", "dice"])
def test_analysis_save_load_and_execution(output_layer, tmp_path, rng):
    g = _graph(output_layer)
    info = lg.analyzeNetwork(g)
    sizes = dict(zip(info.LayerInfo["Name"], info.LayerInfo["ActivationSizes"]))
    assert sizes["up"] == (8, 8, 4, 4, 1) and sizes["crop"] == (8, 8, 4, 4, 1)
    assert sizes["cat"] == (8, 8, 4, 8, 1) and sizes["sm"] == (8, 8, 4, 3, 1)
    assert not (info.Issues["Severity"] == "Error").any()
    assert info.NetworkDepth == 4           # enc, mid, up (transposed), head

    lg.saveNetwork(g, tmp_path / "g.lgnet")
    back = lg.loadNetwork(tmp_path / "g.lgnet")
    assert [type(l).__name__ for l in back.Layers] == [type(l).__name__ for l in g.Layers]
    assert back.Connections.equals(g.Connections)

    net = lg.dlnetwork(g.removeLayers("seg"))
    x = rng.standard_normal((8, 8, 4, 2, 2)).astype(np.float32)
    scores = np.asarray(lg.predict(net, x))
    assert scores.shape == (8, 8, 4, 3, 2)
    np.testing.assert_allclose(scores.sum(axis=3), 1, rtol=1e-5)
