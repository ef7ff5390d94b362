"""trainNetwork's preparation and finishing passes (no training loop here).

* ``prepare_targets``: labels -> one-hot ``(K, N)`` plus the classes, or responses ``(R, N)``;
* ``normalization_statistics``: per-channel (or element / all) Mean, StandardDeviation, Min,
  Max over ALL the training data, in MATLAB shapes (``1 x 1 [x 1] x C`` per channel);
* ``initialize_graph``: resolve 'auto' sizes and create unset learnables/states in topological
  order (``layer.initialize(input_sizes, rng)``);
* ``merge_batch_statistics``: the exact population merge of per-batch BN means/variances;
* ``evaluate``: loss and accuracy / RMSE of the executor over a data set (inference mode).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from . import segmentation
from ..graph.analysis import propagate_sizes
from ..runtime.layout import matlab_to_internal, onehot
from ..runtime.executor import Executor, is_empty
from ..layers.errors import MException
from ..ops import _backend
from ..rng import batch_seed, training_seed

_FUNC = "trainNetwork"

def as_categorical(Y: Any) -> pd.Categorical:
    """MATLAB ``categorical``: a pandas.Categorical as is; other labels with sorted categories."""
    if isinstance(Y, pd.Series) and isinstance(Y.dtype, pd.CategoricalDtype):
        Y = Y.array
    if isinstance(Y, pd.Categorical):
        return Y
    return pd.Categorical(list(np.asarray(Y).ravel()))


def label_targets(labels: Any, classes: list[str], argname: str = "Labels") -> np.ndarray:
    """One-hot ``(K, N)`` float64 of labels (compared as text) over the class names; labels
    outside them: ``nnet_cnn:trainNetwork:UnknownClass`` naming ``argname``."""
    return onehot([str(v) for v in as_categorical(labels)], classes, dtype=np.float64,
                  argname=argname, func=_FUNC)


def prepare_targets(Y: Any, n: int, classification: bool) -> tuple[np.ndarray, list | None]:
    """``(targets (K|R, N) float64, classes or None)``; MException when sizes disagree."""
    if classification:
        labels = as_categorical(Y)
        if len(labels) != n:
            raise MException(f"nnet_cnn:{_FUNC}:WrongNumberOfLabels",
                             f"The number of labels must match the number of observations "
                             f"({n}). Received: {len(labels)} labels.")
        if pd.isna(labels).any():
            raise MException(f"nnet_cnn:{_FUNC}:UndefinedLabels",
                             "Labels must not contain undefined (missing) values. Received: "
                             f"{int(pd.isna(labels).sum())} undefined labels.")
        classes = [str(c) for c in labels.categories]
        return label_targets(labels, classes), classes
    raw = np.asarray(Y)
    if raw.dtype.kind not in "iuf":
        raise MException(f"nnet_cnn:{_FUNC}:InvalidResponses",
                         "Responses of a regression network must be a real numeric N x R array. "
                         f"Received: {type(Y).__name__} of dtype {raw.dtype}.")
    responses = raw.astype(np.float64).reshape(-1, 1) if raw.ndim == 1 else raw.astype(np.float64)
    if responses.ndim != 2 or responses.shape[0] != n:
        raise MException(f"nnet_cnn:{_FUNC}:WrongResponseSize",
                         f"Responses must be an N x R numeric array with N = {n} observations. "
                         f"Received: array of size {'x'.join(map(str, np.shape(Y)))}.")
    if not np.all(np.isfinite(responses)):
        raise MException(f"nnet_cnn:{_FUNC}:NonFiniteResponses",
                         "Responses must be finite. Received: NaN or Inf values.")
    return responses.T.copy(), None


def normalization_statistics(layer: Any, X: np.ndarray) -> dict[str, np.ndarray]:
    """The statistics ``layer.parameter_names()`` lists, computed over all of ``X`` (h..c x N).

    NormalizationDimension 'auto'/'channel': per channel, shape ``1 x ... x 1 x C``;
    'element': shape ``h x w [x d] x C``; 'all': a scalar. StandardDeviation is the
    population value (divide by N).
    """
    names = layer.parameter_names()
    if not names:
        return {}
    if X.dtype.kind == "f" and not np.isfinite(X).all():
        raise MException(f"nnet_cnn:{_FUNC}:NonFinitePredictors",
                         "X must be finite to compute the statistics of "
                         f"Normalization='{layer.Normalization}' of layer '{layer.Name}'. "
                         f"Received: {int(X.size - np.isfinite(X).sum())} "
                         "NaN or Inf values.")
    dim = getattr(layer, "NormalizationDimension", "auto")
    ndim = X.ndim - 1
    axes = {"element": (ndim,), "all": tuple(range(ndim + 1))}.get(dim, tuple(range(ndim - 1)) + (ndim,))
    funcs = {"Mean": lambda a: a.mean(axis=axes, dtype=np.float64, keepdims=True),
             "StandardDeviation": lambda a: a.std(axis=axes, dtype=np.float64, keepdims=True),
             "Min": lambda a: a.min(axis=axes, keepdims=True).astype(np.float64),
             "Max": lambda a: a.max(axis=axes, keepdims=True).astype(np.float64)}
    out = {}
    for name in names:
        value = funcs[name](X)[..., 0]          # drop the observation axis
        out[name] = (value.reshape(()) if dim == "all" else value).astype(np.float32)
    return out


def initialize_graph(lgraph: Any, rng: np.random.Generator, num_targets: int | None = None) -> Any:
    """A graph whose layers have every size resolved and every unset learnable initialised.

    ``num_targets`` (trainNetwork): rows of the ``(K | R, N)`` targets, checked against what
    reaches the output layer per observation (K class scores, or R responses).
    """
    def initialized(layer: Any, in_sizes: list[tuple[int, ...]]) -> Any:
        new = layer.initialize(in_sizes, rng)
        if layer.IS_OUTPUT and num_targets is not None:
            _check_output_size(layer, in_sizes[0], num_targets)
        return new
    return lgraph.with_layers(propagate_sizes(lgraph, initialized))


def _check_output_size(layer: Any, in_size: tuple[int, ...], num_targets: int) -> None:
    size = "x".join(map(str, in_size))
    if segmentation.is_pixel_output(layer):      # per-voxel scores: labels checked in segmentation
        return
    if hasattr(layer, "Classes"):
        if int(np.prod(in_size)) != num_targets:   # the layer itself checked the channel count
            raise MException(f"nnet_cnn:{_FUNC}:WrongOutputSize",
                             f"Layer '{layer.Name}' needs one score per class per observation, an input "
                             f"of size {'x'.join(['1'] * (len(in_size) - 1) + [str(num_targets)])} (use a "
                             "fully connected or global pooling layer before it). "
                             f"Received: input size {size}.")
    elif int(np.prod(in_size)) != num_targets:
        expected = int(np.prod(in_size))
        raise MException(f"nnet_cnn:{_FUNC}:WrongNumberOfResponses",
                         f"Layer '{layer.Name}' receives {expected} values per observation (input size "
                         f"{size}), so the responses must be an N x {expected} array. Received: "
                         f"{num_targets} responses per observation.")


def merge_batch_statistics(batches: list[tuple[int, Any, Any]]) -> tuple[Any, Any]:
    """Exact merge of ``(count, mean, biased var)`` per batch -> population (mean, biased var)."""
    total = sum(n for n, _, _ in batches)
    mean = sum((n / total) * m for n, m, _ in batches)
    second = sum((n / total) * (v + m * m) for n, m, v in batches)
    return mean, second - mean * mean


def batchnorm_population_pass(ex: Executor, Xint: np.ndarray, batch_size: int) -> None:
    """Replace every BN layer's TrainedMean/TrainedVariance by statistics over all of ``Xint``.

    Runs training-mode forward passes over the data (``(C, N, *S)``, every observation, the
    last batch possibly partial) and merges the per-batch statistics exactly. Each pass stops
    at the last BN layers: the layers after them cannot change any BN layer's statistics.
    """
    bn = [layer.Name for layer in ex.layers if "TrainedMean" in layer.STATES]
    if not bn:
        return
    n = Xint.shape[1]
    collected: dict[str, list] = {name: [] for name in bn}
    outputs = _last_statistics_layers(ex, bn)
    seed = training_seed()

    def statistics(start: int) -> tuple[int, dict]:
        x = _backend.to_device(Xint[:, start:start + batch_size], ex.device)
        x = x.astype(ex.dtype, copy=False)
        return x.shape[1], ex.forward(x, training=True, outputs=outputs, keep_caches=False,
                                      seed=batch_seed(seed, start)).state_update

    for count, update in ex.map_batches(statistics, range(0, n, batch_size),
                                        ex.activation_bytes(min(n, batch_size), outputs)):
        for name in bn:
            collected[name].append((count, update[(name, "BatchMean")],
                                    update[(name, "BatchVariance")]))
    for name in bn:
        mean, var = merge_batch_statistics(collected[name])
        ex.state[(name, "TrainedMean")] = mean.astype(ex.dtype)
        ex.state[(name, "TrainedVariance")] = var.astype(ex.dtype)


def _last_statistics_layers(ex: Executor, bn: list[str]) -> list[str]:
    """The BN layers that no other BN layer depends on (running up to them runs every BN)."""
    upstream: set[int] = set()
    for name in bn:
        stack = [s for s, _ in ex.sources[ex.index[name]]]
        while stack:
            i = stack.pop()
            if i not in upstream:
                upstream.add(i)
                stack.extend(s for s, _ in ex.sources[i])
    return [name for name in bn if ex.index[name] not in upstream]


def evaluate(ex: Executor, Xint: np.ndarray, T: np.ndarray, batch_size: int,
             classification: bool) -> tuple[float, float]:
    """``(loss, accuracy % | RMSE)`` of the network over data ``Xint (C, N, *S)``, ``T (K, N)``."""
    output = ex.output_layers[0]
    out_layer = ex.layers[ex.index[output]]

    def scores_of(part: slice) -> Any:
        x = _backend.to_device(Xint[:, part], ex.device).astype(ex.dtype)
        y = ex.forward(x, training=False, outputs=[output]).outputs[output]
        return y if T.ndim > 2 else y.reshape(y.shape[0], y.shape[1])   # per voxel: (K, N, *S)

    parts = ex.inference_batches(Xint.shape[1], batch_size)
    scores = ex.map_batches(scores_of, parts, ex.activation_bytes(
        max(p.stop - p.start for p in parts), [output]))
    xp = ex.xp
    y = xp.concatenate(scores, axis=1)
    t = xp.asarray(T, dtype=ex.dtype)
    loss = float(out_layer.loss(y, t)[0])
    return loss, batch_metric(y, t, classification)


def batch_metric(y: Any, t: Any, classification: bool) -> float:
    """Accuracy in percent (argmax agreement) or RMSE = sqrt(mean((y - t)^2)); y, t ``(K, N)``
    or per voxel ``(K, N, *S)`` (accuracy over the labelled voxels: t's column not all zero)."""
    if classification:
        hits = y.argmax(axis=0) == t.argmax(axis=0)
        if t.ndim == 2:
            return 100.0 * float(hits.mean())
        labelled = t.max(axis=0) > 0
        return 100.0 * float((hits & labelled).sum()) / max(float(labelled.sum()), 1.0)
    d = y - t
    return float(((d * d).mean()) ** 0.5)


def unset_input_statistics(layer: Any) -> bool:
    """True when some statistic the input layer's normalization needs is empty."""
    return any(is_empty(getattr(layer, n)) for n in layer.parameter_names())


def to_internal_data(X: np.ndarray, num_spatial: int, dtype: Any) -> np.ndarray:
    """MATLAB ``(*S, C, N)`` -> contiguous host ``(C, N, *S)`` of ``dtype`` (one copy)."""
    return np.ascontiguousarray(matlab_to_internal(X, num_spatial, np, dtype))
