"""Batch normalization over ``(N, *S)`` per channel; pure (returns statistics, mutates nothing).

Shapes: x ``(C, N, *S)``; scale, offset, mean, var ``(C,)``; M = N * prod(S) values per channel.
``xhat = (x - mean) / sqrt(var + epsilon)``; ``y = scale * xhat + offset``.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from ._cpu import parallel as _parallel
from ._backend import Array, elementwise_kernel, get_xp, is_gpu_array


class BatchNormCache(NamedTuple):
    """What batchnorm_backward needs (x2: x as ``(C, M)``; the statistics used, per channel)."""

    x2: Array
    mean: Array
    inv_std: Array
    scale: Array
    training: bool


def batchnorm_forward(x: Array, scale: Array, offset: Array, epsilon: float, training: bool,
                      mean: Array | None = None, var: Array | None = None, relu: bool = False
                      ) -> tuple[Array, BatchNormCache, tuple[Array, Array]]:
    """Normalize ``x (C, N, *S)``; returns ``(y, cache, (mean, var))``.

    training: statistics of this batch (var biased: divided by M), returned as ``(mean, var)``;
    inference: uses the given ``mean``/``var`` and returns them unchanged. Either way ``y`` is
    ``x a + c`` per channel, computed block by block in cache, and the cache keeps ``x`` itself
    (a backward rebuilds ``x - mean`` per block: no ``xhat`` array is stored). ``relu``:
    ``y = max(y, 0)`` while each block is in cache (a batch norm followed by a ReLU layer;
    its backward then takes ``relu_output``). See also: batchNormalizationLayer.

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
    scale = scale.astype(x.dtype, copy=False)
    if not training:
        y, inv_std = _affine(xp, x2, scale, offset, epsilon, mean, var, relu)
        cache = BatchNormCache(x2, mean.astype(x.dtype, copy=False), inv_std, scale, False)
        return y.reshape(x.shape), cache, (mean, var)
    offset = offset.astype(x.dtype, copy=False)
    y = xp.empty_like(x2)
    stats_mean, stats_var = xp.empty(c, dtype=x.dtype), xp.empty(c, dtype=x.dtype)
    inv_std = xp.empty(c, dtype=x.dtype)

    def normalize(block: slice) -> None:
        xb, yb = x2[block], y[block]
        stats_mean[block] = xb.mean(axis=1)
        xp.subtract(xb, stats_mean[block, None], out=yb)            # centred, in y's rows
        stats_var[block] = _row_dots(yb, yb) / max(1, xb.shape[1])
        inv_std[block] = 1.0 / xp.sqrt(stats_var[block] + epsilon)
        yb *= (scale[block] * inv_std[block])[:, None]
        yb += offset[block, None]
        if relu:
            xp.maximum(yb, 0, out=yb)

    _parallel.run(normalize, _channel_blocks(x2))
    return (y.reshape(x.shape), BatchNormCache(x2, stats_mean, inv_std, scale, True),
            (stats_mean, stats_var))


def batchnorm_backward(dy: Array, cache: BatchNormCache, need: Sequence[bool] = (True, True, True),
                       relu_output: Array | None = None
                       ) -> tuple[Array | None, Array | None, Array | None]:
    """Gradients ``(dx (C, N, *S), dscale (C,), doffset (C,))``; None where not needed.
    ``relu_output``: the ``y`` of a forward run with ``relu=True``; ``dy`` is then the
    gradient of that ReLU's output and is masked by ``y > 0`` block by block.

    With ``xhat = (x - mean) inv_std``: training, the full batch-statistics gradient
    ``dx = scale inv_std (dy - mean(dy) - xhat mean(dy xhat))``; inference, mean/var are
    constants, ``dx = scale inv_std dy``. ``dscale = sum(dy xhat)``, ``doffset = sum(dy)``.
    """
    x2, mean, inv_std, scale, training = cache
    xp = get_xp(dy, x2)
    need_dx, need_dscale, need_doffset = need
    dy2 = xp.ascontiguousarray(dy, dtype=x2.dtype).reshape(x2.shape)
    c, m = x2.shape
    sums = need_doffset or need_dscale or (need_dx and training)
    doffset = xp.empty(c, dtype=x2.dtype) if sums else None
    dscale = xp.empty(c, dtype=x2.dtype) if sums else None
    dx = xp.empty_like(dy2) if need_dx else None
    gain = scale * inv_std

    mask = None if relu_output is None else relu_output.reshape(x2.shape)

    def differentiate(block: slice) -> None:
        dyb = dy2[block] if mask is None else dy2[block] * (mask[block] > 0)
        if sums:       # x - mean, in dx's rows where dx is wanted (CPU): overwritten below
            centred = dx[block] if need_dx and not is_gpu_array(dyb) else xp.empty_like(dyb)
            xp.subtract(x2[block], mean[block, None], out=centred)
            doffset[block] = dyb.sum(axis=1)
            dscale[block] = _row_dots(dyb, centred) * inv_std[block]
        if need_dx and training:
            _training_dx(dyb, centred, gain[block, None], (doffset[block] / m)[:, None],
                         (inv_std[block] * dscale[block] / m)[:, None], dx[block])
        elif need_dx:
            xp.multiply(gain[block, None], dyb, out=dx[block])

    _parallel.run(differentiate, _channel_blocks(dy2))
    return (dx.reshape(dy.shape) if need_dx else None, dscale if need_dscale else None,
            doffset if need_doffset else None)


def _affine(xp, x2: Array, scale: Array, offset: Array, epsilon: float, mean: Array,
            var: Array, relu: bool = False) -> Array:
    """Inference: ``(y, inv_std)`` with ``y = x a + c`` (``max(., 0)`` with ``relu``),
    ``a = scale inv_std``, ``c = offset - mean a`` (per channel row of ``x2 (C, M)``)."""
    dtype = x2.dtype
    inv_std = 1.0 / xp.sqrt(var.astype(dtype, copy=False) + epsilon)
    a = scale.astype(dtype, copy=False) * inv_std
    c = offset.astype(dtype, copy=False) - mean.astype(dtype, copy=False) * a
    y = xp.empty_like(x2)

    def transform(block: slice) -> None:
        xp.multiply(x2[block], a[block, None], out=y[block])
        y[block] += c[block, None]
        if relu:
            xp.maximum(y[block], 0, out=y[block])

    _parallel.run(transform, _channel_blocks(x2))
    return y, inv_std.astype(dtype, copy=False)


BLOCK_BYTES = 2**20
"""Bytes of the channel rows processed together on the CPU (cache blocking) (docs/benchmarks.md#tuning-constants)."""


def _channel_blocks(x2: Array) -> list[slice]:
    """Row blocks of ``x2 (C, M)``: one block on the GPU, about BLOCK_BYTES each on the CPU."""
    if is_gpu_array(x2):
        return [slice(None)]
    step = max(1, BLOCK_BYTES // max(1, x2[:1].nbytes))
    return [slice(i, i + step) for i in range(0, x2.shape[0], step)]


def _training_dx(dy: Array, centred: Array, gain: Array, mean_dy: Array, k: Array,
                 dx: Array) -> None:
    """``dx = gain (dy - mean_dy - centred k)`` (``centred = x - mean``, ``k = inv_std
    mean(dy xhat)``): on the GPU one fused kernel; on the CPU four in-place passes over
    ``dx`` (in cache), which may already hold ``centred``."""
    if is_gpu_array(dy):
        kernel = elementwise_kernel("T dy, T centred, T gain, T a, T k", "T dx",
                                    "dx = gain * (dy - a - centred * k)", "layergraph_bn_dx")
        kernel(dy, centred, gain, mean_dy, k, dx)
        return
    if not get_xp(dx).may_share_memory(centred, dx):
        dx[...] = centred
    dx *= -k
    dx += dy
    dx -= mean_dy
    dx *= gain


def _row_dots(a: Array, b: Array) -> Array:
    """``sum(a * b, axis=1)`` of ``(R, M)`` rows as R BLAS dot products (no ``(R, M)``
    temporary; float32 accuracy and time against NumPy's pairwise sum: docs/benchmarks.md#tuning-constants)."""
    return (a[:, None, :] @ b[:, :, None]).reshape(a.shape[0])


def _describe(value) -> str:
    return "None" if value is None else f"array of shape {value.shape}"


def _check_vectors(channels: int, **vectors) -> None:
    for name, value in vectors.items():
        if value is not None and tuple(value.shape) != (channels,):
            raise ValueError(f"Expected {name} of shape ({channels},) for {channels} channels. "
                             f"Received: {name} of shape {tuple(value.shape)}.")
