"""Training metrics (MATLAB R2023b ``deep.metric``): accuracyMetric, rmseMetric, fScoreMetric,
precisionMetric, recallMetric, aucMetric, and the trainingOptions Metrics names.

``metric.evaluate(Y, T)`` takes the network output ``Y`` and the targets ``T`` as ``K x N``
arrays (classes/responses x observations; one-hot targets for classification, NumPy or CuPy)
and returns a float: accuracy in percent; F-score, precision, recall and AUC as fractions
(0..1); RMSE = ``sqrt(mean((Y - T)^2))``.  ``AverageType``: "micro" pools the counts of all
classes, "macro" averages the per-class values, "weighted" weights them by each class's
number of true observations.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from ..layers import _validation as v
from ..layers.errors import MException
from ..ops import _backend

__all__ = ["accuracyMetric", "rmseMetric", "fScoreMetric", "precisionMetric", "recallMetric",
           "aucMetric"]

NAMES = ("accuracy", "rmse", "fscore", "auc", "precision", "recall")


def _text(cls, name, x):
    if not isinstance(x, str) or not x:
        raise MException(f"nnet:{cls}:Invalid{name}", f"{name} must be a nonempty string. Received: {name}={v._fmt(x)}.")
    return x


def _output(cls, name, x):
    return None if x is None or (isinstance(x, (list, tuple)) and not x) else _text(cls, name, x)


def _average(cls, name, x):
    return v.validatestring(x, ("micro", "macro", "weighted"), cls, name)


def _mode(cls, name, x):
    return v.validatestring(x, ("single-label", "multilabel"), cls, name)


def _top_k(cls, name, x):
    if not v.is_real_numeric(x) or isinstance(x, bool) or np.size(x) != 1 or not (
            float(x) >= 1 and float(x) == int(float(x))):
        raise MException(f"nnet:{cls}:Invalid{name}", f"{name} must be a positive integer. Received: {name}={v._fmt(x)}.")
    return int(float(x))


class MetricBase:
    """A metric object: MATLAB properties (validated), ``Maximize``, ``evaluate(Y, T)``."""

    PROPS: tuple[tuple[str, Any, Callable], ...] = ()
    MAXIMIZE = True

    def __init__(self, *args: Any, **kwargs: Any):
        cls = type(self).__name__
        given = v.parse_name_value(args, kwargs, [p[0] for p in self.PROPS], cls)
        for name, default, check in self.PROPS:
            setattr(self, name, check(cls, name, given.get(name, default)))

    @property
    def Maximize(self) -> bool:
        """True when larger values are better (False for RMSE)."""
        return self.MAXIMIZE

    def evaluate(self, Y: Any, T: Any) -> float:
        """The metric of scores ``Y`` against targets ``T`` (``K x N``)."""
        return float(self._value(np.asarray(_backend.to_host(Y), np.float64).reshape(Y.shape[0], -1),
                                 np.asarray(_backend.to_host(T), np.float64).reshape(T.shape[0], -1)))

    def _value(self, Y: np.ndarray, T: np.ndarray) -> float:
        raise NotImplementedError

    def __eq__(self, other: Any) -> bool:
        return type(self) is type(other) and all(getattr(self, p[0]) == getattr(other, p[0]) for p in self.PROPS)

    def __repr__(self) -> str:
        rows = [(p[0], getattr(self, p[0])) for p in self.PROPS] + [("Maximize", self.Maximize)]
        width = max(len(r[0]) for r in rows)
        show = (lambda x: "[]" if x is None else f'"{x}"' if isinstance(x, str) else
                str(x).lower() if isinstance(x, bool) else str(x))
        return (f"  {type(self).__name__} with properties:\n\n"
                + "\n".join(f"    {n:>{width}}: {show(x)}" for n, x in rows) + "\n")


_COMMON = (("NetworkOutput", None, _output), ("AverageType", "micro", _average),
           ("ClassificationMode", "single-label", _mode))


def _predictions(Y: np.ndarray, mode: str) -> np.ndarray:
    """0/1 predictions ``K x N``: the argmax (single-label) or scores >= 0.5 (multilabel)."""
    if mode == "multilabel":
        return (Y >= 0.5).astype(np.float64)
    out = np.zeros_like(Y)
    out[Y.argmax(axis=0), np.arange(Y.shape[1])] = 1
    return out


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.where(den > 0, num / np.where(den > 0, den, 1), 0.0)


def _averaged(per_class: np.ndarray, micro: float, T: np.ndarray, average: str) -> float:
    if average == "micro":
        return micro
    if average == "macro":
        return float(per_class.mean())
    support = T.sum(axis=1)
    return float((per_class * support).sum() / support.sum()) if support.sum() else 0.0


def _counts(metric: MetricBase, Y: np.ndarray, T: np.ndarray):
    P = _predictions(Y, metric.ClassificationMode)
    tp = (P * T).sum(axis=1)
    return tp, P.sum(axis=1) - tp, T.sum(axis=1) - tp            # TP, FP, FN per class


class accuracyMetric(MetricBase):
    """Percentage of observations whose true class is among the NumTopKClasses highest scores."""

    PROPS = (("Name", "Accuracy", _text),) + _COMMON + (("NumTopKClasses", 1, _top_k),)

    def _value(self, Y, T):
        if self.ClassificationMode == "multilabel":
            return 100.0 * float((_predictions(Y, "multilabel") == T).mean())
        labelled = T.any(axis=0)            # undefined voxels (all-zero targets) do not count
        Y, T = (Y, T) if labelled.all() else (Y[:, labelled], T[:, labelled])
        top = np.argsort(-Y, axis=0, kind="stable")[:self.NumTopKClasses]
        return 100.0 * float((top == T.argmax(axis=0)).any(axis=0).mean()) if T.shape[1] else math.nan


class precisionMetric(MetricBase):
    """Precision TP / (TP + FP) (0 where a class is never predicted)."""

    PROPS = (("Name", "Precision", _text),) + _COMMON

    def _value(self, Y, T):
        tp, fp, _ = _counts(self, Y, T)
        return _averaged(_ratio(tp, tp + fp), float(_ratio(tp.sum(), tp.sum() + fp.sum())), T, self.AverageType)


class recallMetric(MetricBase):
    """Recall TP / (TP + FN) (0 where a class has no true observation)."""

    PROPS = (("Name", "Recall", _text),) + _COMMON

    def _value(self, Y, T):
        tp, _, fn = _counts(self, Y, T)
        return _averaged(_ratio(tp, tp + fn), float(_ratio(tp.sum(), tp.sum() + fn.sum())), T, self.AverageType)


class fScoreMetric(MetricBase):
    """F1 score 2 TP / (2 TP + FP + FN)."""

    PROPS = (("Name", "FScore", _text),) + _COMMON

    def _value(self, Y, T):
        tp, fp, fn = _counts(self, Y, T)
        micro = float(_ratio(2 * tp.sum(), 2 * tp.sum() + fp.sum() + fn.sum()))
        return _averaged(_ratio(2 * tp, 2 * tp + fp + fn), micro, T, self.AverageType)


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve of ``scores`` for 0/1 ``labels`` (ties count one half); NaN
    when one of the two classes is absent."""
    pos, neg = scores[labels > 0.5], scores[labels <= 0.5]
    if pos.size == 0 or neg.size == 0:
        return math.nan
    order = np.sort(neg)
    below = np.searchsorted(order, pos, side="left")
    ties = np.searchsorted(order, pos, side="right") - below
    return float((below + 0.5 * ties).sum() / (pos.size * neg.size))


class aucMetric(MetricBase):
    """Area under the one-vs-rest ROC curve of the class scores."""

    PROPS = (("Name", "AUC", _text), ("NetworkOutput", None, _output), ("AverageType", "micro", _average))

    def _value(self, Y, T):
        if self.AverageType == "micro":
            return roc_auc(Y.ravel(), T.ravel())
        per_class = np.array([roc_auc(Y[k], T[k]) for k in range(Y.shape[0])])
        ok = ~np.isnan(per_class)
        if not ok.any():
            return math.nan
        if self.AverageType == "macro":
            return float(per_class[ok].mean())
        support = T.sum(axis=1)[ok]
        return float((per_class[ok] * support).sum() / support.sum())


class rmseMetric(MetricBase):
    """Root mean squared error ``sqrt(mean((Y - T)^2))`` over all responses and observations."""

    PROPS = (("Name", "RMSE", _text), ("NetworkOutput", None, _output))
    MAXIMIZE = False

    def _value(self, Y, T):
        return float(np.sqrt(((Y - T) ** 2).mean()))


class FunctionMetric(MetricBase):
    """A metric given as a function ``f(Y, T) -> scalar`` (its name is the function's)."""

    def __init__(self, func: Callable):
        self.func, self.Name, self.NetworkOutput = func, getattr(func, "__name__", "Metric"), None

    def evaluate(self, Y, T):
        value = self.func(Y, T)
        if not v.is_real_numeric(value) or np.size(value) != 1:
            raise MException("nnet:trainnet:InvalidMetricOutput",
                             f"Metric function '{self.Name}' must return a real scalar. Received: {v.describe(value)}.")
        return float(np.asarray(_backend.to_host(value)).ravel()[0])

    def __eq__(self, other):
        return isinstance(other, FunctionMetric) and other.func is self.func

    def __repr__(self):
        return f"@{self.Name}"


_BY_NAME = {"accuracy": accuracyMetric, "rmse": rmseMetric, "fscore": fScoreMetric, "auc": aucMetric,
            "precision": precisionMetric, "recall": recallMetric}


def check_metrics(name: str, value: Any) -> tuple | None:
    """trainingOptions' Metrics: [] / None, a name, a metric object, a function, or a list of them."""
    if value is None or (isinstance(value, (list, tuple)) and not value):
        return None
    items = tuple(value) if isinstance(value, (list, tuple)) else (value,)
    out = []
    for item in items:
        if isinstance(item, str):
            out.append(v.validatestring(item, NAMES, "trainingOptions", name))
        elif isinstance(item, MetricBase) or (callable(item) and not isinstance(item, type)):
            out.append(item)
        else:
            raise MException("nnet_cnn:trainingOptions:InvalidMetrics",
                             f"{name} must be empty, a metric name ({', '.join(NAMES)}), a metric object "
                             "(accuracyMetric, rmseMetric, fScoreMetric, precisionMetric, recallMetric, aucMetric), "
                             f"a function f(Y, T), or a list of them. Received: {name}={v.describe(value)}.")
    return tuple(out)


def resolve(specs: Any, func: str = "trainnet") -> list[MetricBase]:
    """The metric objects of a trainingOptions Metrics value (names and functions wrapped)."""
    out = []
    for spec in specs or ():
        out.append(_BY_NAME[spec]() if isinstance(spec, str) else spec if isinstance(spec, MetricBase)
                   else FunctionMetric(spec))
    names = [m.Name.lower() for m in out]
    if len(set(names)) != len(names):
        raise MException(f"nnet:{func}:DuplicateMetricNames",
                         f"Metrics must have distinct names. Received: {[m.Name for m in out]}.")
    return out


def objective(metrics: list[MetricBase], name: str, func: str = "trainnet") -> MetricBase | None:
    """The metric that ObjectiveMetricName names (None for "loss")."""
    if name.lower() == "loss":
        return None
    found = [m for m in metrics if m.Name.lower() == name.lower()]
    if not found:
        raise MException(f"nnet:{func}:InvalidObjectiveMetricName",
                         "ObjectiveMetricName must be \"loss\" or the name of one of the Metrics "
                         f"({', '.join(m.Name for m in metrics) or 'none given'}). Received: {name!r}.")
    return found[0]
