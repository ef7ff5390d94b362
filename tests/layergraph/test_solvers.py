"""Solver formulas, L2, gradient thresholding and the piecewise schedule (matlab-behavior §5.2)."""
import math

import numpy as np
import pytest

from layergraph import trainingOptions
from layergraph.runtime import solvers


@pytest.fixture
def arrays():
    rng = np.random.default_rng(1)
    return rng.standard_normal(5), rng.standard_normal(5)


def test_sgdm_two_steps(arrays):
    theta, g = arrays
    o = trainingOptions("sgdm", Momentum=0.8)
    s = solvers.make_solver(o)
    p1 = s.step({("fc", "Weights"): theta}, {("fc", "Weights"): g}, 0.1, {})
    v1 = -0.1 * g
    np.testing.assert_allclose(p1[("fc", "Weights")], theta + v1)
    p2 = s.step(p1, {("fc", "Weights"): 2 * g}, 0.1, {})
    np.testing.assert_allclose(p2[("fc", "Weights")], theta + v1 + (0.8 * v1 - 0.1 * 2 * g))


def test_adam_bias_correction_in_step_size(arrays):
    theta, g = arrays
    o = trainingOptions("adam", GradientDecayFactor=0.8, SquaredGradientDecayFactor=0.95,
                        Epsilon=1e-3)
    s = solvers.make_solver(o)
    key = ("c", "W")
    p = s.step({key: theta}, {key: g}, 0.01, {})
    p = s.step(p, {key: g / 2}, 0.01, {})
    m1, v1 = 0.2 * g, 0.05 * g * g
    th1 = theta - 0.01 * math.sqrt(1 - 0.95) / (1 - 0.8) * m1 / (np.sqrt(v1) + 1e-3)
    m2, v2 = 0.8 * m1 + 0.2 * g / 2, 0.95 * v1 + 0.05 * (g / 2) ** 2
    th2 = th1 - 0.01 * math.sqrt(1 - 0.95 ** 2) / (1 - 0.8 ** 2) * m2 / (np.sqrt(v2) + 1e-3)
    np.testing.assert_allclose(p[key], th2, rtol=1e-12)


def test_rmsprop(arrays):
    theta, g = arrays
    s = solvers.make_solver(trainingOptions("rmsprop", SquaredGradientDecayFactor=0.7))
    key = ("c", "W")
    p = s.step({key: theta}, {key: g}, 0.01, {})
    v = 0.3 * g * g
    np.testing.assert_allclose(p[key], theta - 0.01 * g / (np.sqrt(v) + 1e-8), rtol=1e-12)


def test_learn_rate_factor_scales_and_zero_freezes(arrays):
    theta, g = arrays
    s = solvers.make_solver(trainingOptions("sgdm"))
    a, b = ("l", "Weights"), ("l", "Bias")
    p = s.step({a: theta, b: theta}, {a: g, b: g}, 0.1, {a: 2.0, b: 0.0})
    np.testing.assert_allclose(p[a], theta - 0.2 * g)
    assert p[b] is theta


def test_l2_added_with_factor(arrays):
    theta, g = arrays
    a, b = ("l", "Weights"), ("l", "Bias")
    out = solvers.add_l2({a: g, b: g}, {a: theta, b: theta}, 1e-2, {a: 3.0, b: 0.0})
    np.testing.assert_allclose(out[a], g + 0.03 * theta)
    np.testing.assert_array_equal(out[b], g)


def test_gradient_thresholds():
    a, b = ("x", "W"), ("y", "W")
    grads = {a: np.array([3.0, 4.0]), b: np.array([0.3, 0.4])}
    l2 = solvers.threshold_gradients(grads, "l2norm", 1.0)
    np.testing.assert_allclose(l2[a], [0.6, 0.8])
    np.testing.assert_allclose(l2[b], [0.3, 0.4])
    glob = solvers.threshold_gradients(grads, "global-l2norm", 1.0)
    total = math.sqrt(25 + 0.25)
    np.testing.assert_allclose(glob[a], np.array([3.0, 4.0]) / total)
    np.testing.assert_allclose(glob[b], np.array([0.3, 0.4]) / total)
    absv = solvers.threshold_gradients(grads, "absolute-value", 0.35)
    np.testing.assert_allclose(absv[a], [0.35, 0.35])
    np.testing.assert_allclose(absv[b], [0.3, 0.35])
    same = solvers.threshold_gradients(grads, "l2norm", math.inf)
    np.testing.assert_array_equal(same[a], grads[a])


def test_piecewise_schedule_drops_after_period_epochs():
    o = trainingOptions("sgdm", LearnRateSchedule="piecewise", LearnRateDropPeriod=2,
                        LearnRateDropFactor=0.5, InitialLearnRate=0.1)
    rates = [solvers.learn_rate_for_epoch(o, e) for e in range(1, 7)]
    assert rates == [0.1, 0.1, 0.05, 0.05, 0.025, 0.025]
    none = trainingOptions("sgdm", InitialLearnRate=0.1)
    assert solvers.learn_rate_for_epoch(none, 50) == 0.1
