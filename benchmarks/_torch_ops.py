"""PyTorch counterparts of the ops, with MATLAB's padding rules (benchmarks only).

torch layout is (N, C, *S); the spatial axes are kept in MATLAB order (h, w[, d]), which torch does
not care about. Asymmetric padding (MATLAB 'same' with an odd total puts the extra pad after) is
done with ``F.pad`` before the op, as a faithful port has to.
"""
from __future__ import annotations

import math


def same_padding(in_sizes, k, stride, dilation=None) -> tuple:
    """MATLAB 'same': out = ceil(in/s); total = max(0, (out-1)s + (k-1)d + 1 - in); extra pad after."""
    dilation = dilation or (1,) * len(in_sizes)
    pads = []
    for n, kk, s, d in zip(in_sizes, k, stride, dilation):
        out = math.ceil(n / s)
        total = max(0, (out - 1) * s + (kk - 1) * d + 1 - n)
        pads.append((total // 2, total - total // 2))
    return tuple(pads)


def _flat_pad(pad) -> list[int]:
    """((b0, a0), (b1, a1), ...) -> F.pad's (b_last, a_last, ..., b0, a0)."""
    flat = []
    for before, after in reversed(pad):
        flat += [before, after]
    return flat


def _split_padding(functional, x, pad, value=0.0):
    """Return (x, symmetric pad tuple): pads x with F.pad when any dimension is asymmetric."""
    if all(before == after for before, after in pad):
        return x, tuple(before for before, _ in pad)
    if any(before or after for before, after in pad):
        x = functional.pad(x, _flat_pad(pad), value=value)
    return x, (0,) * len(pad)


def conv(torch, x, w, b, stride, pad, dilation=None):
    """conv2d/conv3d (by w.ndim) with MATLAB (before, after) padding per spatial dim."""
    functional = torch.nn.functional
    x, symmetric = _split_padding(functional, x, pad)
    op = functional.conv3d if w.ndim == 5 else functional.conv2d
    return op(x, w, b, stride=tuple(stride), padding=symmetric,
              dilation=tuple(dilation or (1,) * len(stride)))


def max_pool(torch, x, pool, stride, pad):
    """Max pooling; padding is -inf so it never wins (MATLAB semantics)."""
    functional = torch.nn.functional
    x, symmetric = _split_padding(functional, x, pad, value=-math.inf)
    op = functional.max_pool3d if x.ndim == 5 else functional.max_pool2d
    if any(symmetric):  # torch pads max-pool with -inf itself
        return op(x, tuple(pool), tuple(stride), padding=symmetric)
    return op(x, tuple(pool), tuple(stride))


def avg_pool(torch, x, pool, stride, pad):
    """Average pooling with zero padding counted in the divisor (MATLAB PaddingValue 0)."""
    functional = torch.nn.functional
    x, symmetric = _split_padding(functional, x, pad)
    op = functional.avg_pool3d if x.ndim == 5 else functional.avg_pool2d
    return op(x, tuple(pool), tuple(stride), padding=symmetric, count_include_pad=True)
