"""Learning-rate schedules: sequences against MATLAB's documented formulas, lists, callables,
validation, display, and trainNetwork/trainnet using them."""
import math

import numpy as np
import pandas as pd
import pytest

from layergraph import (MException, cosineLearnRate, cyclicalLearnRate, exponentialLearnRate,
                        fullyConnectedLayer, imageInputLayer, piecewiseLearnRate, polynomialLearnRate,
                        regressionLayer, trainingOptions, trainNetwork, warmupLearnRate)
from layergraph.runtime import solvers
from layergraph.training.schedules import LearnRateSequence


def _rates(schedule, epochs=6, per_epoch=3, lr=0.1, **kw):
    o = trainingOptions("sgdm", InitialLearnRate=lr, LearnRateSchedule=schedule, MaxEpochs=epochs, **kw)
    seq = LearnRateSequence(o)
    out, it = [], 0
    for e in range(1, epochs + 1):
        for _ in range(per_epoch):
            it += 1
            out.append(seq.rate(e, it))
    return np.array(out)


def _per_epoch(values, per_epoch=3):
    return np.repeat(np.asarray(values, dtype=float), per_epoch)


def test_defaults_as_matlab():
    assert (piecewiseLearnRate().DropFactor, piecewiseLearnRate().Period) == (0.1, 10)
    w = warmupLearnRate()
    assert (w.InitialFactor, w.FinalFactor, w.NumSteps, w.FrequencyUnit) == (0, 1, 5, "iteration")
    p = polynomialLearnRate()
    assert (p.InitialFactor, p.FinalFactor, p.Power, p.NumSteps, p.FrequencyUnit) == (1, 0, 1, 10, "epoch")
    x = exponentialLearnRate()
    assert (x.DropFactor, x.Period, x.NumSteps) == (0.1, 1, math.inf)
    c = cosineLearnRate()
    assert (c.MaxFactor, c.MinFactor, c.Period, c.PeriodGrowthFactor) == (1, 0, 10, 1)
    y = cyclicalLearnRate()
    assert (y.MaxFactor, y.Period, y.StepRatio, y.FrequencyUnit) == (10, 10, 0.5, "epoch")


def test_none_and_piecewise_string_match_the_old_epoch_rule():
    assert np.all(_rates("none") == 0.1)
    got = _rates("piecewise", LearnRateDropPeriod=2, LearnRateDropFactor=0.5)
    o = trainingOptions("sgdm", LearnRateSchedule="piecewise", LearnRateDropPeriod=2,
                        LearnRateDropFactor=0.5, InitialLearnRate=0.1)
    np.testing.assert_allclose(got, _per_epoch([solvers.learn_rate_for_epoch(o, e) for e in range(1, 7)]))
    np.testing.assert_allclose(got, _per_epoch([0.1, 0.1, 0.05, 0.05, 0.025, 0.025]))


def test_warmup_string_ramps_over_five_iterations():
    got = _rates("warmup")
    np.testing.assert_allclose(got[:7], 0.1 * np.array([0, 0.2, 0.4, 0.6, 0.8, 1, 1]))
    assert np.all(got[5:] == pytest.approx(0.1))


def test_polynomial_and_cosine_strings_span_the_training():
    np.testing.assert_allclose(_rates("polynomial", epochs=4), _per_epoch(0.1 * (1 - np.arange(4) / 4)))
    cos = 0.1 * 0.5 * (1 + np.cos(np.pi * np.arange(4) / 4))
    np.testing.assert_allclose(_rates("cosine", epochs=4), _per_epoch(cos))


def test_exponential_and_cyclical_strings():
    np.testing.assert_allclose(_rates("exponential"), _per_epoch(0.1 * 0.1 ** np.arange(6)))
    tri = [1, 2.8, 4.6, 6.4, 8.2, 10, 8.2, 6.4, 4.6, 2.8, 1, 2.8]
    np.testing.assert_allclose(_rates("cyclical", epochs=12), _per_epoch(0.1 * np.array(tri)))


def test_objects_with_options_and_iteration_unit():
    s = polynomialLearnRate(Power=2, FinalFactor=0.1, NumSteps=4, FrequencyUnit="iteration")
    t = np.minimum(np.arange(18), 4)
    np.testing.assert_allclose(_rates(s), 0.1 * (0.1 + 0.9 * (1 - t / 4) ** 2))
    e = exponentialLearnRate(DropFactor=0.5, Period=2)
    np.testing.assert_allclose(_rates(e), _per_epoch(0.1 * 0.5 ** (np.arange(6) / 2)))


def test_cosine_warm_restarts_with_growing_periods():
    s = cosineLearnRate(Period=2, PeriodGrowthFactor=2, MinFactor=0.1, FrequencyUnit="iteration")
    starts_and_periods = [(0, 2), (2, 4), (6, 8)]
    expect = []
    for t in range(12):
        start, period = next((a, p) for a, p in starts_and_periods if a <= t < a + p)
        expect.append(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * (t - start) / period)))
    np.testing.assert_allclose(_rates(s, epochs=4), 0.1 * np.array(expect))


def test_cosine_shrinking_periods_end_at_one_step_periods():
    s = cosineLearnRate(Period=4, PeriodGrowthFactor=0.5, FrequencyUnit="iteration")
    # periods 4, 2, 1, 1, ...: restarts at t = 0, 4, 6, 7, 8, ... (a one-step period is MaxFactor)
    assert [s.factor(t) for t in (4, 5, 6, 7, 50)] == pytest.approx([1, 0.5, 1, 1, 1])


def test_a_list_runs_each_schedule_for_its_numsteps_from_where_the_last_ended():
    warm = warmupLearnRate(NumSteps=3, InitialFactor=0.5)
    drop = piecewiseLearnRate(Period=1, DropFactor=0.5, NumSteps=2)
    got = _rates([warm, drop, "exponential"], epochs=5, per_epoch=3)
    # iterations 1-3: warmup 0.5, 0.667, 0.833; from iteration 4 (epoch 2) piecewise for 2 epochs;
    # then exponential from 0.1 * 0.5**2 onwards (it starts at epoch 4).
    expect = [0.5, 2 / 3, 5 / 6, 1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.025, 0.025, 0.025]
    np.testing.assert_allclose(got, 0.1 * np.array(expect))


def test_a_callable_of_initial_rate_and_epoch():
    got = _rates(lambda lr0, epoch: lr0 / epoch)
    np.testing.assert_allclose(got, _per_epoch(0.1 / np.arange(1, 7)))
    with pytest.raises(MException, match="finite nonnegative"):
        _rates(lambda lr0, epoch: "fast")


@pytest.mark.parametrize("make, match", [
    (lambda: warmupLearnRate(NumSteps=0), "NumSteps must be a positive integer"),
    (lambda: exponentialLearnRate(DropFactor=1.5), r"DropFactor must be a scalar in the range \(0,1\)"),
    (lambda: cosineLearnRate(MinFactor=2), "MinFactor must not exceed MaxFactor"),
    (lambda: cyclicalLearnRate(FrequencyUnit="batch"), "FrequencyUnit"),
    (lambda: trainingOptions("sgdm", LearnRateSchedule="linear"), "LearnRateSchedule"),
    (lambda: trainingOptions("sgdm", LearnRateSchedule=[1, 2]), "LearnRateSchedule must be one of"),
])
def test_bad_values_raise_named_errors(make, match):
    with pytest.raises(MException, match=match):
        make()


def test_property_assignment_validates_and_display():
    s = warmupLearnRate(NumSteps=8)
    s.NumSteps = 3
    assert s.NumSteps == 3
    with pytest.raises(MException):
        s.NumSteps = -1
    assert "warmupLearnRate with properties" in repr(s) and "NumSteps: 3" in repr(s)
    o = trainingOptions("adam", LearnRateSchedule=[s, "cosine"])
    assert "LearnRateSchedule: {1x2 cell}" in repr(o)
    assert "[1x1 warmupLearnRate]" in repr(trainingOptions("adam", LearnRateSchedule=s))
    assert trainingOptions("adam", LearnRateSchedule="Warm").LearnRateSchedule == "warmup"


def test_trainnetwork_uses_the_per_iteration_rates():
    g = np.random.default_rng(0)
    X = g.standard_normal((1, 1, 2, 8))
    Y = X.reshape(2, 8).sum(axis=0)[:, None]
    layers = [imageInputLayer([1, 1, 2], Normalization="none"), fullyConnectedLayer(1), regressionLayer()]
    sched = [warmupLearnRate(NumSteps=3), cosineLearnRate(Period=3)]
    opts = trainingOptions("sgdm", MaxEpochs=4, MiniBatchSize=4, Shuffle="never", Verbose=False,
                           InitialLearnRate=0.05, LearnRateSchedule=sched, ExecutionEnvironment="cpu")
    _, info = trainNetwork(X, Y, layers, opts)
    np.testing.assert_allclose(info.BaseLearnRate, _rates(sched, epochs=4, per_epoch=2, lr=0.05))
    assert info.BaseLearnRate[0] == 0
