"""trainingOptions: the validated record of training settings, with MATLAB's names and display.

``opts = trainingOptions("sgdm", MaxEpochs=5, InitialLearnRate=0.01)`` (or MATLAB-style
positional pairs ``trainingOptions("adam", "MaxEpochs", 5)``) returns a
``TrainingOptionsSGDM`` / ``TrainingOptionsADAM`` / ``TrainingOptionsRMSProp`` object whose
properties are MATLAB's (defaults of R2021b-R2023b).  Assigning a property
(``opts.MaxEpochs = 10``) validates the value exactly as the constructor does.
"""
from __future__ import annotations

import math
import os
from typing import Any, Callable

import numpy as np

from ..data.batches import is_datastore
from ..graph.display import properties_text
from ..layers.errors import MException
from ..layers import _validation as v
from ..layers._display import format_number
from . import metrics as metric_objects, schedules

__all__ = ["trainingOptions", "TrainingOptionsSGDM", "TrainingOptionsADAM",
           "TrainingOptionsRMSProp"]

_FUNC = "trainingOptions"
_SOLVERS = ("sgdm", "adam", "rmsprop")


# ---- value checkers: each returns the canonical value or raises MException -----------------

def _err(name: str, allowed: str, value: Any) -> MException:
    return MException(f"nnet_cnn:{_FUNC}:Invalid{name}",
                      f"{name} must be {allowed}. Received: {name}={v._fmt(value)}.")


def _real_scalar(name: str, value: Any, allowed: str, ok: Callable[[float], bool]) -> float:
    if not v.is_real_numeric(value) or np.size(value) != 1:
        raise _err(name, allowed, value)
    x = float(np.asarray(value).ravel()[0])
    if math.isnan(x) or not ok(x):
        raise _err(name, allowed, value)
    return x


def _positive_finite(name, value):
    return _real_scalar(name, value, "a finite positive scalar", lambda x: 0 < x < math.inf)


def _nonnegative_finite(name, value):
    return _real_scalar(name, value, "a finite nonnegative scalar", lambda x: 0 <= x < math.inf)


def _unit_closed(name, value):
    return _real_scalar(name, value, "a scalar from 0 to 1", lambda x: 0 <= x <= 1)


def _unit_half_open(name, value):
    return _real_scalar(name, value, "a scalar that is at least 0 and less than 1",
                        lambda x: 0 <= x < 1)


def _positive_or_inf(name, value):
    return _real_scalar(name, value, "a positive scalar or Inf", lambda x: x > 0)


def _positive_int(name, value):
    x = _real_scalar(name, value, "a positive integer",
                     lambda x: 0 < x < math.inf and x == int(x))
    return int(x)


def _positive_int_or_inf(name, value):
    x = _real_scalar(name, value, "a positive integer or Inf",
                     lambda x: x > 0 and (x == math.inf or x == int(x)))
    return x if x == math.inf else int(x)


def _logical(name, value):
    if isinstance(value, (bool, np.bool_)) or (v.is_real_numeric(value) and np.size(value) == 1
                                               and float(np.asarray(value).ravel()[0]) in (0, 1)):
        return bool(np.asarray(value).ravel()[0])
    raise _err(name, "a logical scalar (true/false or 1/0)", value)


def _choice(*allowed: str) -> Callable[[str, Any], str]:
    def check(name, value):
        return v.validatestring(value, allowed, _FUNC, name)
    return check


def _is_empty(value: Any) -> bool:
    """MATLAB's ``[]`` as an option value: None or an empty list/tuple."""
    return value is None or (isinstance(value, (list, tuple)) and len(value) == 0)


def _validation_data(name, value):
    if _is_empty(value):
        return None
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return tuple(value)
    if is_datastore(value):
        return value
    raise MException(f"nnet_cnn:{_FUNC}:Invalid{name}",
                     f"{name} must be empty ([] / None), a pair (X, Y) of predictors and "
                     f"responses: {name}=(XValidation, YValidation), or a datastore. Received: "
                     f"{name}={v.describe(value)}.")


def _checkpoint_path(name, value):
    if not isinstance(value, (str, os.PathLike)):
        raise _err(name, "a character vector or string (a folder name, or '' for none)", value)
    path = os.fspath(value)
    if path and not os.path.isdir(path):
        raise MException(f"nnet_cnn:{_FUNC}:InvalidCheckpointPath",
                         f"CheckpointPath must be an existing folder. Received: "
                         f"CheckpointPath={path!r}, which "
                         f"{'is a file' if os.path.exists(path) else 'does not exist'}.")
    return path


def _sequence_length(name, value):
    if isinstance(value, str):
        return v.validatestring(value, ("longest", "shortest"), _FUNC, name)
    return _positive_int(name, value)


def _must_be_empty(name, value):
    if _is_empty(value):
        return None
    raise _err(name, "empty ([] / None); worker loads are not supported", value)


def _output_fcn(name, value):
    if _is_empty(value):
        return None
    fcns = tuple(value) if isinstance(value, (list, tuple)) else (value,)
    if not all(callable(f) for f in fcns):
        raise _err(name, "empty, a function, or a list of functions", value)
    return fcns


_NOT_DISPLAYED = ("Metrics", "ObjectiveMetricName")   # R2023b+ options; the display stays the R2021b-R2023a one
METRICS = metric_objects.NAMES
_BEST = ("best-validation", "best-validation-loss")


def _objective_name(name, value):
    if not isinstance(value, str) or not value:
        raise _err(name, 'a metric name ("loss" or the Name of one of the Metrics)', value)
    return value


# (property, default, checker) in MATLAB's display order; solver-specific ones come first.
_SOLVER_PROPS = {
    "sgdm": (("Momentum", 0.9, _unit_closed), ("InitialLearnRate", 0.01, _positive_finite)),
    "adam": (("GradientDecayFactor", 0.9, _unit_half_open),
             ("SquaredGradientDecayFactor", 0.999, _unit_half_open),
             ("Epsilon", 1e-8, _positive_finite), ("InitialLearnRate", 0.001, _positive_finite)),
    "rmsprop": (("SquaredGradientDecayFactor", 0.9, _unit_half_open),
                ("Epsilon", 1e-8, _positive_finite), ("InitialLearnRate", 0.001, _positive_finite)),
}
_COMMON_PROPS = (
    ("LearnRateSchedule", "none", schedules.check_schedule),
    ("LearnRateDropFactor", 0.1, _unit_closed),
    ("LearnRateDropPeriod", 10, _positive_int),
    ("L2Regularization", 1e-4, _nonnegative_finite),
    ("GradientThresholdMethod", "l2norm", _choice("l2norm", "global-l2norm", "absolute-value")),
    ("GradientThreshold", math.inf, _positive_or_inf),
    ("MaxEpochs", 30, _positive_int),
    ("MiniBatchSize", 128, _positive_int),
    ("Verbose", True, _logical),
    ("VerboseFrequency", 50, _positive_int),
    ("ValidationData", None, _validation_data),
    ("ValidationFrequency", 50, _positive_int),
    ("ValidationPatience", math.inf, _positive_int_or_inf),
    ("Shuffle", "once", _choice("once", "never", "every-epoch")),
    ("CheckpointPath", "", _checkpoint_path),
    ("CheckpointFrequency", 1, _positive_int),
    ("CheckpointFrequencyUnit", "epoch", _choice("epoch", "iteration")),
    ("ExecutionEnvironment", "auto", _choice("auto", "cpu", "gpu", "multi-gpu", "parallel")),
    ("WorkerLoad", None, _must_be_empty),
    ("OutputFcn", None, _output_fcn),
    ("Plots", "none", _choice("none", "training-progress")),
    ("SequenceLength", "longest", _sequence_length),
    ("SequencePaddingValue", 0, lambda n, x: _real_scalar(n, x, "a real scalar",
                                                          lambda y: True)),
    ("SequencePaddingDirection", "right", _choice("right", "left")),
    ("DispatchInBackground", False, _logical),
    ("ResetInputNormalization", True, _logical),
    ("BatchNormalizationStatistics", "population", _choice("population", "moving")),
    ("OutputNetwork", "last-iteration", _choice("last-iteration", *_BEST)),
    ("Metrics", None, metric_objects.check_metrics),
    ("ObjectiveMetricName", "loss", _objective_name),
)


def _display_value(value: Any) -> str:
    if value is None:
        return "[]"
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, tuple):
        return "{1x%d cell}" % len(value)
    if not isinstance(value, (int, float, np.number)):
        return schedules.display_value(value)
    return format_number(value)


class TrainingOptions:
    """Base of the three option classes, as MATLAB's ``nnet.cnn.TrainingOptions``.

    Validation on assignment, the MATLAB display and equality; ``trainNetwork`` accepts any
    instance. Create one with :func:`trainingOptions`.
    """

    SOLVER = ""
    DEFAULTS: dict[str, Any] = {}                      # property -> default, in display order
    _CHECKERS: dict[str, Callable[[str, Any], Any]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        props = _SOLVER_PROPS[cls.SOLVER] + _COMMON_PROPS
        cls.DEFAULTS = {name: default for name, default, _ in props}
        cls._CHECKERS = {name: check for name, _, check in props}

    def __init__(self, given: dict[str, Any]):
        for name, default in self.DEFAULTS.items():
            setattr(self, name, given.get(name, default))
        if self.OutputNetwork in _BEST and self.ValidationData is None:
            raise MException(f"nnet_cnn:{_FUNC}:OutputNetworkNeedsValidationData",
                             f"OutputNetwork='{self.OutputNetwork}' requires ValidationData. "
                             "Received: ValidationData=[].")

    @property
    def SolverName(self) -> str:
        """The solver: 'sgdm', 'adam' or 'rmsprop'."""
        return self.SOLVER

    def __setattr__(self, name: str, value: Any) -> None:
        canon = v.match_name(name, tuple(self.DEFAULTS), _FUNC)
        object.__setattr__(self, canon, self._CHECKERS[canon](canon, value))

    def properties(self) -> dict[str, Any]:
        """Property name -> value, in display order."""
        return {name: getattr(self, name) for name in self.DEFAULTS}

    def __eq__(self, other: Any) -> bool:
        return type(self) is type(other) and all(
            (a is b) or (not isinstance(a, tuple) and a == b)
            for a, b in zip(self.properties().values(), other.properties().values()))

    def __repr__(self) -> str:
        rows = [(name, _display_value(value)) for name, value in self.properties().items()
                if name not in _NOT_DISPLAYED]
        return properties_text(type(self).__name__, rows) + "\n"


class TrainingOptionsSGDM(TrainingOptions):
    """Options for stochastic gradient descent with momentum (``trainingOptions("sgdm")``)."""

    SOLVER = "sgdm"


class TrainingOptionsADAM(TrainingOptions):
    """Options for the Adam solver (``trainingOptions("adam")``)."""

    SOLVER = "adam"


class TrainingOptionsRMSProp(TrainingOptions):
    """Options for the RMSProp solver (``trainingOptions("rmsprop")``)."""

    SOLVER = "rmsprop"


_CLASSES = {"sgdm": TrainingOptionsSGDM, "adam": TrainingOptionsADAM,
            "rmsprop": TrainingOptionsRMSProp}


def trainingOptions(solverName: str, *args: Any, **kwargs: Any) -> TrainingOptions:
    """Training options for trainNetwork (MATLAB ``trainingOptions``).

    ``solverName`` is "sgdm", "adam" or "rmsprop" (case-insensitive, unique prefix); the rest
    are MATLAB name-value arguments (see docs/training.md for every option and default).

    >>> opts = trainingOptions("sgdm", MaxEpochs=5)
    >>> opts.MaxEpochs, opts.InitialLearnRate, opts.Shuffle
    (5, 0.01, 'once')
    """
    solver = v.validatestring(solverName, _SOLVERS, _FUNC, "solverName")
    cls = _CLASSES[solver]
    return cls(v.parse_name_value(args, kwargs, list(cls.DEFAULTS), _FUNC))
