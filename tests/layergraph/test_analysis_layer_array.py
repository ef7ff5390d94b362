"""analyzeNetwork(lgraph.Layers): a LayerArray is a layer array, as in MATLAB."""
from __future__ import annotations

import layergraph as lg


def test_a_layer_array_object_is_analysed_as_its_chain():
    layers = [lg.imageInputLayer([8, 8, 1], Name="in"), lg.convolution2dLayer(3, 4, Name="c"),
              lg.reluLayer(Name="r")]
    from_list = lg.analyzeNetwork(layers, TargetUsage="dlnetwork")
    from_array = lg.analyzeNetwork(lg.layerGraph(layers).Layers, TargetUsage="dlnetwork")
    assert from_array.LayerInfo.equals(from_list.LayerInfo)
    assert from_array.TotalLearnables == 3 * 3 * 1 * 4 + 4
