"""Resuming trainNetwork from a checkpoint (ResumeFrom): equal to the uninterrupted run."""
import numpy as np
import pandas as pd
import pytest

import layergraph as lg
from layergraph import MException


def _layers():
    return [lg.imageInputLayer([4, 4, 2], Name="in"), lg.convolution2dLayer(3, 4, Padding="same", Name="conv"),
            lg.batchNormalizationLayer(Name="bn"), lg.reluLayer(Name="relu"), lg.dropoutLayer(0.3, Name="drop"),
            lg.globalAveragePooling2dLayer(Name="gap"), lg.fullyConnectedLayer(3, Name="fc"),
            lg.softmaxLayer(Name="sm"), lg.classificationLayer(Name="out")]


def _data():
    g = np.random.default_rng(0)
    X = g.standard_normal((4, 4, 2, 12)).astype(np.float32)
    return X, pd.Categorical(np.array(["a", "b", "c"])[g.integers(0, 3, 12)])


def _options(**kw):
    base = dict(MaxEpochs=4, MiniBatchSize=5, Shuffle="every-epoch", Verbose=False, InitialLearnRate=0.01,
                LearnRateSchedule="piecewise", LearnRateDropPeriod=1, LearnRateDropFactor=0.5,
                ExecutionEnvironment="cpu")
    return lg.trainingOptions(kw.pop("solver", "adam"), **{**base, **kw})


def _weights(net):
    return {(layer.Name, p): np.asarray(getattr(layer, p)) for layer in net.Layers
            for p in ("Weights", "Bias", "TrainedMean", "TrainedVariance") if hasattr(layer, p)}


@pytest.mark.parametrize("solver, unit, frequency", [("adam", "epoch", 2), ("sgdm", "iteration", 3),
                                                     ("rmsprop", "iteration", 5)])
def test_resume_equals_uninterrupted_training(tmp_path, solver, unit, frequency):
    X, Y = _data()
    lg.rng(11)
    full, full_info = lg.trainNetwork(X, Y, _layers(), _options(
        solver=solver, CheckpointPath=str(tmp_path), CheckpointFrequency=frequency, CheckpointFrequencyUnit=unit))
    first = sorted(tmp_path.iterdir(), key=lambda p: int(p.name.split("__")[1]))[0]
    at = int(first.name.split("__")[1])
    lg.rng(11)
    resumed, info = lg.trainNetwork(X, Y, _layers(), _options(solver=solver), ResumeFrom=first)
    for key, value in _weights(full).items():
        np.testing.assert_array_equal(_weights(resumed)[key], value, err_msg=str(key))
    np.testing.assert_array_equal(info.TrainingLoss[at:], full_info.TrainingLoss[at:])
    assert np.isnan(info.TrainingLoss[:at]).all()


def test_matlab_style_restart_without_solver_state_differs(tmp_path):
    X, Y = _data()
    lg.rng(11)
    full, _ = lg.trainNetwork(X, Y, _layers(), _options(CheckpointPath=str(tmp_path), CheckpointFrequency=2))
    first = sorted(tmp_path.iterdir(), key=lambda p: int(p.name.split("__")[1]))[0]
    ckpt = lg.loadNetwork(str(first))
    lg.rng(11)
    restarted, _ = lg.trainNetwork(X, Y, list(ckpt.Layers), _options(MaxEpochs=2))   # MATLAB's way
    assert not np.allclose(_weights(restarted)[("fc", "Weights")], _weights(full)[("fc", "Weights")])


def test_resume_refuses_another_network_or_solver(tmp_path):
    X, Y = _data()
    lg.rng(1)
    lg.trainNetwork(X, Y, _layers(), _options(MaxEpochs=1, CheckpointPath=str(tmp_path)))
    path = next(tmp_path.iterdir())
    other = _layers()
    other[6] = lg.fullyConnectedLayer(3, Name="fc2")
    with pytest.raises(MException, match="same network"):
        lg.trainNetwork(X, Y, other, _options(), ResumeFrom=path)
    with pytest.raises(MException, match="solver 'adam'"):
        lg.trainNetwork(X, Y, _layers(), _options(solver="sgdm"), ResumeFrom=path)
    with pytest.raises(MException, match="Increase MaxEpochs"):
        lg.trainNetwork(X, Y, _layers(), _options(MaxEpochs=1), ResumeFrom=path)
