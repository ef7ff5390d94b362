"""trainnet / testnet: equal to trainNetwork where their semantics coincide; MATLAB's trainnet
verbose table; named and custom losses; validation history."""
import numpy as np
import pandas as pd
import pytest

import layergraph as lg
from layergraph.layers.errors import MException

CLASSES = ["a", "b", "c"]


def _layers():
    return [lg.imageInputLayer([6, 6, 2], Normalization="none", Name="in"),
            lg.convolution2dLayer(3, 4, Padding="same", Name="conv"), lg.batchNormalizationLayer(Name="bn"),
            lg.reluLayer(Name="relu"), lg.globalAveragePooling2dLayer(Name="gap"),
            lg.fullyConnectedLayer(3, Name="fc"), lg.softmaxLayer(Name="sm")]


def _data(n=24, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((6, 6, 2, n)).astype(np.float32)
    labels = pd.Categorical(np.array(CLASSES)[rng.integers(0, 3, n)], categories=CLASSES)
    return X, labels


def _options(**kw):
    base = dict(MaxEpochs=2, MiniBatchSize=8, Shuffle="never", Verbose=False, InitialLearnRate=0.05,
                ExecutionEnvironment="cpu")
    return lg.trainingOptions("sgdm", **{**base, **kw})


def test_trainnet_equals_train_network_on_the_same_network():
    lg.rng(4)
    net = lg.dlnetwork(_layers())
    X, Y = _data()
    trained, info = lg.trainnet(X, Y, net, "crossentropy", _options())
    reference, ref_info = lg.trainNetwork(X, Y, list(net.Layers) + [lg.classificationLayer(Name="out")],
                                          _options(BatchNormalizationStatistics="moving"))
    np.testing.assert_allclose(info.TrainingHistory.Loss, ref_info.TrainingLoss, rtol=1e-5)
    for name in ("conv", "fc"):
        ours = next(layer for layer in trained.Layers if layer.Name == name)
        theirs = next(layer for layer in reference.Layers if layer.Name == name)
        np.testing.assert_allclose(ours.Weights, theirs.Weights, rtol=1e-4, atol=1e-6)
    assert isinstance(trained, lg.dlnetwork) and info.OutputNetworkIteration == 6
    assert list(info.TrainingHistory.columns) == ["Iteration", "Epoch", "LearnRate", "Loss"]


def test_verbose_table_and_validation_history(capsys):
    lg.rng(5)
    X, Y = _data(16)
    XV, YV = _data(8, seed=1)
    opts = _options(Verbose=True, VerboseFrequency=2, ValidationData=(XV, YV), ValidationFrequency=3,
                    Metrics="accuracy")
    _, info = lg.trainnet(X, Y, _layers(), "crossentropy", opts)
    lines = capsys.readouterr().out.splitlines()
    header = "    Iteration    Epoch    TimeElapsed    LearnRate    TrainingLoss    ValidationLoss" \
             "    TrainingAccuracy    ValidationAccuracy"
    assert lines[0] == header
    assert lines[1] == "    " + "    ".join("_" * len(c) for c in header.split())
    assert lines[2].split()[:2] == ["0", "0"] and len(lines[2].split()) == 6     # iteration 0: validation only
    assert [line.split()[0] for line in lines[3:-1]] == ["1", "2", "3", "4"]
    assert lines[-1] == "Training stopped: Max epochs completed"
    assert list(info.ValidationHistory.Iteration) == [0, 3, 4]
    assert list(info.TrainingHistory.columns) == ["Iteration", "Epoch", "LearnRate", "Loss", "TrainingAccuracy"]


def test_custom_loss_equals_the_named_loss_and_regression():
    X, Y = _data()
    results = []
    for loss in ("crossentropy", lambda Yp, T: lg.crossentropy(Yp, T) * 1.0):
        lg.rng(6)
        _, info = lg.trainnet(X, Y, _layers(), loss, _options())
        results.append(info.TrainingHistory.Loss.to_numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6)
    lg.rng(7)
    responses = np.random.default_rng(2).standard_normal((24, 3))
    _, info = lg.trainnet(X, responses, _layers()[:-1], "mse", _options(Metrics="rmse"))
    first = info.TrainingHistory.iloc[0]
    assert np.isclose(first.TrainingRMSE ** 2, first.Loss, rtol=1e-5)      # mse over all elements


def test_testnet_metrics():
    lg.rng(8)
    X, Y = _data()
    net = lg.dlnetwork(_layers())
    acc, ce = lg.testnet(net, X, Y, ["accuracy", "crossentropy"], MiniBatchSize=10)
    scores = lg.predict(net, X)
    T = np.eye(3)[:, Y.codes]
    assert acc == pytest.approx(100 * np.mean(scores.argmax(0) == Y.codes))
    assert ce == pytest.approx(-np.sum(T * np.log(scores)) / 24, rel=1e-5)


@pytest.mark.parametrize("call, ident", [
    (lambda X, Y: lg.trainnet(X, Y, _layers(), "hinge", _options()), "MATLAB:trainnet:unrecognizedStringChoice"),
    (lambda X, Y: lg.trainnet(X, Y, _layers(), "crossentropy", {}), "nnet:trainnet:InvalidTrainingOptions"),
    (lambda X, Y: lg.trainnet(X, Y[:5], _layers(), "crossentropy", _options()), "nnet:trainnet:WrongNumberOfTargets"),
    (lambda X, Y: lg.trainnet(X, Y, _layers(), "crossentropy", _options(Metrics="auc", ObjectiveMetricName="fscore")),
     "nnet:trainnet:InvalidObjectiveMetricName"),
    (lambda X, Y: lg.testnet(_layers(), X, Y, "accuracy"), "nnet:testnet:InvalidNetwork"),
])
def test_bad_input(call, ident):
    X, Y = _data()
    with pytest.raises(MException) as err:
        call(X, Y)
    assert err.value.identifier == ident


def test_trainnet_on_a_resnet_equals_train_network():
    lg.rng(11)
    net = lg.resnetNetwork([8, 8, 2], 3, StackDepth=[1, 1], NumFilters=[4, 8], InitialNumFilters=4,
                           InitialFilterSize=3, InitialStride=1, InitialPoolingLayer="none", BottleneckType="none")
    X, Y = _data(16)
    X = np.random.default_rng(3).standard_normal((8, 8, 2, 16)).astype(np.float32)
    _, info = lg.trainnet(X, Y, net, "crossentropy", _options(MaxEpochs=1))
    layers = lg.addLayers(net.layerGraph(), lg.classificationLayer(Name="output"))
    layers = lg.connectLayers(layers, net.OutputNames[0], "output")
    _, ref = lg.trainNetwork(X, Y, layers, _options(MaxEpochs=1, ResetInputNormalization=False,
                                                    BatchNormalizationStatistics="moving"))
    np.testing.assert_allclose(info.TrainingHistory.Loss, ref.TrainingLoss, rtol=1e-5)


def test_validation_patience_and_best_validation_network():
    lg.rng(12)
    X, Y = _data(16)
    XV, YV = _data(8, seed=4)
    opts = _options(MaxEpochs=6, ValidationData=(XV, YV), ValidationFrequency=1, ValidationPatience=2,
                    OutputNetwork="best-validation-loss", InitialLearnRate=0.5)
    net, info = lg.trainnet(X, Y, _layers(), "crossentropy", opts)
    history = info.ValidationHistory
    best = history.iloc[1:].Loss.idxmin()
    assert info.OutputNetworkIteration == history.Iteration[best]
    if info.StopReason == "Met validation criterion":
        assert len(info.TrainingHistory) < 12
    loss, = lg.testnet(net, XV, YV, ["crossentropy"])
    assert loss == pytest.approx(history.Loss[best], rel=1e-4)


def test_trainnet_from_a_datastore_equals_arrays():
    X, Y = _data(16)
    ds = lg.combine(lg.arrayDatastore(X, IterationDimension=4), lg.arrayDatastore(Y))
    results = []
    for args in ((X, Y), (ds,)):
        lg.rng(13)
        _, info = lg.trainnet(*args, _layers(), "crossentropy", _options())
        results.append(info.TrainingHistory.Loss.to_numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6)
