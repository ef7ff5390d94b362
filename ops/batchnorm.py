"""Batch normalization over ``(N, *S)`` per channel; pure (returns statistics, mutates nothing).

Shapes: x ``(C, N, *S)``; scale, offset, mean, var ``(C,)``; M = N * prod(S) values per channel.
``xhat = (x - mean) / sqrt(var + epsilon)``; ``y = scale * xhat + offset``.
"""
from __future__ import annotations

from collections.abc import Sequence

from . import _parallel
from ._backend import Array, elementwise_kernel, get_xp, is_gpu_array


def batchnorm_forward(x: Array, scale: Array, offset: Array, epsilon: float, training: bool,
                      mean: Array | None = None, var: Array | None = None
                      ) -> tuple[Array, tuple, tuple[Array, Array]]:
    """Normalize ``x (C, N, *S)``; returns ``(y, cache, (mean, var))``.

    training: statistics of this batch (var biased: divided by M), returned as ``(mean, var)``;
    inference: uses the given ``mean``/``var`` and returns them unchanged, computed as
    ``y = x a + c`` per channel (two passes; ``xhat`` is rebuilt by a backward, if any).
    See also: batchNormalizationLayer.

    >>> import numpy as np
    >>> y, _, (m, v) = batchnorm_forward(np.array([[1.0, 3.0]]), np.ones(1), np.zeros(1), 0.0, True)
    >>> y.tolist(), m.tolist(), v.tolist()
    ([[-1.0, 1.0]], [2.0], [1.0])
    """
    xp = get_xp(x, scale, offset, mean, var)
    c = x.shape[0]
    _check_vectors(c, scale=scale, offset=offset, mean=mean, var=var)
    if not training and (mean is None or var is None):
        raise ValueError("Inference-mode batch normalization needs mean and var. "
                         f"Received: mean={_describe(mean)}, var={_describe(var)}.")
    x2 = xp.ascontiguousarray(x).reshape(c, -1)
    if not training:
        y, inv_std = _affine(xp, x2, scale, offset, epsilon, mean, var)
        cache = (None, inv_std, scale.astype(x.dtype, copy=False), False, (x2, mean))
        return y.reshape(x.shape), cache, (mean, var)
    xhat, y = xp.empty_like(x2), xp.empty_like(x2)
    if training:
        stats_mean, stats_var = xp.empty(c, dtype=x.dtype), xp.empty(c, dtype=x.dtype)
    else:
        stats_mean, stats_var = mean, var
    inv_std = xp.empty(c, dtype=x.dtype)
    scale = scale.astype(x.dtype, copy=False)
    offset = offset.astype(x.dtype, copy=False)
    def normalize(block: slice) -> None:
        xh = xhat[block]
        if training:
            stats_mean[block] = x2[block].mean(axis=1)
            xp.subtract(x2[block], stats_mean[block, None], out=xh)
            stats_var[block] = (xh * xh).mean(axis=1)
        else:
            xp.subtract(x2[block], mean[block].astype(x.dtype, copy=False)[:, None], out=xh)
        inv_std[block] = 1.0 / xp.sqrt(stats_var[block].astype(x.dtype, copy=False) + epsilon)
        xh *= inv_std[block, None]
        xp.multiply(xh, scale[block, None], out=y[block])
        y[block] += offset[block, None]

    _parallel.run(normalize, _channel_blocks(x2))
    return y.reshape(x.shape), (xhat, inv_std, scale, training, None), (stats_mean, stats_var)


def batchnorm_backward(dy: Array, cache: tuple, need: Sequence[bool] = (True, True, True)
                       ) -> tuple[Array | None, Array | None, Array | None]:
    """Gradients ``(dx (C, N, *S), dscale (C,), doffset (C,))``; None where not needed.

    training: the full batch-statistics gradient
    ``dx = scale inv_std (dy - mean(dy) - xhat mean(dy xhat))``;
    inference: mean/var are constants, ``dx = scale inv_std dy``.
    """
    xhat, inv_std, scale, training, source = cache
    if xhat is None:                      # inference forward: rebuild xhat from its input
        x2, mean = source
        xp = get_xp(x2)
        xhat = (x2 - mean.astype(x2.dtype, copy=False)[:, None]) * inv_std[:, None]
    xp = get_xp(dy, xhat)
    need_dx, need_dscale, need_doffset = need
    dy2 = xp.ascontiguousarray(dy, dtype=xhat.dtype).reshape(xhat.shape)
    c, m = xhat.shape
    sums = need_doffset or need_dscale or (need_dx and training)
    doffset = xp.empty(c, dtype=xhat.dtype) if sums else None
    dscale = xp.empty(c, dtype=xhat.dtype) if sums else None
    dx = xp.empty_like(dy2) if need_dx else None
    gain = scale * inv_std
    def differentiate(block: slice) -> None:
        dyb, xhb = dy2[block], xhat[block]
        if sums:
            doffset[block] = dyb.sum(axis=1)
            dscale[block] = (dyb * xhb).sum(axis=1)
        if need_dx and training:
            _training_dx(dyb, xhb, gain[block, None], (doffset[block] / m)[:, None],
                         (dscale[block] / m)[:, None], dx[block])
        elif need_dx:
            xp.multiply(gain[block, None], dyb, out=dx[block])

    _parallel.run(differentiate, _channel_blocks(dy2))
    return (dx.reshape(dy.shape) if need_dx else None, dscale if need_dscale else None,
            doffset if need_doffset else None)


def _affine(xp, x2: Array, scale: Array, offset: Array, epsilon: float, mean: Array,
            var: Array) -> Array:
    """Inference: ``(y, inv_std)`` with ``y = x a + c``, ``a = scale inv_std``,
    ``c = offset - mean a`` (per channel row of ``x2 (C, M)``)."""
    dtype = x2.dtype
    inv_std = 1.0 / xp.sqrt(var.astype(dtype, copy=False) + epsilon)
    a = scale.astype(dtype, copy=False) * inv_std
    c = offset.astype(dtype, copy=False) - mean.astype(dtype, copy=False) * a
    y = xp.empty_like(x2)

    def transform(block: slice) -> None:
        xp.multiply(x2[block], a[block, None], out=y[block])
        y[block] += c[block, None]

    _parallel.run(transform, _channel_blocks(x2))
    return y, inv_std.astype(dtype, copy=False)


BLOCK_BYTES = 2**20
"""Bytes of the channel rows processed together on the CPU (they stay in cache in between)."""


def _channel_blocks(x2: Array) -> list[slice]:
    """Row blocks of ``x2 (C, M)``: one block on the GPU, about BLOCK_BYTES each on the CPU."""
    if is_gpu_array(x2):
        return [slice(None)]
    step = max(1, BLOCK_BYTES // max(1, x2[:1].nbytes))
    return [slice(i, i + step) for i in range(0, x2.shape[0], step)]


def _training_dx(dy: Array, xhat: Array, gain: Array, mean_dy: Array, mean_dy_xhat: Array,
                 dx: Array) -> None:
    """``dx = gain (dy - mean_dy - xhat mean_dy_xhat)``: one fused kernel on the GPU."""
    if is_gpu_array(dy):
        kernel = elementwise_kernel("T dy, T xhat, T gain, T a, T b", "T dx",
                                    "dx = gain * (dy - a - xhat * b)", "layergraph_bn_dx")
        kernel(dy, xhat, gain, mean_dy, mean_dy_xhat, dx)
        return
    xp = get_xp(dy)
    xp.subtract(dy, mean_dy, out=dx)
    dx -= xhat * mean_dy_xhat
    dx *= gain


def _describe(value) -> str:
    return "None" if value is None else f"array of shape {value.shape}"


def _check_vectors(channels: int, **vectors) -> None:
    for name, value in vectors.items():
        if value is not None and tuple(value.shape) != (channels,):
            raise ValueError(f"Expected {name} of shape ({channels},) for {channels} channels. "
                             f"Received: {name} of shape {tuple(value.shape)}.")
