"""Batch normalization over ``(N, *S)`` per channel; pure (returns statistics, mutates nothing).

Shapes: x ``(C, N, *S)``; scale, offset, mean, var ``(C,)``; M = N * prod(S) values per channel.
``xhat = (x - mean) / sqrt(var + epsilon)``; ``y = scale * xhat + offset``.
"""
from __future__ import annotations

from collections.abc import Sequence

from ._backend import Array, elementwise_kernel, get_xp, is_gpu_array


def batchnorm_forward(x: Array, scale: Array, offset: Array, epsilon: float, training: bool,
                      mean: Array | None = None, var: Array | None = None
                      ) -> tuple[Array, tuple, tuple[Array, Array]]:
    """Normalize ``x (C, N, *S)``; returns ``(y, cache, (mean, var))``.

    training: statistics of this batch (var biased: divided by M), returned as ``(mean, var)``;
    inference: uses the given ``mean``/``var`` and returns them unchanged.
    See also: batchNormalizationLayer.

    >>> import numpy as np
    >>> y, _, (m, v) = batchnorm_forward(np.array([[1.0, 3.0]]), np.ones(1), np.zeros(1), 0.0, True)
    >>> y.tolist(), m.tolist(), v.tolist()
    ([[-1.0, 1.0]], [2.0], [1.0])
    """
    xp = get_xp(x, scale, offset, mean, var)
    c = x.shape[0]
    _check_vectors(c, scale=scale, offset=offset, mean=mean, var=var)
    x2 = xp.ascontiguousarray(x).reshape(c, -1)
    if training:
        stats_mean = x2.mean(axis=1)
        xhat = x2 - stats_mean[:, None]
        stats_var = (xhat * xhat).mean(axis=1)
    else:
        if mean is None or var is None:
            raise ValueError("Inference-mode batch normalization needs mean and var. "
                             f"Received: mean={_describe(mean)}, var={_describe(var)}.")
        stats_mean, stats_var = mean, var
        xhat = x2 - mean.astype(x.dtype, copy=False)[:, None]
    inv_std = (1.0 / xp.sqrt(stats_var.astype(x.dtype, copy=False) + epsilon)).astype(x.dtype)
    xhat *= inv_std[:, None]
    scale = scale.astype(x.dtype, copy=False)
    y = xhat * scale[:, None] + offset.astype(x.dtype, copy=False)[:, None]
    return y.reshape(x.shape), (xhat, inv_std, scale, training), (stats_mean, stats_var)


def batchnorm_backward(dy: Array, cache: tuple, need: Sequence[bool] = (True, True, True)
                       ) -> tuple[Array | None, Array | None, Array | None]:
    """Gradients ``(dx (C, N, *S), dscale (C,), doffset (C,))``; None where not needed.

    training: the full batch-statistics gradient
    ``dx = scale inv_std (dy - mean(dy) - xhat mean(dy xhat))``;
    inference: mean/var are constants, ``dx = scale inv_std dy``.
    """
    xhat, inv_std, scale, training = cache
    xp = get_xp(dy, xhat)
    need_dx, need_dscale, need_doffset = need
    dy2 = xp.ascontiguousarray(dy, dtype=xhat.dtype).reshape(xhat.shape)
    doffset = dy2.sum(axis=1) if need_doffset or (need_dx and training) else None
    dscale = (dy2 * xhat).sum(axis=1) if need_dscale or (need_dx and training) else None
    dx = None
    if need_dx:
        gain = (scale * inv_std)[:, None]
        if training:
            m = xhat.shape[1]
            dx = _training_dx(dy2, xhat, gain, (doffset / m)[:, None], (dscale / m)[:, None])
        else:
            dx = gain * dy2
        dx = dx.reshape(dy.shape)
    return (dx, dscale if need_dscale else None, doffset if need_doffset else None)


def _training_dx(dy: Array, xhat: Array, gain: Array, mean_dy: Array, mean_dy_xhat: Array
                 ) -> Array:
    """``gain (dy - mean_dy - xhat mean_dy_xhat)``: one fused kernel on the GPU."""
    if is_gpu_array(dy):
        kernel = elementwise_kernel("T dy, T xhat, T gain, T a, T b", "T dx",
                                    "dx = gain * (dy - a - xhat * b)", "layergraph_bn_dx")
        return kernel(dy, xhat, gain, mean_dy, mean_dy_xhat)
    return gain * (dy - mean_dy - xhat * mean_dy_xhat)


def _describe(value) -> str:
    return "None" if value is None else f"array of shape {value.shape}"


def _check_vectors(channels: int, **vectors) -> None:
    for name, value in vectors.items():
        if value is not None and tuple(value.shape) != (channels,):
            raise ValueError(f"Expected {name} of shape ({channels},) for {channels} channels. "
                             f"Received: {name} of shape {tuple(value.shape)}.")
