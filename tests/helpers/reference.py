"""Naive float64 loop oracles for the ops, written independently of the package.

Arrays use the internal layout ``(C, N, *S)``; padding is a tuple of (before, after) per
spatial dim. Loops run over observations and output positions, so keep shapes tiny.
"""
from __future__ import annotations

import itertools

import numpy as np

EPS_SINGLE = float(np.finfo(np.float32).eps)


def _out_sizes(sizes, kernel, stride, pad, dilation):
    return tuple((n + b + a - ((k - 1) * d + 1)) // s + 1
                 for n, k, s, (b, a), d in zip(sizes, kernel, stride, pad, dilation))


def _window(x, n, o, kernel, stride, pad, dilation):
    """Yield (kernel offset, input vector x[:, n, pos]) for the inputs inside the image."""
    for j in itertools.product(*(range(k) for k in kernel)):
        pos = tuple(oi * s + ji * d - b for oi, ji, s, d, (b, _) in
                    zip(o, j, stride, dilation, pad))
        inside = all(0 <= p < size for p, size in zip(pos, x.shape[2:]))
        yield j, (x[(slice(None), n) + pos] if inside else None)


def conv(x, w, b, stride, pad, dilation):
    """``y[f, n, o] = b[f] + sum w[f, c, j] x[c, n, o s + j d - before]`` (zeros outside)."""
    x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
    out = _out_sizes(x.shape[2:], w.shape[2:], stride, pad, dilation)
    y = np.zeros((w.shape[0], x.shape[1]) + out)
    for n in range(x.shape[1]):
        for o in itertools.product(*(range(m) for m in out)):
            acc = np.zeros(w.shape[0]) if b is None else np.array(b, np.float64)
            for j, v in _window(x, n, o, w.shape[2:], stride, pad, dilation):
                if v is not None:
                    acc = acc + w[(slice(None), slice(None)) + j] @ v
            y[(slice(None), n) + o] = acc
    return y


def _pool(x, pool, stride, pad, reduce):
    x = np.asarray(x, np.float64)
    ones = (1,) * len(pool)
    out = _out_sizes(x.shape[2:], pool, stride, pad, ones)
    y = np.zeros(x.shape[:2] + out)
    for n in range(x.shape[1]):
        for o in itertools.product(*(range(m) for m in out)):
            values = [v for _, v in _window(x, n, o, pool, stride, pad, ones)]
            y[(slice(None), n) + o] = reduce(values)
    return y


def max_pool(x, pool, stride, pad):
    """Maximum over the real (unpadded) elements of each window."""
    return _pool(x, pool, stride, pad,
                 lambda vs: np.max([v for v in vs if v is not None], axis=0))


def max_pool_backward(x, dy, pool, stride, pad):
    """Each output gradient goes to the first maximum of its window in column-major order."""
    x = np.asarray(x, np.float64)
    dx = np.zeros_like(x)
    for n in range(x.shape[1]):
        for o in itertools.product(*(range(m) for m in dy.shape[2:])):
            for c in range(x.shape[0]):
                best, where = -np.inf, None
                for j in itertools.product(*(range(p) for p in reversed(pool))):
                    pos = tuple(oi * s + ji - b for oi, ji, s, (b, _) in
                                zip(o, reversed(j), stride, pad))
                    inside = all(0 <= q < size for q, size in zip(pos, x.shape[2:]))
                    if inside and x[(c, n) + pos] > best:
                        best, where = x[(c, n) + pos], pos
                dx[(c, n) + where] += dy[(c, n) + o]
    return dx


def avg_pool(x, pool, stride, pad, padding_value=0):
    """Window mean: pads count as zeros (divide by prod(pool)) or, for "mean", are left out."""
    def reduce(vs):
        real = [v for v in vs if v is not None]
        total = np.sum(real, axis=0)
        return total / (len(real) if padding_value == "mean" else len(vs))
    return _pool(x, pool, stride, pad, reduce)


def global_avg_pool(x):
    x = np.asarray(x, np.float64)
    return x.mean(axis=tuple(range(2, x.ndim)), keepdims=True)


def batchnorm(x, scale, offset, epsilon, mean=None, var=None):
    """Per channel ``scale (x - mean) / sqrt(var + eps) + offset``; batch stats if mean is None."""
    x = np.asarray(x, np.float64)
    y = np.empty_like(x)
    for c in range(x.shape[0]):
        values = x[c].ravel()
        m = values.mean() if mean is None else mean[c]
        v = ((values - values.mean()) ** 2).mean() if var is None else var[c]
        y[c] = scale[c] * (x[c] - m) / np.sqrt(v + epsilon) + offset[c]
    return y


def relu(x):
    return np.where(np.asarray(x, np.float64) > 0, x, 0.0)


def softmax(x):
    """Softmax over axis 0, one column at a time."""
    x = np.asarray(x, np.float64)
    y = np.empty_like(x)
    for idx in itertools.product(*(range(m) for m in x.shape[1:])):
        column = x[(slice(None),) + idx]
        e = np.exp(column - column.max())
        y[(slice(None),) + idx] = e / e.sum()
    return y


def fully_connected(x, w, b):
    """``y[:, n] = w @ vec(X_n) + b`` with ``vec`` MATLAB's column-major order of h x w x d x c."""
    x = np.asarray(x, np.float64)
    y = np.zeros((w.shape[0], x.shape[1]))
    for n in range(x.shape[1]):
        matlab_obs = np.moveaxis(x[:, n], 0, -1)          # h x w x d x c
        y[:, n] = np.asarray(w, np.float64) @ matlab_obs.ravel(order="F")
        if b is not None:
            y[:, n] += b
    return y


def cross_entropy(y, t, class_weights=None):
    """MATLAB crossentropyex: ``-sum_k,n w_k t ln(max(y, eps(single))) / N``."""
    y, t = np.asarray(y, np.float64), np.asarray(t, np.float64)
    weights = np.ones(y.shape[0]) if class_weights is None else np.asarray(class_weights)
    total = 0.0
    for k in range(y.shape[0]):
        for n in range(y.shape[1]):
            total -= weights[k] * t[k, n] * np.log(max(y[k, n], EPS_SINGLE))
    return total / y.shape[1]


def mse(y, t):
    """MATLAB 'mse' output layer: ``sum(0.5 (y - t)^2) / N``."""
    y, t = np.asarray(y, np.float64), np.asarray(t, np.float64)
    return 0.5 * np.sum((y - t) ** 2) / y.shape[1]
