"""trainnet on networks with spatial outputs (unet3d): MATLAB's R2024a segmentation workflow."""
import numpy as np
import pandas as pd
import pytest

import layergraph as lg
from layergraph.layers.errors import MException
from tests.layergraph.test_segmentation_train import sphere_data


def _options(**extra):
    settings = dict(MaxEpochs=2, MiniBatchSize=2, Shuffle="never", L2Regularization=0, InitialLearnRate=0.01,
                    Verbose=False)
    return lg.trainingOptions("adam", **{**settings, **extra})


def _net():
    """A tiny unet3d; its dropout layers get probability 0 so both loops are deterministic."""
    lg.rng(7)
    lgraph = lg.unet3d([8, 8, 8, 1], 2, EncoderDepth=1, NumFirstEncoderFilters=2).layerGraph()
    for layer in lgraph.Layers:
        if type(layer).__name__ == "DropoutLayer":
            lgraph = lg.replaceLayer(lgraph, layer.Name, lg.dropoutLayer(0, Name=layer.Name))
    return lg.dlnetwork(lgraph)


def _hand_loop(net, X, T, steps):
    """dlfeval + crossentropy (divided by N*h*w*d) + adamupdate over the same mini-batches."""
    def model_loss(net, X, T):
        Y, state = lg.forward(net, X)
        loss = lg.crossentropy(Y, T, NormalizationFactor="all-elements")
        return loss, lg.dlgradient(loss, net.Learnables), state
    avg, sq, losses = [], [], []
    for it, batch in enumerate(steps, start=1):
        loss, grads, state = lg.dlfeval(model_loss, net, lg.dlarray(X[..., batch], "SSSCB"),
                                        lg.dlarray(T[..., batch], "SSSCB"))
        net.State = state
        net, avg, sq = lg.adamupdate(net, grads, avg, sq, it, 0.01)
        losses.append(float(lg.extractdata(loss)))
    return net, losses


@pytest.mark.parametrize("form", ["names", "categorical", "onehot"])
def test_trainnet_unet3d_equals_a_hand_written_loop(form):
    X, Y = sphere_data(4)
    T = np.stack([Y == "background", Y == "sphere"], axis=3).astype(np.float32)     # h x w x d x K x N
    targets = {"names": Y, "categorical": pd.Categorical(Y.astype(str).ravel()), "onehot": T}[form]
    trained, info = lg.trainnet(X, targets, _net(), "crossentropy", _options(Metrics="accuracy"))
    steps = [slice(0, 2), slice(2, 4)] * 2
    _, expected = _hand_loop(_net(), X, T, steps)
    np.testing.assert_allclose(info.TrainingHistory["Loss"].to_numpy(), expected, rtol=2e-4)
    assert list(info.TrainingHistory.Iteration) == [1, 2, 3, 4]
    scores = np.asarray(trained.predict(X[..., :2]))
    truth = T[..., :2].argmax(axis=3)
    accuracy = 100 * np.mean(scores.argmax(axis=3) == truth)
    assert 0 <= info.TrainingHistory["TrainingAccuracy"].iloc[-1] <= 100 and 0 <= accuracy <= 100


def test_trainnet_spatial_crossentropy_is_divided_by_voxels_times_n():
    """The first loss (before any update) is -sum(T log Y) / (N h w d) of the initial network
    (training-mode forward: batch statistics), not / N as crossentropy's default "batch-size"."""
    X, Y = sphere_data(2)
    T = np.stack([Y == "background", Y == "sphere"], axis=3).astype(np.float32)
    net = _net()
    scores = np.asarray(lg.extractdata(lg.forward(net, lg.dlarray(X, "SSSCB"))[0]), dtype=np.float64)
    expected = -np.sum(T * np.log(np.maximum(scores, np.finfo(np.float32).eps))) / (2 * 8 ** 3)
    _, info = lg.trainnet(X, T, net, "crossentropy", _options(MaxEpochs=1))
    assert info.TrainingHistory["Loss"].iloc[0] == pytest.approx(expected, rel=1e-4)


def test_trainnet_spatial_mse_and_callable_loss():
    X, Y = sphere_data(2)
    T = np.stack([Y == "background", Y == "sphere"], axis=3).astype(np.float32)
    _, mse = lg.trainnet(X, T, _net(), "mse", _options(MaxEpochs=1))
    _, custom = lg.trainnet(X, T, _net(), lambda Y, T: lg.l2loss(Y, T, NormalizationFactor="all-elements"),
                            _options(MaxEpochs=1))
    np.testing.assert_allclose(mse.TrainingHistory["Loss"], custom.TrainingHistory["Loss"], rtol=1e-6)


def test_trainnet_spatial_target_size_mismatch_names_T_and_both_sizes():
    X, Y = sphere_data(2)
    T = np.zeros((8, 8, 4, 2, 2), dtype=np.float32)
    with pytest.raises(MException, match=r"T.*8x8x8x2x2.*8x8x4x2x2") as err:
        lg.trainnet(X, T, _net(), "crossentropy", _options(MaxEpochs=1))
    assert err.value.identifier == "nnet:trainnet:TargetSizeMismatch"
    with pytest.raises(MException, match=r"T.*8x8x8x2.*8x8x7x2") as err:
        lg.trainnet(X, Y[:, :, :7], _net(), "crossentropy", _options(MaxEpochs=1))
    assert err.value.identifier.endswith("WrongLabelSize")


def test_trainnet_spatial_validation_data_and_wrong_class_count():
    X, Y = sphere_data(4)
    opts = _options(MaxEpochs=1, ValidationData=(X[..., 2:], Y[..., 2:]), ValidationFrequency=1,
                    Metrics="accuracy")
    _, info = lg.trainnet(X[..., :2], Y[..., :2], _net(), "crossentropy", opts)
    assert list(info.ValidationHistory.Iteration) == [0, 1]
    assert np.isfinite(info.ValidationHistory["Loss"]).all()
    only_background = np.full_like(Y[..., :2], "background")
    with pytest.raises(MException, match=r"T.*\(2\).*1 classes") as err:
        lg.trainnet(X[..., :2], only_background, _net(), "crossentropy", _options(MaxEpochs=1))
    assert err.value.identifier == "nnet:trainnet:WrongNumberOfClasses"


def test_trainnet_accuracy_counts_labelled_voxels_only():
    X, Y = sphere_data(2)
    labels = Y.copy()
    labels[:4] = None                                   # undefined voxels: no loss, not in the accuracy
    _, info = lg.trainnet(X, labels, _net(), "crossentropy", _options(MaxEpochs=1, Metrics="accuracy"))
    metric = lg.accuracyMetric()
    Y2 = np.array([[0.9, 0.2, 0.4], [0.1, 0.8, 0.6]])     # column 3 (undefined) would count wrong
    T2 = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    assert metric.evaluate(Y2, T2) == pytest.approx(100.0)
    assert 0 <= info.TrainingHistory["TrainingAccuracy"].iloc[0] <= 100
