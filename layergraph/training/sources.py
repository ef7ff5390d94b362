"""Training data for trainNetwork: in-memory arrays or a datastore, one mini-batch at a time.

``ArrayData`` keeps the predictors on the host in the internal layout ``(C, N, *S)``;
``DatastoreData`` reads a datastore. Both hand out host mini-batches ``(x (C, m, *S), t
(K|R, m))`` in the run's dtype for an epoch (Shuffle as MATLAB: "once" shuffles before the
first epoch, "every-epoch" before each, "never" keeps the order; a datastore is shuffled with
``shuffle(ds)``, which draws the same permutation from ``rng`` as the array path), optionally
read ahead on a background thread (DispatchInBackground). The trainer moves each batch to the
device: the whole set never is.

Also the streamed passes a datastore needs: the input-normalization statistics (exactly
merged per-batch moments), validation loss/metric and the batch-norm population pass.
"""
from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from . import segmentation, setup
from ..data import batches as data_batches
from ..data.datastore import Datastore
from ..layers.errors import MException
from ..ops import _backend
from ..rng import batch_seed, global_generator, training_seed
from ..runtime.layout import matlab_to_internal

_FUNC = "trainNetwork"


class ArrayData:
    """In-memory predictors ``X (C, N, *S)`` and targets ``T (K|R, N)`` on the host."""

    def __init__(self, X: np.ndarray, T: np.ndarray):
        self.X, self.T, self.n = X, T, X.shape[1]
        self.order = np.arange(self.n)

    def epoch(self, shuffle_now: bool, m: int, partial: bool = False) -> Iterator[tuple]:
        """Host batches of one epoch; ``shuffle_now`` draws a new order from ``rng``."""
        if shuffle_now:
            self.order = global_generator().permutation(self.n)
        order = self.order
        stop = self.n if partial else self.n - self.n % m
        for start in range(0, stop, m):
            idx = order[start:start + m]
            yield self.X[:, idx], self.T[:, idx]


class DatastoreData:
    """A datastore whose reads give ``[predictor, response]`` rows (imageDatastore: its Labels)."""

    def __init__(self, ds: Datastore, input_size: tuple[int, ...], num_spatial: int,
                 classes: list[str] | None, dtype: Any, pixel_graph: Any = None):
        self.ds, self.input_size, self.num_spatial = ds, tuple(input_size), num_spatial
        self.classes, self.dtype, self.n = classes, dtype, ds.numobservations
        self.current, self.pixel_graph = ds, pixel_graph      # pixel_graph: label volumes

    def epoch(self, shuffle_now: bool, m: int, partial: bool = False,
              first_iteration: int = 1) -> Iterator[tuple]:
        """Host batches of one epoch (read errors name the iteration they happened in)."""
        if shuffle_now:
            self.current = self.ds.shuffle()
        self.current.reset()
        it = first_iteration
        try:
            for (X, responses), _ in data_batches.minibatches(self.current, m, self.input_size,
                                                              partial):
                yield self.internal(X), self.targets(responses, X)
                it += 1
        except MException as exc:
            raise MException(exc.identifier, f"{exc.message} (while reading the mini-batch of "
                             f"iteration {it})") from exc

    def internal(self, X: np.ndarray) -> np.ndarray:
        """MATLAB-layout ``(*InputSize, m)`` -> contiguous host ``(C, m, *S)`` of the dtype."""
        return matlab_to_internal(X, self.num_spatial, np, self.dtype)

    def targets(self, responses: list | None, X: np.ndarray) -> np.ndarray:
        """``(K, m)`` one-hot labels, ``(K, m, *S)`` one-hot label volumes or ``(R, m)``
        responses of a batch ``X`` (MATLAB layout), in the dtype."""
        if responses is None:
            kind = "labels" if self.classes is not None else "responses"
            raise MException(f"nnet_cnn:{_FUNC}:MissingResponses",
                             f"The training datastore gives no {kind}: use an imageDatastore with "
                             "Labels (LabelSource='foldernames') or combine(predictorDs, "
                             "responseDs) so each read is [predictor, response].")
        if self.pixel_graph is not None:
            out = next(layer for layer in self.pixel_graph.Layers if layer.IS_OUTPUT)
            codes, _ = segmentation.label_volume_codes(out, np.stack(
                [np.asarray(r) for r in responses], axis=-1), X, "the datastore's label volumes")
            return segmentation.pixel_targets(self.pixel_graph, codes, len(self.classes),
                                              "the datastore's label volumes").astype(self.dtype)
        if self.classes is not None:
            return setup.label_targets(responses, self.classes).astype(self.dtype)
        values = [np.asarray(r, dtype=np.float64).ravel() for r in responses]
        if len({v.size for v in values}) != 1:
            raise MException(f"nnet_cnn:{_FUNC}:WrongResponseSize", "Every observation needs the "
                             f"same number of responses. Received: {sorted({v.size for v in values})}.")
        return np.stack(values, axis=1).astype(self.dtype)

    def all_batches(self, m: int) -> Iterator[tuple]:
        """Every observation in the datastore's own order, the last batch partial."""
        self.ds.reset()
        for (X, responses), first in data_batches.minibatches(self.ds, m, self.input_size, True):
            yield self.internal(X), self.targets(responses, X), first


def epoch_batches(data: Any, epoch: int, shuffle: str, m: int, background: bool,
                  first_iteration: int) -> Iterator[tuple]:
    """One epoch's host batches (``shuffle`` is the option value), read ahead if asked."""
    shuffle_now = shuffle == "every-epoch" or (shuffle == "once" and epoch == 1)
    if isinstance(data, DatastoreData):
        source = data.epoch(shuffle_now, m, first_iteration=first_iteration)
    else:
        source = data.epoch(shuffle_now, m)
    return data_batches.prefetch(source) if background else source


def datastore_classes(ds: Datastore, input_size: tuple[int, ...], m: int) -> list[str]:
    """The classes (sorted categories) of a datastore's labels, read in a pass if needed."""
    labels = getattr(ds, "Labels", None)
    if labels is not None and len(labels):
        return [str(c) for c in labels.categories]
    seen: list = []
    for (_, responses), _ in data_batches.minibatches(ds, m, input_size, True):
        if responses is None:
            raise MException(f"nnet_cnn:{_FUNC}:MissingLabels",
                             "A classification network needs labels: the training datastore "
                             "gives predictors only.")
        seen += list(responses)
    return [str(c) for c in setup.as_categorical(seen).categories]


def streaming_statistics(layer: Any, batches: Iterator[np.ndarray]) -> dict[str, np.ndarray]:
    """``setup.normalization_statistics`` over MATLAB-layout batches ``(*S, C, m)``, merged
    exactly (Chan's pairwise moments in float64), so the array path's values come back."""
    names = layer.parameter_names()
    dim = getattr(layer, "NormalizationDimension", "auto")
    count, mean, m2, low, high = 0, None, None, None, None
    for X in batches:
        if X.dtype.kind == "f" and not np.isfinite(X).all():
            raise MException(f"nnet_cnn:{_FUNC}:NonFinitePredictors",
                             "The training data must be finite to compute the statistics of "
                             f"Normalization='{layer.Normalization}' of layer '{layer.Name}'.")
        ndim = X.ndim - 1
        axes = {"element": (ndim,), "all": tuple(range(ndim + 1))}.get(
            dim, tuple(range(ndim - 1)) + (ndim,))
        k = X.size // int(np.prod([X.shape[a] for a in range(X.ndim) if a not in axes]))
        b_mean = X.mean(axis=axes, dtype=np.float64, keepdims=True)
        b_m2 = ((X - b_mean) ** 2).sum(axis=axes, dtype=np.float64, keepdims=True) \
            if "StandardDeviation" in names else b_mean * 0
        b_low = X.min(axis=axes, keepdims=True).astype(np.float64)
        b_high = X.max(axis=axes, keepdims=True).astype(np.float64)
        if mean is None:
            count, mean, m2, low, high = k, b_mean, b_m2, b_low, b_high
            continue
        total = count + k
        delta = b_mean - mean
        mean = mean + delta * (k / total)
        m2 = m2 + b_m2 + delta * delta * (count * k / total)
        low, high, count = np.minimum(low, b_low), np.maximum(high, b_high), total
    if mean is None:
        return {}
    values = {"Mean": mean, "StandardDeviation": np.sqrt(m2 / count), "Min": low, "Max": high}
    return {name: (values[name][..., 0].reshape(()) if dim == "all" else values[name][..., 0]
                   ).astype(np.float32) for name in names}


def evaluate(ex: Any, data: Any, m: int, classification: bool) -> tuple[float, float]:
    """``(loss, accuracy % | RMSE)`` over validation data (arrays or a datastore)."""
    if isinstance(data, ArrayData):
        return setup.evaluate(ex, data.X, data.T, m, classification)
    output = ex.output_layers[0]
    out_layer = ex.layers[ex.index[output]]
    scores, targets = [], []
    for x, t, _ in data.all_batches(m):
        y = ex.forward(_backend.to_device(x, ex.device), training=False,
                       outputs=[output]).outputs[output]
        scores.append(y if data.pixel_graph is not None else y.reshape(y.shape[0], y.shape[1]))
        targets.append(t)
    xp = ex.xp
    y = xp.concatenate(scores, axis=1)
    t = xp.asarray(np.concatenate(targets, axis=1), dtype=ex.dtype)
    return float(out_layer.loss(y, t)[0]), setup.batch_metric(y, t, classification)


def population_pass(ex: Any, data: Any, m: int) -> None:
    """BatchNormalizationStatistics='population' over arrays or a datastore."""
    if isinstance(data, ArrayData):
        setup.batchnorm_population_pass(ex, data.X, m)
        return
    bn = [layer.Name for layer in ex.layers if "TrainedMean" in layer.STATES]
    if not bn:
        return
    outputs = setup._last_statistics_layers(ex, bn)
    collected: dict[str, list] = {name: [] for name in bn}
    seed = training_seed()
    for x, _, first in data.all_batches(m):
        update = ex.forward(_backend.to_device(x, ex.device), training=True, outputs=outputs,
                            keep_caches=False, seed=batch_seed(seed, first)).state_update
        for name in bn:
            collected[name].append((x.shape[1], update[(name, "BatchMean")],
                                    update[(name, "BatchVariance")]))
    for name in bn:
        mean, var = setup.merge_batch_statistics(collected[name])
        ex.state[(name, "TrainedMean")] = mean.astype(ex.dtype)
        ex.state[(name, "TrainedVariance")] = var.astype(ex.dtype)


def prepare_datastore(lgraph: Any, ds: Datastore, options: Any, say: Any) -> tuple[Any, Any, int]:
    """Classes, input statistics and the target count of a datastore run: ``(lgraph, classes
    or None, K | R)``. Labels come from an imageDatastore's Labels or a reading pass."""
    from ..networks.dag_network import check_rescale_ranges
    layers = list(lgraph.Layers)
    i_in = next(i for i, layer in enumerate(layers) if layer.IS_INPUT)
    i_out = next(i for i, layer in enumerate(layers) if layer.IS_OUTPUT)
    size, m = tuple(layers[i_in].InputSize), options.MiniBatchSize
    classes = None
    if segmentation.is_pixel_output(layers[i_out]):
        if isinstance(layers[i_out].Classes, str):
            raise MException(f"nnet_cnn:{_FUNC}:ClassesNeeded", f"Set Classes of layer "
                             f"'{layers[i_out].Name}' to train a segmentation network from a "
                             "datastore. Received: Classes='auto'.")
        classes = [str(c) for c in layers[i_out].Classes]
        num_targets = len(classes)
    elif hasattr(layers[i_out], "Classes"):
        given = layers[i_out].Classes
        if isinstance(given, str):                       # 'auto': from the datastore
            classes = datastore_classes(ds, size, m)
            layers[i_out] = layers[i_out].copy(Classes=classes)
        else:
            classes = [str(c) for c in given]
        if len(classes) < 2:
            raise MException(f"nnet_cnn:{_FUNC}:OneClass", "A classification network needs at "
                             f"least two classes. Received: the classes {classes}.")
        num_targets = len(classes)
    else:
        ds.reset()
        (_, responses), _ = next(data_batches.minibatches(ds, 1, size, True))
        if responses is None:
            raise MException(f"nnet_cnn:{_FUNC}:MissingResponses", "A regression network needs "
                             "responses: the training datastore gives predictors only.")
        num_targets = int(np.asarray(responses[0]).size)
    if options.ResetInputNormalization or setup.unset_input_statistics(layers[i_in]):
        if layers[i_in].parameter_names():
            ds.reset()
            stats = streaming_statistics(layers[i_in], (
                X for (X, _), _ in data_batches.minibatches(ds, m, size, True)))
            say("Initializing input data normalization.")
            layers[i_in] = layers[i_in].copy(**stats)
    lgraph = lgraph.with_layers(layers)
    check_rescale_ranges(lgraph, _FUNC)
    return lgraph, classes, num_targets
