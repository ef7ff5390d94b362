"""trainNetwork: MATLAB's trainer (matlab-behavior.md §5) over the graph executor.

``net, info = trainNetwork(X, Y, layers_or_lgraph, options)`` or
``net, info = trainNetwork(ds, layers_or_lgraph, options)``

* ``X``: predictors in MATLAB layout, ``h x w x d x c x N`` (or ``h x w x c x N``);
* ``Y``: labels (pandas.Categorical, or a list/array -> categorical with sorted categories)
  for a classification output layer; an ``N x R`` numeric array for a regression layer;
* ``ds``: a datastore whose reads give ``[predictor, response]`` (an imageDatastore gives its
  Labels); read one mini-batch at a time (training/sources.py).

Per mini-batch: gradients -> L2 (lambda * L2Factor * theta) -> gradient threshold -> solver
step (lr * LearnRateFactor) -> batch-norm moving statistics; the learning rate changes at the
end of an epoch (piecewise schedule); ``floor(N / MiniBatchSize)`` iterations per epoch (the
partial batch is dropped).  Randomness (weight initialisation, shuffling) comes from one
module generator that ``rng(seed)`` resets, as MATLAB's ``rng`` does.
"""
from __future__ import annotations

import math
import os
import time
from typing import Any, Callable

import numpy as np

from . import resume, schedules, segmentation, setup, sources
from ..serialization import checkpoints
from ..runtime import cpu as cpu_runtime, resources, solvers
from .progress import TrainingInfo, VerboseTable, schedule_text
from ..runtime.executor import Executor, l2_factor, learn_rate_factor
from ..layers.errors import MException
from ..graph.editing import layerGraph
from ..runtime.layout import check_predictors
from ..networks.dag_network import DAGNetwork, check_rescale_ranges, validate_graph
from ..data.batches import is_datastore
from ..ops import _backend
from ..plotting.progress_figure import ProgressRecord
from ..plotting.progress_monitor import TrainingProgressMonitor
from .options import TrainingOptions
from ..rng import batch_seed, global_generator, training_seed

__all__ = ["trainNetwork"]

_FUNC = "trainNetwork"


def _device(environment: str) -> str:
    if environment in ("multi-gpu", "parallel"):
        raise MException(f"nnet_cnn:{_FUNC}:UnsupportedExecutionEnvironment",
                         f"ExecutionEnvironment must be 'auto', 'cpu' or 'gpu' here. Received: "
                         f"ExecutionEnvironment='{environment}' (no parallel pools).")
    if environment == "gpu" and not _backend.gpu_available():
        raise MException(f"nnet_cnn:{_FUNC}:GPUNotAvailable",
                         "ExecutionEnvironment='gpu' needs CuPy and an NVIDIA GPU. Received: "
                         "ExecutionEnvironment='gpu', but no usable GPU was found.")
    if environment == "gpu" or (environment == "auto" and _backend.gpu_available()):
        return "gpu"
    return "cpu"


def _prepare_graph(lgraph: Any, X: np.ndarray, labels: Any, options: Any, say: Callable):
    """Set input statistics and classes on the layers; returns (graph, targets, classes)."""
    layers = list(lgraph.Layers)
    i_in = next(i for i, layer in enumerate(layers) if layer.IS_INPUT)
    i_out = next(i for i, layer in enumerate(layers) if layer.IS_OUTPUT)
    classification = hasattr(layers[i_out], "Classes")
    if segmentation.is_pixel_output(layers[i_out]):         # label volumes: codes, one-hot later
        targets, classes = segmentation.label_volume_codes(layers[i_out], labels, X)
        if isinstance(layers[i_out].Classes, str):
            layers[i_out] = layers[i_out].copy(Classes=classes)
    else:
        targets, classes = setup.prepare_targets(labels, X.shape[-1], classification)
    if classification and not segmentation.is_pixel_output(layers[i_out]):
        given = layers[i_out].Classes
        if isinstance(given, str):                       # 'auto'
            layers[i_out] = layers[i_out].copy(Classes=classes)
        else:
            classes = [str(c) for c in given]
            targets = setup.label_targets(labels, classes, "Training labels (Y)")
    if options.ResetInputNormalization or setup.unset_input_statistics(layers[i_in]):
        stats = setup.normalization_statistics(layers[i_in], X)
        if stats:
            say("Initializing input data normalization.")
            layers[i_in] = layers[i_in].copy(**stats)
    lgraph = lgraph.with_layers(layers)
    check_rescale_ranges(lgraph, _FUNC)      # e.g. X constant in a channel
    return lgraph, targets, classes


def _metric_fields(classification: bool) -> tuple[str, str, str]:
    """The info fields of the metric: ``Training/Validation/FinalValidation`` + Accuracy | RMSE."""
    kind = "Accuracy" if classification else "RMSE"
    return f"Training{kind}", f"Validation{kind}", f"FinalValidation{kind}"


class _Trainer:
    """One training run: the mini-batch loop, validation, verbose table and info record.

    ``data`` (and ``val``, for ValidationData, or None) are ``sources.ArrayData`` or
    ``sources.DatastoreData``: host mini-batches, moved to the executor's device one at a time.
    """

    def __init__(self, lgraph: Any, ex: Executor, data: Any, val: Any,
                 options: TrainingOptions, classification: bool, say: Callable,
                 monitor: TrainingProgressMonitor | None = None):
        self.graph, self.ex, self.data, self.val = lgraph, ex, data, val
        self.o, self.classification, self.say = options, classification, say
        self.monitor, self.epoch = monitor, 0
        self.solver = solvers.make_solver(options)
        self.schedule = schedules.LearnRateSequence(options)
        self.lr_factors = {(layer.Name, p): learn_rate_factor(layer, p)
                           for layer in ex.layers for p in layer.LEARNABLES}
        self.l2_factors = {(layer.Name, p): l2_factor(layer, p)
                           for layer in ex.layers for p in layer.LEARNABLES}
        self.table = VerboseTable(classification, val is not None)
        self.batches = data.n // options.MiniBatchSize
        self.total = self.batches * options.MaxEpochs
        self.history = {k: np.full(self.total, np.nan) for k in
                        ("loss", "metric", "lr", "val_loss", "val_metric")}
        self.best = (math.inf, 0, dict(ex.params), dict(ex.state))   # loss, iteration, values
        self.iteration, self.fails, self.stop_reason = 0, 0, "Max epochs completed."
        self.seed = training_seed()     # iteration i draws from batch_seed(self.seed, i)
        self.resume_iteration = 0       # ResumeFrom: iterations up to this one are skipped

    def run(self) -> None:
        """Train for MaxEpochs (or until patience / OutputFcn stops it)."""
        self.start, self.start_wall = time.perf_counter(), time.time()
        if self.monitor is not None:
            self.monitor.start(self._record())
        o = self.o
        self.say(self.table.header())
        for epoch in range(1, o.MaxEpochs + 1):
            batches = sources.epoch_batches(self.data, epoch, o.Shuffle, o.MiniBatchSize,
                                            o.DispatchInBackground, self.iteration + 1)
            try:
                for x, t in batches:
                    if self.iteration < self.resume_iteration:
                        self.iteration += 1
                        continue
                    lr = self.schedule.rate(epoch, self.iteration + 1)
                    if self._iteration(epoch, x, t, lr):
                        self.say(self.table.frame())
                        return
            finally:
                batches.close()                      # stops a background reader
            self._checkpoint(epoch, "epoch", epoch)
        self.say(self.table.frame())

    def _iteration(self, epoch: int, x: Any, t: Any, lr: float) -> bool:
        """One mini-batch (host ``x (C, m, *S)``, ``t (K|R, m)``); True to stop."""
        self.iteration = it = self.iteration + 1
        self.epoch = epoch
        ex = self.ex
        x, t = _backend.to_device(x, ex.device), _backend.to_device(t, ex.device)
        loss, scores, grads, update = ex.loss_and_gradients(x, t, seed=batch_seed(self.seed, it))
        if not math.isfinite(loss):
            raise MException(f"nnet_cnn:{_FUNC}:NonFiniteLoss",
                             f"Training loss is {loss} at iteration {it} (epoch {epoch}). "
                             "Reduce InitialLearnRate or set GradientThreshold.")
        grads = solvers.add_l2(grads, ex.params, self.o.L2Regularization, self.l2_factors)
        grads = solvers.threshold_gradients(grads, self.o.GradientThresholdMethod,
                                            self.o.GradientThreshold)
        ex.params.update(self.solver.step(ex.params, grads, lr, self.lr_factors))
        ex.apply_state(update)
        metric = setup.batch_metric(scores, t, self.classification)
        h, k = self.history, it - 1
        h["loss"][k], h["metric"][k], h["lr"][k] = loss, metric, lr
        last = it == self.total
        validated = self.val is not None and (it == 1 or it % self.o.ValidationFrequency == 0
                                              or last)
        stop = self._validate(it) if validated else False
        stop = self._call_output_functions(epoch, it, lr) or stop
        if it == 1 or it % self.o.VerboseFrequency == 0 or validated or last or stop:
            self.say(self.table.row(epoch, it, time.perf_counter() - self.start, metric, loss,
                                    lr, h["val_metric"][k] if validated else None,
                                    h["val_loss"][k] if validated else None))
        self._checkpoint(epoch, "iteration", it)
        if self.monitor is not None:
            self.monitor.tick(self._record)
        return stop

    def _validate(self, it: int) -> bool:
        """Validation metrics at iteration ``it``; True when ValidationPatience is exhausted."""
        loss, metric = sources.evaluate(self.ex, self.val, self.o.MiniBatchSize,
                                        self.classification)
        self.history["val_loss"][it - 1], self.history["val_metric"][it - 1] = loss, metric
        if loss < self.best[0]:
            self.best = (loss, it, dict(self.ex.params), dict(self.ex.state))
            self.fails = 0
        else:
            self.fails += 1
            if self.fails >= self.o.ValidationPatience:
                self.stop_reason = "Met validation criterion."
                return True
        return False

    def _call_output_functions(self, epoch: int, it: int, lr: float) -> bool:
        if not self.o.OutputFcn:
            return False
        h, k = self.history, it - 1
        metric, val_metric, _ = _metric_fields(self.classification)
        state = TrainingInfo(Epoch=epoch, Iteration=it,
                             TimeSinceStart=time.perf_counter() - self.start,
                             TrainingLoss=h["loss"][k], ValidationLoss=h["val_loss"][k],
                             BaseLearnRate=lr, State="iteration",
                             **{metric: h["metric"][k], val_metric: h["val_metric"][k]})
        if any(_stop_requested(f, f(state)) for f in self.o.OutputFcn):
            self.stop_reason = "Stopped by OutputFcn."
            return True
        return False

    def _checkpoint(self, epoch: int, unit: str, count: int) -> None:
        o = self.o
        if (not o.CheckpointPath or o.CheckpointFrequencyUnit != unit or count % o.CheckpointFrequency
                or self.iteration <= self.resume_iteration):
            return
        checkpoints.save_checkpoint(o.CheckpointPath,
                                    DAGNetwork(self.graph.with_layers(self.ex.to_layers())),
                                    self.solver, epoch, self.iteration)

    def finish(self) -> tuple[DAGNetwork, TrainingInfo]:
        """Pick the output network, finalize BN statistics, compute the final validation."""
        ex, o = self.ex, self.o
        output_iteration = self.iteration
        if o.OutputNetwork in ("best-validation", "best-validation-loss") and self.best[1]:
            _, output_iteration, params, state = self.best
            ex.params.update(params)
            ex.state.update(state)
        if o.BatchNormalizationStatistics == "population":
            sources.population_pass(ex, self.data, o.MiniBatchSize)
        final = ((math.nan, math.nan) if self.val is None else
                 sources.evaluate(ex, self.val, o.MiniBatchSize, self.classification))
        self.say(f"Training finished: {self.stop_reason}")
        net = DAGNetwork(self.graph.with_layers(ex.to_layers()))
        record = self._record(f"Training finished: {self.stop_reason}", final)
        if self.monitor is not None:
            self.monitor.finish(record)
        info = self._info(final, output_iteration)
        info._progress_record = record
        return net, info

    def _record(self, status: str = "Training", final: tuple[float, float] | None = None
                ) -> ProgressRecord:
        """The training-progress figure's data: the history of the iterations run so far."""
        h, n = self.history, self.iteration
        return ProgressRecord(
            self.classification, self.o.MaxEpochs, self.batches, h["loss"][:n].copy(),
            h["metric"][:n].copy(), h["val_loss"][:n].copy(), h["val_metric"][:n].copy(),
            h["lr"][:n].copy(), self.start_wall, time.perf_counter() - self.start, self.epoch,
            f"single {self.ex.device.upper()}", schedule_text(self.o.LearnRateSchedule),
            self.o.ValidationFrequency if self.val is not None else None, status,
            None if final is None or self.val is None else final)

    def _info(self, final: tuple[float, float], output_iteration: int) -> TrainingInfo:
        """The MATLAB info struct (per-iteration arrays cut at the last iteration run)."""
        h, n = self.history, self.iteration
        metric, val_metric, final_metric = _metric_fields(self.classification)
        return TrainingInfo({
            "TrainingLoss": h["loss"][:n], metric: h["metric"][:n],
            "ValidationLoss": h["val_loss"][:n], val_metric: h["val_metric"][:n],
            "BaseLearnRate": h["lr"][:n], "FinalValidationLoss": final[0],
            final_metric: final[1], "OutputNetworkIteration": output_iteration})


def _stop_requested(func: Callable, result: Any) -> bool:
    """An OutputFcn result: None (continue) or a logical scalar (True stops training)."""
    if result is None:
        return False
    is_logical = isinstance(result, (bool, np.bool_)) or (
        isinstance(result, (int, np.integer)) and result in (0, 1))
    if is_logical:
        return bool(result)
    raise MException(f"nnet_cnn:{_FUNC}:InvalidOutputFcnResult",
                     f"OutputFcn {getattr(func, '__name__', func)!r} must return true (stop), false or None. "
                     f"Received: {result!r:.60}.")


def _precision(dtype: Any) -> type:
    """The NumPy scalar type of a float32 / float64 ``dtype`` argument; MException otherwise."""
    try:
        resolved = np.dtype(dtype) if dtype is not None else None
    except TypeError:
        resolved = None
    if resolved is None or resolved not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise MException(f"nnet_cnn:{_FUNC}:InvalidDtype",
                         "dtype must be numpy.float32 (single, the default) or numpy.float64. "
                         f"Received: dtype={dtype!r}.")
    return resolved.type


@resources.memory_errors_as(_FUNC)
def trainNetwork(X: Any, Y: Any, layers: Any = None, options: Any = None, *,
                 dtype: Any = np.float32, ResumeFrom: Any = None) -> tuple[DAGNetwork, TrainingInfo]:
    """Train a network: ``trainNetwork(X, Y, layers_or_lgraph, options)`` or
    ``trainNetwork(ds, layers_or_lgraph, options)`` (a datastore, read batch by batch).

    ``dtype`` (not in MATLAB) selects the arithmetic precision; float32 as MATLAB by default.
    ``ResumeFrom`` (not in MATLAB): a checkpoint file of this network; training continues from
    its weights, solver state and iteration (training/resume.py).
    Returns a DAGNetwork and a TrainingInfo (dict with attribute access) holding
    TrainingLoss, TrainingAccuracy|TrainingRMSE, ValidationLoss, ValidationAccuracy|
    ValidationRMSE (NaN where not validated), BaseLearnRate, FinalValidationLoss,
    FinalValidationAccuracy|FinalValidationRMSE and OutputNetworkIteration.
    """
    from_datastore = is_datastore(X)
    if from_datastore:
        if options is not None:
            raise MException(f"nnet_cnn:{_FUNC}:TooManyInputs", "trainNetwork(ds, layers, "
                             "options) takes the responses from the datastore. Received: a "
                             "fourth argument.")
        Y, layers, options = None, Y, layers
    dtype = _precision(dtype)
    if not isinstance(options, TrainingOptions):
        raise MException(f"nnet_cnn:{_FUNC}:InvalidTrainingOptions",
                         "options must be created by trainingOptions. Received: "
                         f"{type(options).__name__}.")
    say = print if options.Verbose else (lambda *_: None)
    lgraph = layerGraph(layers)
    validate_graph(lgraph, _FUNC, require_output=True)
    device = _device(options.ExecutionEnvironment)
    input_layer = next(layer for layer in lgraph.Layers if layer.IS_INPUT)
    Xh = None if from_datastore else check_predictors(X, tuple(input_layer.InputSize), "X")
    n = X.numobservations if from_datastore else Xh.shape[-1]
    if options.MiniBatchSize > n:
        raise MException(f"nnet_cnn:{_FUNC}:MiniBatchSizeTooLarge",
                         f"MiniBatchSize must not exceed the number of observations "
                         f"({n}). Received: MiniBatchSize={options.MiniBatchSize}.")
    say(f"Training on single {device.upper()}.")
    monitor = (TrainingProgressMonitor(options.CheckpointPath or os.getcwd(), say, _FUNC)
               if options.Plots == "training-progress" else None)
    if from_datastore:
        lgraph, classes, num_targets = sources.prepare_datastore(lgraph, X, options, say)
    else:
        lgraph, T, classes = _prepare_graph(lgraph, Xh, Y, options, say)
    pixel = segmentation.is_pixel_output(next(x for x in lgraph.Layers if x.IS_OUTPUT))
    if not from_datastore:
        num_targets = len(classes) if pixel else T.shape[0]
    lgraph = setup.initialize_graph(lgraph, global_generator(), num_targets=num_targets)
    checkpoint = None
    if ResumeFrom is not None:
        lgraph, checkpoint = resume.checkpoint_graph(lgraph, ResumeFrom, options)
    if pixel and not from_datastore:
        T = segmentation.pixel_targets(lgraph, T, len(classes))
    cpu_runtime.prepare(device)
    ex = Executor(lgraph, dtype=dtype, device=device)
    resources.check_memory(ex, options.MiniBatchSize, _FUNC, training=True)
    num_spatial = len(input_layer.InputSize) - 1
    data = (sources.DatastoreData(X, tuple(input_layer.InputSize), num_spatial, classes, dtype,
                                  lgraph if pixel else None) if from_datastore else
            sources.ArrayData(setup.to_internal_data(Xh, num_spatial, dtype), T.astype(dtype)))
    val = _validation_data(options, input_layer, classes, num_targets, num_spatial, dtype,
                           lgraph if pixel else None)
    trainer = _Trainer(lgraph, ex, data, val, options, classes is not None, say, monitor)
    if checkpoint is not None:
        resume.restore(trainer, checkpoint)
    trainer.run()
    return trainer.finish()


def _validation_data(options, input_layer, classes, num_targets, num_spatial, dtype,
                     pixel_graph=None):
    """ValidationData as host ``sources.ArrayData`` / ``DatastoreData``, or None
    (``pixel_graph``: the initialised graph of a segmentation network, whose labels are volumes)."""
    if options.ValidationData is None:
        return None
    if is_datastore(options.ValidationData):
        return sources.DatastoreData(options.ValidationData, tuple(input_layer.InputSize),
                                     num_spatial, classes, dtype, pixel_graph)
    XV, YV = options.ValidationData
    XV = check_predictors(XV, tuple(input_layer.InputSize), "ValidationData predictors")
    if XV.dtype.kind == "f" and not np.isfinite(XV).all():
        raise MException(f"nnet_cnn:{_FUNC}:NonFinitePredictors",
                         "ValidationData predictors must be finite (NaN or Inf would make every "
                         f"validation metric NaN). Received: {int(XV.size - np.isfinite(XV).sum())} "
                         "NaN or Inf values.")
    if pixel_graph is not None:
        out = next(layer for layer in pixel_graph.Layers if layer.IS_OUTPUT)
        codes, _ = segmentation.label_volume_codes(out, YV, XV, "ValidationData labels")
        TV = segmentation.pixel_targets(pixel_graph, codes, len(classes), "ValidationData labels")
    elif classes is not None:
        TV = setup.label_targets(YV, classes, "ValidationData labels")
    else:
        TV, _ = setup.prepare_targets(YV, XV.shape[-1], False)
        if TV.shape[0] != num_targets:
            raise MException(f"nnet_cnn:{_FUNC}:WrongNumberOfResponses",
                             f"ValidationData responses must be an N x {num_targets} array like the "
                             f"training responses. Received: {TV.shape[0]} responses per observation.")
    if TV.shape[1] != XV.shape[-1]:
        raise MException(f"nnet_cnn:{_FUNC}:WrongNumberOfValidationLabels",
                         f"ValidationData must hold one response per observation "
                         f"({XV.shape[-1]}). Received: {TV.shape[1]}.")
    return sources.ArrayData(setup.to_internal_data(XV, num_spatial, dtype), TV.astype(dtype))
