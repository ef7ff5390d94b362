"""Grouped normalization: group (G groups of channels), instance (G = C) and layer (G = 1)
normalization with a per-channel scale and offset. No running statistics.

Shapes: x ``(C, N, *S)`` with C divisible by G; scale, offset ``(C,)``; statistics per
observation and group over its ``C / G`` channels and all of S (biased variance):
``y = scale (x - mean) / sqrt(var + epsilon) + offset``.
"""
from __future__ import annotations

from typing import NamedTuple

from ._backend import Array, get_xp


class GroupNormCache(NamedTuple):
    xhat: Array          # (G, C/G, N, L) normalized input
    inv_std: Array       # (G, 1, N, 1)
    scale: Array         # (C,)
    shape: tuple


def group_norm_forward(x: Array, scale: Array, offset: Array, num_groups: int,
                       epsilon: float = 1e-5) -> tuple[Array, GroupNormCache]:
    """Normalize ``x (C, N, *S)`` per observation over groups of channels; returns
    ``(y, cache)``. See also: groupNormalizationLayer, instanceNormalizationLayer,
    layerNormalizationLayer.

    >>> import numpy as np
    >>> y, _ = group_norm_forward(np.array([[[1.0, 3.0]]]), np.ones(1), np.zeros(1), 1)
    >>> np.round(y, 4).tolist()
    [[[-1.0, 1.0]]]
    """
    xp = get_xp(x, scale, offset)
    c, n = x.shape[:2]
    if num_groups < 1 or c % num_groups:
        raise ValueError("The number of groups must divide the number of channels. "
                         f"Received: {num_groups} groups for {c} channels.")
    if scale.shape != (c,) or offset.shape != (c,):
        raise ValueError(f"Expected scale and offset of shape ({c},). Received: scale "
                         f"{scale.shape}, offset {offset.shape}.")
    g = x.reshape(num_groups, c // num_groups, n, -1)
    count = x.dtype.type(g.shape[1] * g.shape[3])
    mean = _group_sum(g) / count
    xhat = g - mean                                            # centred, normalized in place
    var = _group_sum(xp.einsum("gcnl,gcnl->gcn", xhat, xhat)[..., None]) / count
    inv_std = 1 / xp.sqrt(var + x.dtype.type(epsilon))
    xhat *= inv_std
    scale, offset = scale.astype(x.dtype, copy=False), offset.astype(x.dtype, copy=False)
    y = xhat.reshape(c, n, -1) * scale.reshape(-1, 1, 1)
    y += offset.reshape(-1, 1, 1)
    return y.reshape(x.shape), GroupNormCache(xhat, inv_std, scale, x.shape)


def group_norm_backward(dy: Array, cache: GroupNormCache, need=(True, True, True)
                        ) -> tuple[Array | None, Array | None, Array | None]:
    """Gradients ``(dx, dscale (C,), doffset (C,))``; ``need`` flags as the other ops."""
    xhat, inv_std, scale, shape = cache
    c, n = shape[:2]
    xp = get_xp(dy, xhat)
    dy3 = dy.reshape(c, n, -1)
    need_dx, need_scale, need_offset = need
    doffset = dy3.sum(axis=2).sum(axis=1) if need_offset else None
    dscale = xp.einsum("cnl,cnl->c", dy3, xhat.reshape(c, n, -1)) if need_scale else None
    dx = None
    if need_dx:
        count = dy.dtype.type(xhat.shape[1] * xhat.shape[3])
        dxhat = (dy3 * scale.reshape(-1, 1, 1)).reshape(xhat.shape)
        mean_dxhat = _group_sum(dxhat) / count
        mean_dxhat_xhat = _group_sum(xp.einsum("gcnl,gcnl->gcn", dxhat, xhat)[..., None]) / count
        dxhat -= mean_dxhat
        dxhat -= xhat * mean_dxhat_xhat
        dxhat *= inv_std
        dx = dxhat.reshape(shape)
    return dx, dscale, doffset


def _group_sum(v: Array) -> Array:
    """Sum of ``v (G, C/G, N, L)`` over axes 1 and 3, kept as ``(G, 1, N, 1)``: the contiguous
    last axis first (a fast reduction), then the channels of the group."""
    return v.sum(axis=3, keepdims=True).sum(axis=1, keepdims=True)
