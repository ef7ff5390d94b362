"""The activation, grouped-normalization, flatten and global max pooling layers in networks:
analyzeNetwork, trainNetwork, save/load."""
import numpy as np
import pandas as pd

import layergraph as lg


def _layers():
    return [lg.imageInputLayer([6, 6, 2], Name="in"),
            lg.convolution2dLayer(3, 4, Padding="same", Name="conv"),
            lg.groupNormalizationLayer(2, Name="gn"), lg.leakyReluLayer(Name="lrelu"),
            lg.convolution2dLayer(3, 4, Padding="same", Name="conv2"),
            lg.instanceNormalizationLayer(Name="in_norm"), lg.eluLayer(Name="elu"),
            lg.layerNormalizationLayer(Name="ln"), lg.geluLayer(Name="gelu"),
            lg.swishLayer(Name="swish"), lg.clippedReluLayer(5, Name="crelu"),
            lg.tanhLayer(Name="tanh"), lg.sigmoidLayer(Name="sig"),
            lg.flattenLayer(Name="flat"), lg.fullyConnectedLayer(3, Name="fc"),
            lg.softmaxLayer(Name="sm"), lg.classificationLayer(Name="out")]


def test_analysis_training_and_save_load(tmp_path):
    info = lg.analyzeNetwork(_layers())
    sizes = dict(zip(info.LayerInfo["Name"], info.LayerInfo["ActivationSizes"]))
    assert sizes["gn"] == (6, 6, 4, 1) and sizes["flat"] == (144, 1) and sizes["fc"] == (3, 1)
    learnables = dict(zip(info.LayerInfo["Name"], info.LayerInfo["NumLearnables"]))
    assert learnables["gn"] == learnables["in_norm"] == learnables["ln"] == 8
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 6, 2, 24)).astype(np.float32)
    labels = np.array(["a", "b", "c"])[(X[:, :, 0].mean(axis=(0, 1)) > 0).astype(int)
                                       + (X[:, :, 1].mean(axis=(0, 1)) > 0)]
    Y = pd.Categorical(labels, categories=["a", "b", "c"])
    net, record = lg.trainNetwork(X, Y, _layers(), lg.trainingOptions(
        "adam", MaxEpochs=4, MiniBatchSize=8, Verbose=False, InitialLearnRate=0.01))
    assert np.isfinite(record.TrainingLoss).all()
    assert record.TrainingLoss[-1] < record.TrainingLoss[0]
    lg.saveNetwork(net, tmp_path / "n.lgnet")
    back = lg.loadNetwork(tmp_path / "n.lgnet")
    np.testing.assert_array_equal(np.asarray(lg.predict(back, X)), np.asarray(lg.predict(net, X)))


def test_global_max_pooling_network(tmp_path):
    layers = [lg.image3dInputLayer([4, 4, 4, 1], Name="in", Normalization="none"),
              lg.convolution3dLayer(2, 3, Name="c"), lg.globalMaxPooling3dLayer(Name="gmp"),
              lg.fullyConnectedLayer(2, Name="fc"), lg.softmaxLayer(Name="sm")]
    net = lg.dlnetwork(layers)
    x = np.random.default_rng(1).standard_normal((4, 4, 4, 1, 3)).astype(np.float32)
    y = np.asarray(lg.predict(net, x))
    assert y.shape[-1] == 3
    lg.saveNetwork(net, tmp_path / "d.lgnet")
    np.testing.assert_array_equal(np.asarray(lg.predict(lg.loadNetwork(tmp_path / "d.lgnet"), x)), y)
