"""``trainnet`` (R2023b) and ``testnet``: training a network without an output layer with a
named or custom loss, MATLAB's trainnet verbose table and TrainingInfo.

The loop is trainNetwork's fast path (one Executor, parameters kept in internal layout,
trainingOptions' solver, schedule, L2 and gradient threshold); the loss and its gradient with
respect to the network output come from the autodiff functions on a private tape, so a
callable ``lossFcn(Y, T)`` built from them is differentiated as the named losses are.
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd

from .. import autodiff
from ..autodiff.dlarray import dlarray
from ..data.datastore import Datastore
from ..graph.editing import layerGraph
from ..layers._validation import parse_name_value, validatestring
from ..layers.errors import MException
from ..networks.dag_network import validate_graph
from ..networks.dlnetwork import dlnetwork
from ..ops import _backend
from ..plotting.progress_figure import ProgressRecord
from ..plotting.progress_monitor import TrainingProgressMonitor, show_progress
from ..rng import batch_seed, global_generator, training_seed
from ..runtime import solvers
from ..runtime.executor import Executor, l2_factor, learn_rate_factor
from ..runtime.layout import check_predictors
from . import metrics as metric_objects, schedules, setup
from .spatial_outputs import loss_and_gradient as _loss_and_gradient, spatial_targets
from .options import TrainingOptions
from .progress import format_elapsed, schedule_text

__all__ = ["trainnet", "testnet"]

LOSSES = ["crossentropy", "index-crossentropy", "binary-crossentropy", "mse", "mean-squared-error",
          "l1loss", "l2loss", "huber"]
_CLASSIFICATION = ("crossentropy", "index-crossentropy", "binary-crossentropy")


@dataclass
class TrainnetInfo:
    """MATLAB's ``deep.TrainingInfo``: TrainingHistory / ValidationHistory tables,
    OutputNetworkIteration and StopReason."""
    TrainingHistory: pd.DataFrame
    ValidationHistory: pd.DataFrame
    OutputNetworkIteration: int
    StopReason: str
    extra: dict = field(default_factory=dict, repr=False)

    def plot(self) -> Any:
        """Draw the training-progress figure of this run; returns a handle with ``.figure``."""
        if "progress_record" not in self.extra:
            raise MException("nnet:trainnet:NoTrainingProgress",
                             "info.plot() needs the info returned by trainnet. Received: an info "
                             "without a training history.")
        return show_progress(self.extra["progress_record"], "plot")


def _loss_function(lossFcn: Any) -> tuple[str, Callable]:
    """(name, f(Y dlarray 'CB', T) -> scalar dlarray)."""
    if callable(lossFcn):
        return getattr(lossFcn, "__name__", "custom"), lossFcn
    name = validatestring(lossFcn, LOSSES, "trainnet", "lossFcn")
    funcs = {
        # divided by the non-channel elements of Y (N for 'CB', N*h*w[*d] for spatial outputs)
        "crossentropy": lambda Y, T: autodiff.crossentropy(Y, T, NormalizationFactor="all-elements"),
        "index-crossentropy": lambda Y, T: autodiff.crossentropy(Y, T, NormalizationFactor="all-elements"),
        "binary-crossentropy": lambda Y, T: autodiff.crossentropy(Y, T, ClassificationMode="multilabel",
                                                                  NormalizationFactor="all-elements"),
        "mse": lambda Y, T: autodiff.l2loss(Y, T, NormalizationFactor="all-elements"),
        "l1loss": lambda Y, T: autodiff.l1loss(Y, T, NormalizationFactor="all-elements"),
        "l2loss": lambda Y, T: autodiff.l2loss(Y, T, NormalizationFactor="all-elements"),
        "huber": lambda Y, T: autodiff.huber(Y, T, NormalizationFactor="all-elements"),
    }
    name = "mse" if name == "mean-squared-error" else name
    return name, funcs[name]


def _targets(T: Any, n: int, name: str, classes_from: list | None = None) -> tuple[np.ndarray, list | None]:
    numeric = isinstance(T, np.ndarray) and T.dtype.kind in "biuf" and name not in ("index-crossentropy",)
    classification = not numeric and (name in _CLASSIFICATION or not _is_numeric(T))
    if classification:
        labels = setup.as_categorical(T)
        classes = classes_from or [str(c) for c in labels.categories]
        if len(labels) != n:
            raise MException("nnet:trainnet:WrongNumberOfTargets",
                             f"targets must hold one label per observation ({n}). Received: {len(labels)}.")
        return setup.label_targets(labels, classes, "targets"), classes
    targets, _ = setup.prepare_targets(T, n, False)
    return targets, None


def _is_numeric(T: Any) -> bool:
    if isinstance(T, (pd.Categorical, pd.Series)):
        return False
    return np.asarray(T).dtype.kind in "biuf"


class _Table:
    """trainnet's verbose table: Iteration, Epoch, TimeElapsed, LearnRate, TrainingLoss,
    ValidationLoss, then the metric columns (e.g. TrainingAccuracy, ValidationAccuracy)."""

    def __init__(self, validation: bool, metrics: list[str]):
        self.columns = ["Iteration", "Epoch", "TimeElapsed", "LearnRate", "TrainingLoss"]
        self.columns += ["ValidationLoss"] if validation else []
        for m in metrics:
            self.columns += [f"Training{m}"] + ([f"Validation{m}"] if validation else [])

    def header(self) -> str:
        return "\n".join(["    " + "    ".join(self.columns),
                          "    " + "    ".join("_" * len(c) for c in self.columns)])

    def row(self, values: dict) -> str:
        cells = []
        for c in self.columns:
            v = values.get(c)
            text = "" if v is None or (isinstance(v, float) and math.isnan(v)) else (
                v if isinstance(v, str) else f"{v:.5g}")
            cells.append(f"{text:>{len(c)}}")
        return "    " + "    ".join(cells)


def trainnet(X: Any, T: Any, net: Any, lossFcn: Any = None, options: Any = None
             ) -> tuple[dlnetwork, TrainnetInfo]:
    """``[net, info] = trainnet(X, T, net, lossFcn, options)`` or ``trainnet(ds, net, lossFcn, options)``:
    train a network without output layer (``ds`` reads (predictor, response) rows).

    ``X``: MATLAB-layout predictors (``h x w [x d] x c x N``); ``T``: labels (categorical, one per
    observation) for "crossentropy"/"index-crossentropy", or an ``N x R`` numeric array; ``net``:
    a layer array, LayerGraph or dlnetwork whose output is 'CB' (``K x N``); ``lossFcn``: one
    of "crossentropy", "index-crossentropy", "binary-crossentropy", "mse"/"mean-squared-error",
    "l1loss", "l2loss", "huber", or a callable ``(Y, T) -> loss`` of dlarrays; ``options``
    from trainingOptions (Metrics="accuracy"/"rmse" add table columns).  Returns the trained
    dlnetwork and a TrainnetInfo (TrainingHistory, ValidationHistory, OutputNetworkIteration,
    StopReason).
    """
    if isinstance(X, Datastore):          # trainnet(ds, net, lossFcn, options)
        X, T, net, lossFcn, options = (*_datastore_arrays(X), T, net, lossFcn)
    if not isinstance(options, TrainingOptions):
        raise MException("nnet:trainnet:InvalidTrainingOptions",
                         f"options must be created by trainingOptions. Received: {type(options).__name__}.")
    name, loss_fun = _loss_function(lossFcn)
    start_net = net if isinstance(net, dlnetwork) else dlnetwork(layerGraph(net))
    lgraph = start_net.layerGraph()
    validate_graph(lgraph, "trainnet", require_output=False)
    input_layer = next(layer for layer in lgraph.Layers if layer.IS_INPUT)
    Xh = check_predictors(X, tuple(input_layer.InputSize), "X", "trainnet")
    n = Xh.shape[-1]
    device = "cpu" if options.ExecutionEnvironment == "cpu" or not _backend.gpu_available() else "gpu"
    ex = Executor(lgraph, device=device, all_gradients=True)
    out_name = start_net.OutputNames[0]
    nsd = len(input_layer.InputSize) - 1
    to_dev = (lambda a: _backend.to_device(a, device))
    Xint = to_dev(setup.to_internal_data(Xh, nsd, ex.dtype))
    out_shape = None if start_net._flat[out_name] else ex.forward(
        Xint[:, :1], training=False, outputs=[out_name]).outputs[out_name].shape   # (K, 1, *S)
    make_targets = (lambda T, n, cl=None: _targets(T, n, name, cl)) if out_shape is None else (
        lambda T, n, cl=None, arg="T": spatial_targets(T, out_shape, n, cl, arg))
    targets, classes = make_targets(T, n)
    Tdev = to_dev(targets.astype(ex.dtype))
    val = None
    if options.ValidationData is not None:
        XV, TV = options.ValidationData
        XV = check_predictors(XV, tuple(input_layer.InputSize), "ValidationData predictors", "trainnet")
        tv, _ = make_targets(TV, XV.shape[-1], classes, *(() if out_shape is None else ("ValidationData targets",)))
        val = (to_dev(setup.to_internal_data(XV, nsd, ex.dtype)), to_dev(tv.astype(ex.dtype)))
    metrics = _metrics(options, classes is not None)
    loop = _Loop(ex, out_name, Xint, Tdev, val, options, loss_fun, metrics)
    if options.Plots == "training-progress":
        loop.monitor = TrainingProgressMonitor(options.CheckpointPath or os.getcwd(), loop.say, "trainnet")
    return loop.run(lgraph)


def _datastore_arrays(ds: Datastore) -> tuple[np.ndarray, Any]:
    """Predictors stacked along a new last dimension and the responses of a datastore whose
    reads are (predictor, response) rows (combine(arrayDatastore(X, ...), arrayDatastore(T)), ...)."""
    rows = ds.training_cells(0, ds.numobservations)
    if not rows or len(rows[0]) < 2:
        raise MException("nnet:trainnet:InvalidDatastore",
                         "The datastore must read (predictor, response) pairs, e.g. combine(dsX, dsT). Received: "
                         f"{len(rows[0]) if rows else 0} column(s).")
    X = np.stack([np.asarray(r[0]) for r in rows], axis=-1)
    responses = [r[1] for r in rows]
    if all(isinstance(t, (str, np.str_, pd.Categorical)) for t in responses):
        labels = [str(t) if not isinstance(t, pd.Categorical) else str(t[0]) for t in responses]
        cats = responses[0].categories if isinstance(responses[0], pd.Categorical) else None
        return X, pd.Categorical(labels, categories=cats)
    return X, np.stack([np.asarray(t, dtype=np.float64).ravel() for t in responses])


def _metrics(options: Any, classification: bool) -> list:
    """The metric objects of options.Metrics (training/metrics.py)."""
    return metric_objects.resolve(getattr(options, "Metrics", None))


def _metric(metric: Any, y: Any, t: Any) -> float:
    return metric.evaluate(y, t)


class _Loop:
    def __init__(self, ex, out, X, T, val, o, loss_fun, metrics):
        self.ex, self.out, self.X, self.T, self.val, self.o = ex, out, X, T, val, o
        self.loss_fun, self.metrics = loss_fun, metrics
        self.solver = solvers.make_solver(o)
        self.schedule = schedules.LearnRateSequence(o)
        self.lr_factors = {(la.Name, p): learn_rate_factor(la, p) for la in ex.layers for p in la.LEARNABLES}
        self.l2_factors = {(la.Name, p): l2_factor(la, p) for la in ex.layers for p in la.LEARNABLES}
        self.table = _Table(val is not None, [m.Name for m in metrics])
        self.objective = metric_objects.objective(metrics, o.ObjectiveMetricName)
        self.say = print if o.Verbose else (lambda *_: None)
        self.monitor: TrainingProgressMonitor | None = None

    def _record(self, history: list, val_history: list, epoch: int, start: float, start_wall: float,
                status: str = "Training") -> ProgressRecord:
        """The training-progress figure's data: loss, the first metric (Accuracy % or RMSE)."""
        n = len(history)
        name = self.metrics[0].Name if self.metrics else None
        column = lambda rows, key: np.array([r.get(key, np.nan) for r in rows], dtype=float)
        val_loss, val_metric = np.full(n, np.nan), np.full(n, np.nan)
        for r in val_history:
            if 0 < r["Iteration"] <= n:
                val_loss[r["Iteration"] - 1] = r["ValidationLoss"]
                val_metric[r["Iteration"] - 1] = r.get(f"Validation{name}", np.nan)
        batches = self.X.shape[1] // self.o.MiniBatchSize
        return ProgressRecord(
            name == "Accuracy", self.o.MaxEpochs, batches, column(history, "TrainingLoss"),
            column(history, f"Training{name}"), val_loss, val_metric, column(history, "LearnRate"),
            start_wall, time.perf_counter() - start, epoch, f"single {self.ex.device.upper()}",
            schedule_text(self.o.LearnRateSchedule),
            self.o.ValidationFrequency if self.val is not None else None, status)

    def _scores(self, x: Any, training: bool, seed: Any = None):
        fp = self.ex.forward(x, training=training, outputs=[self.out], seed=seed)
        y = fp.outputs[self.out]
        return fp, (y.reshape(y.shape[0], y.shape[1]) if self.T.ndim == 2 else y)

    def _objective_score(self, v: dict) -> float:
        """ObjectiveMetricName's validation value, negated when larger is better (lower wins)."""
        if self.objective is None:
            return v["ValidationLoss"]
        value = v[f"Validation{self.objective.Name}"]
        return math.inf if math.isnan(value) else (-value if self.objective.Maximize else value)

    def _validate(self) -> dict:
        x, t = self.val
        parts = self.ex.inference_batches(x.shape[1], self.o.MiniBatchSize)
        y = self.ex.xp.concatenate([self._scores(x[:, p], False)[1] for p in parts], axis=1)
        loss, _ = _loss_and_gradient(self.loss_fun, y, t)
        return {"ValidationLoss": loss, **{f"Validation{m.Name}": _metric(m, y, t) for m in self.metrics}}

    def run(self, lgraph: Any) -> tuple[dlnetwork, TrainnetInfo]:
        o, ex = self.o, self.ex
        n, m = self.X.shape[1], o.MiniBatchSize
        batches = n // m
        total, seed, start = batches * o.MaxEpochs, training_seed(), time.perf_counter()
        history, val_history = [], []
        start_wall = time.time()
        if self.monitor is not None:
            self.monitor.start(self._record(history, val_history, 0, start, start_wall))
        self.say(self.table.header())
        if self.val is not None:
            v = self._validate()
            val_history.append({"Iteration": 0, **v})
            self.say(self.table.row({"Iteration": 0, "Epoch": 0, "TimeElapsed": format_elapsed(0),
                                     "LearnRate": o.InitialLearnRate, **v}))
        order = np.arange(n) if o.Shuffle == "never" else global_generator().permutation(n)
        it, stop_reason = 0, "Max epochs completed"
        best = (math.inf, 0, dict(ex.params), dict(ex.state))      # validation loss, iteration, values
        fails = 0
        for epoch in range(1, o.MaxEpochs + 1):
            if o.Shuffle == "every-epoch" and epoch > 1:
                order = global_generator().permutation(n)
            idx_all = ex.xp.asarray(order)
            for b in range(batches):
                it += 1
                lr = self.schedule.rate(epoch, it)
                idx = idx_all[b * m:(b + 1) * m]
                x, t = self.X[:, idx], self.T[:, idx]
                fp, y = self._scores(x, True, batch_seed(seed, it))
                loss, dy = _loss_and_gradient(self.loss_fun, y, t)
                if not math.isfinite(loss):
                    raise MException("nnet:trainnet:NonFiniteLoss",
                                     f"Training loss is {loss} at iteration {it}. Reduce InitialLearnRate.")
                grads = ex.backward(fp, {self.out: dy.reshape(fp.outputs[self.out].shape)})
                grads = solvers.add_l2(grads, ex.params, o.L2Regularization, self.l2_factors)
                grads = solvers.threshold_gradients(grads, o.GradientThresholdMethod, o.GradientThreshold)
                ex.params.update(self.solver.step(ex.params, grads, lr, self.lr_factors))
                ex.apply_state(fp.state_update)
                row = {"Iteration": it, "Epoch": epoch, "LearnRate": lr, "TrainingLoss": loss,
                       **{f"Training{mm.Name}": _metric(mm, y, t) for mm in self.metrics}}
                history.append(row)
                validated = self.val is not None and (it % o.ValidationFrequency == 0 or it == total)
                if validated:
                    v = self._validate()
                    val_history.append({"Iteration": it, **v})
                    row = {**row, **v}
                    score = self._objective_score(v)
                    if score < best[0]:
                        best, fails = (score, it, dict(ex.params), dict(ex.state)), 0
                    else:
                        fails += 1
                        if fails >= o.ValidationPatience:
                            stop_reason = "Met validation criterion"
                if it == 1 or it % o.VerboseFrequency == 0 or it == total or validated:
                    self.say(self.table.row({**row, "TimeElapsed": format_elapsed(time.perf_counter() - start)}))
                if self.monitor is not None:
                    self.monitor.tick(lambda: self._record(history, val_history, epoch, start, start_wall))
                if stop_reason != "Max epochs completed":
                    break
            if stop_reason != "Max epochs completed":
                break
        self.say(f"Training stopped: {stop_reason}")
        output_iteration = it
        if o.OutputNetwork in ("best-validation", "best-validation-loss") and best[1]:
            _, output_iteration, params, state = best
            ex.params.update(params)
            ex.state.update(state)
        net = dlnetwork._from_graph(lgraph.with_layers(ex.to_layers()))
        train_cols = ["Iteration", "Epoch", "LearnRate", "TrainingLoss"] + [f"Training{mm.Name}" for mm in self.metrics]
        info = TrainnetInfo(
            pd.DataFrame(history, columns=train_cols).rename(columns={"TrainingLoss": "Loss"}),
            pd.DataFrame(val_history).rename(columns={"ValidationLoss": "Loss"}), output_iteration, stop_reason)
        record = self._record(history, val_history, epoch, start, start_wall, f"Training stopped: {stop_reason}")
        if self.monitor is not None:
            self.monitor.finish(record)
        info.extra["progress_record"] = record
        return net, info


def testnet(net: Any, X: Any, T: Any, metrics: Any, *args: Any, **kwargs: Any) -> list[float]:
    """``metricValues = testnet(net, X, T, metrics, MiniBatchSize=128)``: metrics of a dlnetwork on
    test data: "accuracy" (percent), "fscore", "precision", "recall", "auc" (fractions), metric
    objects (accuracyMetric, fScoreMetric, ...), "crossentropy", "index-crossentropy", "mse", "rmse",
    "l1loss", "l2loss", "huber", or callables ``(Y, T) -> value``; one value per metric."""
    opts = parse_name_value(args, kwargs, ["MiniBatchSize"], "testnet")
    if not isinstance(net, dlnetwork):
        raise MException("nnet:testnet:InvalidNetwork", f"net must be a dlnetwork. Received: {type(net).__name__}.")
    names = [metrics] if isinstance(metrics, str) or callable(metrics) else list(metrics)
    batch = int(opts.get("MiniBatchSize", 128))
    Xh = np.asarray(X)
    parts = [slice(i, min(i + batch, Xh.shape[-1])) for i in range(0, Xh.shape[-1], batch)]
    Y = np.concatenate([np.asarray(net.predict(Xh[..., p])) for p in parts], axis=-1)
    values = []
    for metric in names:
        if isinstance(metric, str) and metric.lower() in ("fscore", "auc", "precision", "recall"):
            metric = metric_objects.resolve([metric.lower()])[0]
        if isinstance(metric, metric_objects.MetricBase):
            regression = isinstance(metric, metric_objects.rmseMetric)
            t, _ = _targets(T, Y.shape[-1], "mse" if regression else "crossentropy",
                            None if regression else _classes_of(T))
            values.append(metric.evaluate(Y, t))
            continue
        if callable(metric):
            values.append(float(metric(dlarray(Y, "CB"), T)))
            continue
        key = validatestring(metric, ["accuracy", "rmse"] + LOSSES, "testnet", "metrics")
        classification = key in ("accuracy",) + _CLASSIFICATION
        t, _ = _targets(T, Y.shape[-1], "crossentropy" if classification else "mse",
                        _classes_of(T) if classification else None)
        if key == "accuracy":
            values.append(setup.batch_metric(Y, t, True))
        elif key == "rmse":
            values.append(setup.batch_metric(Y, t, False))
        else:
            values.append(float(_loss_function(key)[1](dlarray(Y.astype(np.float64), "CB"), t)))
    return values


def _classes_of(T: Any) -> list[str]:
    return [str(c) for c in setup.as_categorical(T).categories]
