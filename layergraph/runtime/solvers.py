"""Solver steps, L2 regularization, gradient thresholding and the learning-rate schedule.

MATLAB's trainer order for one mini-batch (matlab-behavior.md §5.2):
gradients -> ``add_l2`` (g += lambda * L2Factor * theta) -> ``threshold_gradients`` ->
solver step with the effective learning rate ``lr * LearnRateFactor`` (factor 0: no update).

Parameters, gradients and solver state are dicts keyed by ``(layer name, learnable name)``
holding NumPy or CuPy arrays of any shape; every function returns new dicts/arrays and never
mutates its arguments.  The per-array formulas (``sgdm_step``, ``adam_step``,
``rmsprop_step``) are the formulas of trainNetwork; ``sgdmupdate`` and ``rmspropupdate``
(dlnetwork) use the SGDM and RMSProp ones too.
"""
from __future__ import annotations

import math
from typing import Any

from ..ops import _backend

__all__: list[str] = []

Key = tuple[str, str]
Params = dict[Key, Any]


# ---- per-array update formulas --------------------------------------------------------------

def sgdm_step(theta, g, velocity, lr: float, momentum: float):
    """SGDM: ``v = momentum*v - lr*g``; ``theta = theta + v``.  Returns ``(theta, v)``.

    ``velocity`` None means zeros (first iteration).
    """
    v = -lr * g if velocity is None else momentum * velocity - lr * g
    return theta + v, v


def adam_step(theta, g, avg_g, avg_sq_g, t: int, lr: float, beta1: float, beta2: float,
              epsilon: float):
    """Adam (MATLAB form): ``m = b1 m + (1-b1) g``; ``v = b2 v + (1-b2) g^2``;
    ``theta -= lr*sqrt(1-b2^t)/(1-b1^t) * m/(sqrt(v)+eps)``.  Returns ``(theta, m, v)``.

    ``t`` is the 1-based iteration; None averages mean zeros.
    """
    m = (1 - beta1) * g if avg_g is None else beta1 * avg_g + (1 - beta1) * g
    v = (1 - beta2) * g * g if avg_sq_g is None else beta2 * avg_sq_g + (1 - beta2) * g * g
    step = lr * math.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
    return theta - step * m / (v ** 0.5 + epsilon), m, v


def rmsprop_step(theta, g, avg_sq_g, lr: float, beta2: float, epsilon: float):
    """RMSProp: ``v = b2 v + (1-b2) g^2``; ``theta -= lr*g/(sqrt(v)+eps)``.  Returns ``(theta, v)``."""
    v = (1 - beta2) * g * g if avg_sq_g is None else beta2 * avg_sq_g + (1 - beta2) * g * g
    return theta - lr * g / (v ** 0.5 + epsilon), v


# ---- gradient transforms --------------------------------------------------------------------

def add_l2(grads: Params, params: Params, l2: float, l2_factors: dict[Key, float]) -> Params:
    """``g + l2 * factor * theta`` for every parameter (factor 0 or l2 0 leaves g as is)."""
    out = {}
    for key, g in grads.items():
        coef = l2 * l2_factors.get(key, 1.0)
        out[key] = g + coef * params[key] if coef else g
    return out


def threshold_gradients(grads: Params, method: str, threshold: float) -> Params:
    """MATLAB gradient clipping.

    'l2norm': each gradient with norm > T is rescaled to norm T; 'global-l2norm': all
    gradients are scaled by T/L when the norm L over all of them exceeds T; 'absolute-value':
    each element is clipped to [-T, T].  T = Inf returns the gradients unchanged.
    """
    if math.isinf(threshold):
        return dict(grads)
    if method == "absolute-value":
        return {k: g.clip(-threshold, threshold) for k, g in grads.items()}
    norms = dict(zip(grads, map(math.sqrt, _squared_sums(list(grads.values())))))
    if method == "global-l2norm":
        total = math.sqrt(sum(n * n for n in norms.values()))
        scale = threshold / total if total > threshold else 1.0
        return {k: g * scale if scale != 1.0 else g for k, g in grads.items()}
    if method == "l2norm":
        return {k: g * (threshold / norms[k]) if norms[k] > threshold else g
                for k, g in grads.items()}
    raise ValueError(f"unknown GradientThresholdMethod {method!r}")


def _squared_sums(arrays: list[Any]) -> list[float]:
    """``sum(a^2)`` of each array, brought to the host in one transfer (one GPU sync, not one each)."""
    if not arrays:
        return []
    sums = [(a * a).sum() for a in arrays]
    return [float(x) for x in _backend.to_host(_backend.get_xp(*sums).stack(sums))]


# ---- schedule -------------------------------------------------------------------------------

def learn_rate_for_epoch(options: Any, epoch: int) -> float:
    """Base learning rate used during ``epoch`` (1-based).

    'piecewise' multiplies by LearnRateDropFactor at the end of every epoch e with
    rem(e, LearnRateDropPeriod) == 0 (repeated multiplication, as MATLAB does).
    """
    lr = options.InitialLearnRate
    if options.LearnRateSchedule == "piecewise":
        for e in range(1, epoch):
            if e % options.LearnRateDropPeriod == 0:
                lr = options.LearnRateDropFactor * lr
    return lr


# ---- solvers over parameter dicts -----------------------------------------------------------

class Solver:
    """A solver: ``step(params, grads, lr, lr_factors) -> new params``; keeps its own state.

    ``state`` (dict of name -> {key: array}) and ``iteration`` are what a checkpoint saves.
    """

    STATE_NAMES: tuple[str, ...] = ()

    def __init__(self, options: Any):
        self.options = options
        self.iteration = 0
        self.state: dict[str, dict[Key, Any]] = {name: {} for name in self.STATE_NAMES}

    def step(self, params: Params, grads: Params, lr: float,
             lr_factors: dict[Key, float]) -> Params:
        """Apply one update; parameters whose LearnRateFactor is 0 are returned unchanged."""
        self.iteration += 1
        out = dict(params)
        for key, g in grads.items():
            rate = lr * lr_factors.get(key, 1.0)
            if rate:
                out[key] = self._update(key, params[key], g, rate)
        return out

    def _update(self, key: Key, theta, g, rate: float):
        raise NotImplementedError


class SGDMSolver(Solver):
    """Stochastic gradient descent with momentum (state: Velocity)."""

    STATE_NAMES = ("Velocity",)

    def _update(self, key, theta, g, rate):
        theta, self.state["Velocity"][key] = sgdm_step(
            theta, g, self.state["Velocity"].get(key), rate, self.options.Momentum)
        return theta


class AdamSolver(Solver):
    """Adam (state: AverageGradient, AverageSquaredGradient)."""

    STATE_NAMES = ("AverageGradient", "AverageSquaredGradient")

    def _update(self, key, theta, g, rate):
        o, s = self.options, self.state
        theta, s["AverageGradient"][key], s["AverageSquaredGradient"][key] = adam_step(
            theta, g, s["AverageGradient"].get(key), s["AverageSquaredGradient"].get(key),
            self.iteration, rate, o.GradientDecayFactor, o.SquaredGradientDecayFactor,
            o.Epsilon)
        return theta


class RMSPropSolver(Solver):
    """RMSProp (state: AverageSquaredGradient)."""

    STATE_NAMES = ("AverageSquaredGradient",)

    def _update(self, key, theta, g, rate):
        s = self.state["AverageSquaredGradient"]
        theta, s[key] = rmsprop_step(theta, g, s.get(key), rate,
                                     self.options.SquaredGradientDecayFactor,
                                     self.options.Epsilon)
        return theta


def make_solver(options: Any) -> Solver:
    """The solver object for a trainingOptions object."""
    return {"sgdm": SGDMSolver, "adam": AdamSolver, "rmsprop": RMSPropSolver}[
        options.SolverName](options)
