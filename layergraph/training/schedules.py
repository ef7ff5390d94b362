"""Learning-rate schedules (MATLAB R2024b): the schedule objects, the LearnRateSchedule strings,
lists of schedules applied in sequence, and callables ``f(InitialLearnRate, epoch)``.

Each object scales the base learning rate ``a0`` by a factor of its step count ``t`` (0 at the
schedule's first epoch or iteration, ``FrequencyUnit``):

* piecewiseLearnRate:   ``DropFactor ** floor(t / Period)``
* warmupLearnRate:      ``InitialFactor + (FinalFactor - InitialFactor) * t / NumSteps``
* polynomialLearnRate:  ``FinalFactor + (InitialFactor - FinalFactor) * (1 - t / NumSteps) ** Power``
* exponentialLearnRate: ``DropFactor ** (t / Period)``
* cosineLearnRate:      ``MinFactor + (MaxFactor - MinFactor) / 2 * (1 + cos(pi * tc / Ti))``
  (``tc``: steps into the current period ``Ti``; a period is ``PeriodGrowthFactor`` times the last)
* cyclicalLearnRate:    triangular from 1 up to ``MaxFactor`` in ``StepRatio * Period`` steps, back
  down to 1 in the rest of the period.

A schedule with a finite ``NumSteps`` ends after that many steps; in a list the next one starts
there from the learning rate the last one reached (its base); the last keeps its final rate.
"""
from __future__ import annotations

import math
from typing import Any, Callable

from ..layers import _validation as v
from ..layers.errors import MException

__all__ = ["piecewiseLearnRate", "warmupLearnRate", "polynomialLearnRate",
           "exponentialLearnRate", "cosineLearnRate", "cyclicalLearnRate"]

STRINGS = ("none", "piecewise", "warmup", "polynomial", "exponential", "cosine", "cyclical")


def _number(cls: str, name: str, value: Any, allowed: str, ok: Callable[[float], bool]) -> float:
    if not v.is_real_numeric(value) or getattr(value, "size", 1) != 1 or isinstance(value, bool):
        raise MException(f"nnet:{cls}:Invalid{name}", f"{name} must be {allowed}. Received: {name}={v._fmt(value)}.")
    x = float(value)
    if math.isnan(x) or not ok(x):
        raise MException(f"nnet:{cls}:Invalid{name}", f"{name} must be {allowed}. Received: {name}={v._fmt(value)}.")
    return x


def _positive(cls, name, x):
    return _number(cls, name, x, "a finite positive scalar", lambda y: 0 < y < math.inf)


def _nonnegative(cls, name, x):
    return _number(cls, name, x, "a finite nonnegative scalar", lambda y: 0 <= y < math.inf)


def _open_unit(cls, name, x):
    return _number(cls, name, x, "a scalar in the range (0,1)", lambda y: 0 < y < 1)


def _unit_drop(cls, name, x):
    return _number(cls, name, x, "a scalar in the range [0,1]", lambda y: 0 <= y <= 1)


def _count(cls, name, x):
    y = _number(cls, name, x, "a positive integer", lambda y: 0 < y < math.inf and y == int(y))
    return int(y)


def _count_or_inf(cls, name, x):
    y = _number(cls, name, x, "a positive integer or Inf", lambda y: y > 0 and (y == math.inf or y == int(y)))
    return y if y == math.inf else int(y)


def _unit(cls, name, x):
    return v.validatestring(x, ("epoch", "iteration"), cls, name)


class LearnRateScheduleBase:
    """A MATLAB learning-rate schedule object: validated properties, ``factor(t)``, display."""

    PROPS: tuple[tuple[str, Any, Callable], ...] = ()

    def __init__(self, *args: Any, **kwargs: Any):
        cls = type(self).__name__
        given = v.parse_name_value(args, kwargs, [p[0] for p in self.PROPS], cls)
        for name, default, check in self.PROPS:
            object.__setattr__(self, name, check(cls, name, given.get(name, default)))
        self._check()

    def __setattr__(self, name: str, value: Any) -> None:
        cls = type(self).__name__
        canon = v.match_name(name, [p[0] for p in self.PROPS], cls)
        check = next(p[2] for p in self.PROPS if p[0] == canon)
        object.__setattr__(self, canon, check(cls, canon, value))
        self._check()

    def _check(self) -> None:
        """Cross-property checks (none by default)."""

    def factor(self, t: int) -> float:
        """The learning-rate scale after ``t`` steps (0-based)."""
        raise NotImplementedError

    def __eq__(self, other: Any) -> bool:
        return type(self) is type(other) and all(getattr(self, p[0]) == getattr(other, p[0]) for p in self.PROPS)

    def __repr__(self) -> str:
        width = max(len(p[0]) for p in self.PROPS)
        rows = [f"    {p[0]:>{width}}: {_show(getattr(self, p[0]))}" for p in self.PROPS]
        return f"  {type(self).__name__} with properties:\n\n" + "\n".join(rows) + "\n"


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    return "Inf" if value == math.inf else f"{value:g}"


class piecewiseLearnRate(LearnRateScheduleBase):
    """Drop the rate by DropFactor every Period steps (MATLAB ``piecewiseLearnRate``)."""

    PROPS = (("DropFactor", 0.1, _unit_drop), ("Period", 10, _count),
             ("FrequencyUnit", "epoch", _unit), ("NumSteps", math.inf, _count_or_inf))

    def factor(self, t):
        return self.DropFactor ** (t // self.Period)


class warmupLearnRate(LearnRateScheduleBase):
    """Ramp the rate linearly from InitialFactor to FinalFactor in NumSteps steps."""

    PROPS = (("InitialFactor", 0.0, _nonnegative), ("FinalFactor", 1.0, _positive),
             ("NumSteps", 5, _count), ("FrequencyUnit", "iteration", _unit))

    def factor(self, t):
        return self.InitialFactor + (self.FinalFactor - self.InitialFactor) * min(t, self.NumSteps) / self.NumSteps


class polynomialLearnRate(LearnRateScheduleBase):
    """Drop the rate from InitialFactor to FinalFactor along ``(1 - t/NumSteps) ** Power``."""

    PROPS = (("InitialFactor", 1.0, _positive), ("FinalFactor", 0.0, _nonnegative),
             ("Power", 1.0, _positive), ("NumSteps", 10, _count), ("FrequencyUnit", "epoch", _unit))

    def factor(self, t):
        left = 1 - min(t, self.NumSteps) / self.NumSteps
        return self.FinalFactor + (self.InitialFactor - self.FinalFactor) * left ** self.Power


class exponentialLearnRate(LearnRateScheduleBase):
    """Scale the rate by ``DropFactor ** (1/Period)`` every step."""

    PROPS = (("DropFactor", 0.1, _open_unit), ("Period", 1, _count),
             ("FrequencyUnit", "epoch", _unit), ("NumSteps", math.inf, _count_or_inf))

    def factor(self, t):
        return self.DropFactor ** (t / self.Period)


class cosineLearnRate(LearnRateScheduleBase):
    """Cosine annealing from MaxFactor to MinFactor with warm restarts every Period steps
    (each period PeriodGrowthFactor times the last)."""

    PROPS = (("MaxFactor", 1.0, _positive), ("MinFactor", 0.0, _nonnegative), ("Period", 10, _count),
             ("PeriodGrowthFactor", 1.0, _positive), ("FrequencyUnit", "epoch", _unit),
             ("NumSteps", math.inf, _count_or_inf))

    def _check(self):
        if self.MinFactor > self.MaxFactor:
            raise MException("nnet:cosineLearnRate:InvalidMinFactor",
                             f"MinFactor must not exceed MaxFactor ({self.MaxFactor:g}). Received: MinFactor={self.MinFactor:g}.")

    def factor(self, t):
        period, start = float(self.Period), 0.0
        while t >= start + period:          # a period is at least one step (growth factors < 1)
            start, period = start + period, max(period * self.PeriodGrowthFactor, 1.0)
        return self.MinFactor + (self.MaxFactor - self.MinFactor) * (1 + math.cos(math.pi * (t - start) / period)) / 2


class cyclicalLearnRate(LearnRateScheduleBase):
    """Triangular cycles between 1 and MaxFactor: up in ``StepRatio * Period`` steps, then down."""

    PROPS = (("MaxFactor", 10.0, _positive), ("Period", 10, _count), ("StepRatio", 0.5, _open_unit),
             ("FrequencyUnit", "epoch", _unit), ("NumSteps", math.inf, _count_or_inf))

    def factor(self, t):
        pos = t % self.Period
        up = self.StepRatio * self.Period
        ramp = pos / up if pos < up else (self.Period - pos) / (self.Period - up)
        return 1 + (self.MaxFactor - 1) * ramp


SCHEDULE_CLASSES = (piecewiseLearnRate, warmupLearnRate, polynomialLearnRate, exponentialLearnRate,
                    cosineLearnRate, cyclicalLearnRate)


def check_schedule(name: str, value: Any) -> Any:
    """trainingOptions' LearnRateSchedule: a string, a schedule object, a list of them, or a callable."""
    if isinstance(value, str):
        return v.validatestring(value, STRINGS, "trainingOptions", name)
    if isinstance(value, LearnRateScheduleBase) or (callable(value) and not isinstance(value, type)):
        return value
    if isinstance(value, (list, tuple)) and value and all(
            isinstance(s, (str, LearnRateScheduleBase)) for s in value):
        return tuple(s if isinstance(s, LearnRateScheduleBase) else check_schedule(name, s) for s in value)
    raise MException("nnet_cnn:trainingOptions:InvalidLearnRateSchedule",
                     f"{name} must be one of {', '.join(repr(s) for s in STRINGS)}, a learning rate schedule "
                     "object (piecewiseLearnRate, warmupLearnRate, polynomialLearnRate, exponentialLearnRate, "
                     "cosineLearnRate, cyclicalLearnRate), a list of them, or a function f(InitialLearnRate, "
                     f"epoch). Received: {name}={v.describe(value)}.")


def display_value(value: Any) -> str:
    """The trainingOptions display of a LearnRateSchedule that is not a string."""
    if isinstance(value, tuple):
        return "{1x%d cell}" % len(value)
    if isinstance(value, LearnRateScheduleBase):
        return f"[1x1 {type(value).__name__}]"
    return "@" + getattr(value, "__name__", "f")


def _from_string(name: str, options: Any) -> LearnRateScheduleBase | None:
    if name == "none":
        return None
    if name == "piecewise":
        return piecewiseLearnRate(DropFactor=options.LearnRateDropFactor, Period=options.LearnRateDropPeriod)
    if name == "polynomial":
        return polynomialLearnRate(NumSteps=options.MaxEpochs)
    if name == "cosine":
        return cosineLearnRate(Period=options.MaxEpochs)
    return {"warmup": warmupLearnRate, "exponential": exponentialLearnRate, "cyclical": cyclicalLearnRate}[name]()


class LearnRateSequence:
    """The learning rate of every iteration for trainingOptions ``options``.

    ``rate(epoch, iteration)`` must be called with nondecreasing 1-based epoch and iteration (the
    training loop's order); a resumed run replays from iteration 1 cheaply (no state but counters).
    """

    def __init__(self, options: Any):
        self.base = float(options.InitialLearnRate)
        spec = options.LearnRateSchedule
        self.function = spec if callable(spec) and not isinstance(spec, LearnRateScheduleBase) else None
        items = spec if isinstance(spec, tuple) else (spec,)
        self.items = [] if self.function else [
            _from_string(s, options) if isinstance(s, str) else s for s in items]
        self.items = [s for s in self.items if s is not None]
        self.index, self.start = 0, (1, 1)          # current schedule, its first (epoch, iteration)

    def _steps(self, schedule: LearnRateScheduleBase, epoch: int, iteration: int) -> int:
        return epoch - self.start[0] if schedule.FrequencyUnit == "epoch" else iteration - self.start[1]

    def rate(self, epoch: int, iteration: int) -> float:
        """The base learning rate used at ``iteration`` (1-based) of ``epoch`` (1-based)."""
        if self.function is not None:
            lr = self.function(self.base, epoch)
            if not v.is_real_numeric(lr) or getattr(lr, "size", 1) != 1 or not 0 <= float(lr) < math.inf:
                raise MException("nnet_cnn:trainingOptions:InvalidLearnRateScheduleOutput",
                                 "A LearnRateSchedule function must return a finite nonnegative scalar "
                                 f"learning rate. Received: {v.describe(lr)} at epoch {epoch}.")
            return float(lr)
        while self.index < len(self.items):
            schedule = self.items[self.index]
            t = self._steps(schedule, epoch, iteration)
            if t < schedule.NumSteps or self.index == len(self.items) - 1:
                return self.base * schedule.factor(min(t, schedule.NumSteps))
            self.base *= schedule.factor(schedule.NumSteps)
            self.index, self.start = self.index + 1, (epoch, iteration)
        return self.base
