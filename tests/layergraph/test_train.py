"""trainNetwork semantics (matlab-behavior.md §5.2/5.3) on tiny float64 networks."""
import math

import numpy as np
import pandas as pd
import pytest

from layergraph import (MException, batchNormalizationLayer, classificationLayer,
                        fullyConnectedLayer, globalAveragePooling2dLayer, imageInputLayer,
                        regressionLayer, rng, softmaxLayer, trainingOptions, trainNetwork)
from layergraph.ops import _backend

CLASSES = ["a", "b"]


def _data(n, seed=0, size=(1, 1, 3)):
    g = np.random.default_rng(seed)
    X = g.standard_normal(size + (n,))
    Y = pd.Categorical([CLASSES[int(v > 0)] for v in X.reshape(-1, n).sum(axis=0)],
                       categories=CLASSES)
    return X, Y


def _fc_net(W=None, b=None, norm="none", **fc):
    W = np.array([[0.1, -0.2, 0.3], [-0.4, 0.5, 0.6]]) if W is None else W
    b = np.array([[0.01], [-0.02]]) if b is None else b
    return [imageInputLayer([1, 1, 3], Normalization=norm, Name="in"),
            fullyConnectedLayer(2, Weights=W, Bias=b, Name="fc", **fc),
            softmaxLayer(Name="sm"), classificationLayer(Name="out")]


def _opts(**kw):
    base = dict(MaxEpochs=1, MiniBatchSize=4, Shuffle="never", Verbose=False,
                ExecutionEnvironment="cpu")
    base.update(kw)
    return trainingOptions(kw.pop("solver", "sgdm"), **{k: v for k, v in base.items()
                                                         if k != "solver"})


def test_one_sgdm_step_equals_hand_computation():
    X, Y = _data(4)
    layers = _fc_net()
    W, b = layers[1].Weights, layers[1].Bias
    net, info = trainNetwork(X, Y, layers, _opts(InitialLearnRate=0.5, L2Regularization=0.01),
                             dtype=np.float64)
    x = X.reshape(3, 4)
    t = np.array([[c == k for c in Y] for k in CLASSES], dtype=float)
    z = W @ x + b
    y = np.exp(z - z.max(axis=0)) / np.exp(z - z.max(axis=0)).sum(axis=0)
    loss = -np.sum(t * np.log(y)) / 4
    dz = (y - t) / 4
    W1 = W - 0.5 * (dz @ x.T + 0.01 * W)          # WeightL2Factor 1
    b1 = b - 0.5 * dz.sum(axis=1, keepdims=True)  # BiasL2Factor 0
    np.testing.assert_allclose(net.Layers[1].Weights, W1, rtol=1e-10)
    np.testing.assert_allclose(net.Layers[1].Bias, b1, rtol=1e-10)
    assert info.TrainingLoss[0] == pytest.approx(loss, rel=1e-12)
    assert info.TrainingAccuracy[0] == pytest.approx(100 * np.mean(y.argmax(0) == t.argmax(0)))
    assert list(net.Layers[-1].Classes) == CLASSES


def test_iterations_schedule_and_dropped_partial_batch():
    X, Y = _data(11)
    opts = _opts(MaxEpochs=3, MiniBatchSize=3, LearnRateSchedule="piecewise",
                 LearnRateDropPeriod=2, LearnRateDropFactor=0.5, InitialLearnRate=0.1)
    net, info = trainNetwork(X, Y, _fc_net(), opts, dtype=np.float64)
    assert len(info.TrainingLoss) == 9                    # floor(11/3) * 3 epochs
    np.testing.assert_allclose(info.BaseLearnRate, [0.1] * 6 + [0.05] * 3)
    X2 = X.copy()
    X2[..., 9:] = 1e6                                      # only in the dropped partial batch
    net2, _ = trainNetwork(X2, Y, _fc_net(), opts, dtype=np.float64)
    np.testing.assert_array_equal(net.Layers[1].Weights, net2.Layers[1].Weights)


def test_learn_rate_factor_zero_freezes_and_validation_patience(capsys):
    X, Y = _data(8)
    XV, YV = _data(6, seed=3)
    opts = _opts(MaxEpochs=5, MiniBatchSize=2, ValidationData=(XV, YV), ValidationFrequency=1,
                 ValidationPatience=2, Verbose=True)
    layers = _fc_net(WeightLearnRateFactor=0, BiasLearnRateFactor=0)
    net, info = trainNetwork(X, Y, layers, opts, dtype=np.float64)
    np.testing.assert_array_equal(net.Layers[1].Weights, layers[1].Weights)
    assert len(info.ValidationLoss) == 3                   # stopped at iteration 3
    assert info.ValidationLoss[0] == info.ValidationLoss[2]
    assert capsys.readouterr().out.rstrip().endswith("Training finished: Met validation criterion.")


def test_validation_iterations_and_best_network():
    X, Y = _data(12)
    XV, YV = _data(5, seed=4)
    opts = _opts(MaxEpochs=2, MiniBatchSize=2, ValidationData=(XV, YV), ValidationFrequency=4,
                 InitialLearnRate=0.3, OutputNetwork="best-validation-loss")
    net, info = trainNetwork(X, Y, _fc_net(), opts, dtype=np.float64)
    validated = np.flatnonzero(~np.isnan(info.ValidationLoss)) + 1
    assert list(validated) == [1, 4, 8, 12]                # first, every 4th, last
    assert np.isnan(info.ValidationAccuracy[1])
    best = int(validated[np.argmin(info.ValidationLoss[validated - 1])])
    assert info.OutputNetworkIteration == best
    assert info.FinalValidationLoss == pytest.approx(np.nanmin(info.ValidationLoss))


def test_batchnorm_population_statistics_and_input_zscore(capsys):
    g = np.random.default_rng(5)
    X = g.standard_normal((2, 2, 3, 10)) * np.array([1.0, 2.0, 3.0])[None, None, :, None] + 4.0
    Y = pd.Categorical(["a", "b"] * 5)
    layers = [imageInputLayer([2, 2, 3], Normalization="zscore", Name="in"),
              batchNormalizationLayer(Name="bn"), globalAveragePooling2dLayer(Name="gap"),
              fullyConnectedLayer(2, Name="fc"), softmaxLayer(Name="sm"),
              classificationLayer(Name="out")]
    opts = _opts(MiniBatchSize=4, InitialLearnRate=1e-3, Verbose=True)
    net, _ = trainNetwork(X, Y, layers, opts, dtype=np.float64)
    mean = X.mean(axis=(0, 1, 3))
    std = X.std(axis=(0, 1, 3))
    np.testing.assert_allclose(net.Layers[0].Mean.ravel(), mean, rtol=1e-6)
    np.testing.assert_allclose(net.Layers[0].StandardDeviation.ravel(), std, rtol=1e-6)
    assert net.Layers[0].Mean.shape == (1, 1, 3)
    Z = (X - mean[None, None, :, None]) / std[None, None, :, None]
    np.testing.assert_allclose(net.Layers[1].TrainedMean.ravel(), Z.mean(axis=(0, 1, 3)),
                               atol=1e-6)
    np.testing.assert_allclose(net.Layers[1].TrainedVariance.ravel(), Z.var(axis=(0, 1, 3)),
                               rtol=1e-5)
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == ["Training on single CPU.", "Initializing input data normalization."]


def test_verbose_table_text(capsys):
    X, Y = _data(8)
    trainNetwork(X, Y, _fc_net(), _opts(MaxEpochs=2, MiniBatchSize=2, Verbose=True,
                                        VerboseFrequency=3))
    out = capsys.readouterr().out.splitlines()
    frame = "|" + "=" * 88 + "|"
    assert out[1] == frame and out[4] == frame and out[-2] == frame
    assert out[2] == ("|  Epoch  |  Iteration  |  Time Elapsed  |  Mini-batch  |  Mini-batch  "
                      "|  Base Learning  |")
    assert out[3] == ("|         |             |   (hh:mm:ss)   |   Accuracy   |     Loss     "
                      "|      Rate       |")
    rows = out[5:-2]
    assert [int(r.split("|")[2]) for r in rows] == [1, 3, 6, 8]
    assert rows[0].startswith("|       1 |           1 |       00:00:0")
    assert rows[0].endswith("|          0.0100 |") and len(rows[0]) == 90
    assert out[-1] == "Training finished: Max epochs completed."


def test_regression_reports_rmse():
    g = np.random.default_rng(2)
    X = g.standard_normal((1, 1, 3, 8))
    T = X.reshape(3, 8).T @ np.array([[1.0], [-2.0], [0.5]])
    layers = [imageInputLayer([1, 1, 3], Normalization="none"), fullyConnectedLayer(1),
              regressionLayer()]
    net, info = trainNetwork(X, T, layers, _opts(MaxEpochs=20, InitialLearnRate=0.1),
                             dtype=np.float64)
    assert "TrainingRMSE" in info and "TrainingAccuracy" not in info
    assert info.TrainingRMSE[-1] < info.TrainingRMSE[0]
    pred = net.predict(X)
    assert pred.shape == (8, 1)


def test_rng_makes_training_reproducible_and_shuffles():
    X, Y = _data(12)
    layers = [imageInputLayer([1, 1, 3]), fullyConnectedLayer(2), softmaxLayer(),
              classificationLayer()]
    opts = _opts(MaxEpochs=2, MiniBatchSize=3, Shuffle="every-epoch")
    rng(7)
    a, _ = trainNetwork(X, Y, layers, opts)
    rng(7)
    b, _ = trainNetwork(X, Y, layers, opts)
    c, _ = trainNetwork(X, Y, layers, opts)
    np.testing.assert_array_equal(a.Layers[1].Weights, b.Layers[1].Weights)
    assert not np.array_equal(a.Layers[1].Weights, c.Layers[1].Weights)


def test_non_finite_loss_names_the_iteration():
    X, Y = _data(4)
    X[0, 0, 0, 1] = np.nan
    with pytest.raises(MException, match="iteration 1") as err:
        trainNetwork(X, Y, _fc_net(), _opts())
    assert err.value.identifier == "nnet_cnn:trainNetwork:NonFiniteLoss"


@pytest.mark.parametrize("change, match", [
    (dict(X=np.zeros((1, 1, 4, 4))), "size 1x1x3xN"),
    (dict(Y=pd.Categorical(["a", "b", "a"])), "number of labels"),
    (dict(options="sgdm"), "trainingOptions"),
    (dict(options=_opts(MiniBatchSize=5)), "MiniBatchSize"),
])
def test_argument_errors(change, match):
    X, Y = _data(4)
    args = dict(X=X, Y=Y, options=_opts())
    args.update(change)
    with pytest.raises(MException, match=match):
        trainNetwork(args["X"], args["Y"], _fc_net(), args["options"])


@pytest.mark.skipif(_backend.gpu_available(), reason="a GPU is present")
def test_gpu_requested_without_gpu():
    X, Y = _data(4)
    with pytest.raises(MException, match="GPU") as err:
        trainNetwork(X, Y, _fc_net(), _opts(ExecutionEnvironment="gpu"))
    assert err.value.identifier == "nnet_cnn:trainNetwork:GPUNotAvailable"


def test_checkpoints_hold_network_and_solver_state(tmp_path):
    from layergraph.serialization.checkpoints import load_checkpoint
    X, Y = _data(8)
    trainNetwork(X, Y, _fc_net(), _opts(MaxEpochs=2, CheckpointPath=str(tmp_path)),
                 dtype=np.float64)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len(files) == 2 and files[0].startswith("net_checkpoint__2__")
    net, info = load_checkpoint(tmp_path / files[1])
    assert (info["Epoch"], info["Iteration"], info["SolverName"]) == (2, 4, "sgdm")
    velocity = info["SolverState"]["Velocity"][("fc", "Weights")]
    assert velocity.shape == net.Layers[1].Weights.shape and np.any(velocity != 0)
    assert math.isfinite(float(net.Layers[1].Weights.sum()))


def test_moving_batchnorm_statistics_follow_the_decay():
    X = np.random.default_rng(1).standard_normal((1, 1, 2, 8)) + 3.0
    Y = pd.Categorical(["a", "b"] * 4)
    layers = [imageInputLayer([1, 1, 2], Normalization="none"), batchNormalizationLayer(),
              fullyConnectedLayer(2), softmaxLayer(), classificationLayer()]
    opts = _opts(MiniBatchSize=8, BatchNormalizationStatistics="moving")
    net, _ = trainNetwork(X, Y, layers, opts, dtype=np.float64)
    batch_mean = X.reshape(2, 8).mean(axis=1)
    moving = net.Layers[1].TrainedMean.ravel()
    assert not np.allclose(moving, batch_mean)               # not the population value
    np.testing.assert_allclose(moving, 0.1 * batch_mean, rtol=1e-6)   # one step from 0


def test_output_function_stops_training_and_verbose_false_is_silent(capsys):
    X, Y = _data(12)
    seen = []

    def stop_after_two(state):
        seen.append((state.Epoch, state.Iteration, state.State))
        return state.Iteration == 2

    _, info = trainNetwork(X, Y, _fc_net(), _opts(MaxEpochs=3, MiniBatchSize=2,
                                                  OutputFcn=stop_after_two))
    assert seen == [(1, 1, "iteration"), (1, 2, "iteration")] and len(info.TrainingLoss) == 2
    assert capsys.readouterr().out == ""


def test_reset_input_normalization_false_keeps_given_statistics(capsys):
    X, Y = _data(8)
    mean = np.full((1, 1, 3), 0.25)
    layers = _fc_net()
    layers[0] = imageInputLayer([1, 1, 3], Normalization="zerocenter", Mean=mean)
    net, _ = trainNetwork(X, Y, layers, _opts(ResetInputNormalization=False, Verbose=True))
    np.testing.assert_array_equal(net.Layers[0].Mean, mean)
    assert "Initializing input data normalization." not in capsys.readouterr().out
    net, _ = trainNetwork(X, Y, layers, _opts())
    np.testing.assert_allclose(net.Layers[0].Mean.ravel(), X.mean(axis=(0, 1, 3)), rtol=1e-6)


@pytest.mark.gpu
@pytest.mark.skipif(not _backend.gpu_available(), reason="needs CuPy and a CUDA device")
def test_gpu_training_matches_cpu(capsys):
    g = np.random.default_rng(5)
    X = g.standard_normal((2, 2, 3, 12))
    Y = pd.Categorical(["a", "b"] * 6)
    XV, YV = X[..., :6], Y[:6]

    def layers():
        return [imageInputLayer([2, 2, 3], Normalization="zscore"), batchNormalizationLayer(),
                globalAveragePooling2dLayer(),
                fullyConnectedLayer(2, Weights=np.full((2, 3), 0.1), Bias=np.zeros((2, 1))),
                softmaxLayer(), classificationLayer()]

    nets = {}
    for env in ("cpu", "gpu"):
        opts = _opts(solver="adam", MaxEpochs=2, ExecutionEnvironment=env,
                     ValidationData=(XV, YV), GradientThreshold=0.5, Verbose=True)
        nets[env], _ = trainNetwork(X, Y, layers(), opts, dtype=np.float64)
    assert "Training on single GPU." in capsys.readouterr().out
    for a, b in zip(nets["cpu"].Layers, nets["gpu"].Layers):
        for name in a.LEARNABLES + a.STATES:
            np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-9, atol=1e-12)
