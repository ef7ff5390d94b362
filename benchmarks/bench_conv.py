"""Benchmark: 3-D (and 2-D) convolution forward, and forward+backward (dx, dw), ours vs PyTorch.

Ours: layergraph.ops.convolution conv_forward / conv_backward on the internal layout
x (C, N, *S), w (F, C, *K). Theirs: torch.nn.functional.conv3d (conv2d) with autograd on (N, C, *S).
Same data, same float32, same threads, paired repetitions (see _common). Throughput is printed
beside this process's measured sgemm peak (numpy float32 2048^3 matmul on the same threads).

    python benchmarks/bench_conv.py [--threads N] [--reps R] [--quick]
"""
from __future__ import annotations

import sys

import _common
from _torch_ops import conv as torch_conv, same_padding

# (label, C, F, kernel, stride, volume, batch[, spatial dims = 3]): ResNet shapes, 'same' padding
CASES = [
    ("3x3x3 s1 16->16 32^3 N8", 16, 16, 3, 1, 32, 8),
    ("3x3x3 s1 32->32 16^3 N8", 32, 32, 3, 1, 16, 8),
    ("3x3x3 s1 64->64 16^3 N4", 64, 64, 3, 1, 16, 4),
    ("3x3x3 s2 64->128 16^3 N4", 64, 128, 3, 2, 16, 4),
    ("3x3x3 s1 128->128 8^3 N8", 128, 128, 3, 1, 8, 8),
    ("3x3x3 s1 256->256 8^3 N2", 256, 256, 3, 1, 8, 2),
    # a medical-size volume: one observation's columns span many cache-sized tiles
    ("3x3x3 s1 32->32 64^3 N2", 32, 32, 3, 1, 64, 2),
    ("1x1x1 s1 64->256 16^3 N4", 64, 256, 1, 1, 16, 4),
    ("1x1x1 s2 128->256 16^3 N4", 128, 256, 1, 2, 16, 4),
    # 2-D (resnetLayers): the 7x7 stem and 3x3 convs of the first and last stages
    ("7x7 s2 3->64 224^2 N2", 3, 64, 7, 2, 224, 2, 2),
    ("3x3 s1 64->64 56^2 N8", 64, 64, 3, 1, 56, 8, 2),
    ("3x3 s1 512->512 7^2 N8", 512, 512, 3, 1, 7, 8, 2),
]
QUICK_CASES = [
    ("3x3x3 s1 8->8 8^3 N2", 8, 8, 3, 1, 8, 2),
    ("3x3x3 s2 8->16 8^3 N2", 8, 16, 3, 2, 8, 2),
    ("1x1x1 s1 16->32 8^3 N2", 16, 32, 1, 1, 8, 2),
    ("3x3 s1 8->8 16^2 N2", 8, 8, 3, 1, 16, 2, 2),
]


def main(argv=None) -> int:
    args = _common.base_parser(__doc__.splitlines()[0]).parse_args(argv)
    _common.setup(args)
    import numpy as np
    import torch

    _common.pin_torch_threads(torch, args.threads)
    from layergraph.ops import convolution as conv_ops

    print(_common.machine_line(args.threads))
    peak_before = _common.sgemm_peak_gflops(np)
    rows = [run_case(np, torch, conv_ops, case, args.reps)
            for case in (QUICK_CASES if args.quick else CASES)]
    peak_after = _common.sgemm_peak_gflops(np)
    peak = max(peak_before, peak_after)  # the less disturbed of two measurements
    print(f"# sgemm peak (numpy float32 2048^3, best of 5, before/after the cases): "
          f"{peak_before:.1f} / {peak_after:.1f} GFLOP/s; % of peak uses {peak:.1f}")
    for row in rows:
        row[9:9] = [f"{100 * row[7] / peak:.0f}%", f"{100 * row[8] / peak:.0f}%"]
    print(_common.format_table(
        ["case", "fwd ours ms", "fwd torch ms", "fwd ratio", "f+b ours ms", "f+b torch ms",
         "f+b ratio", "ours GF/s", "torch GF/s", "ours %peak", "torch %peak", "max rel err"],
        rows))
    print("# ratio = median ours / median torch (>1: ours slower); GF/s and %peak are for f+b"
          " (3x the forward FLOPs: y, dx, dw)")
    return 0


def conv_problem(np, case):
    """NumPy data of one case: x (C,N,*S), w (F,C,*K), b (F,), dy (F,N,*O); stride; pad."""
    _, c, f, k, s, vol, n = case[:7]
    nd = dims(case)
    kernel, stride = (k,) * nd, (s,) * nd
    pad = same_padding((vol,) * nd, kernel, stride)
    out = (-(-vol // s),) * nd  # 'same': ceil(in / stride)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((c, n) + (vol,) * nd, dtype=np.float32)
    w = rng.standard_normal((f, c) + kernel, dtype=np.float32) * np.float32(1 / np.sqrt(c * k ** nd))
    b = np.zeros(f, dtype=np.float32)
    dy = rng.standard_normal((f, n) + out, dtype=np.float32)
    return x, w, b, dy, stride, pad


def dims(case) -> int:
    """Spatial dimensions of a case (3 unless given)."""
    return case[7] if len(case) > 7 else 3


def forward_flops(case) -> float:
    """Multiply-adds x 2 of the forward convolution (backward dx + dw is twice this)."""
    _, c, f, k, s, vol, n = case[:7]
    nd = dims(case)
    return 2.0 * f * c * k ** nd * n * (-(-vol // s)) ** nd


def torch_layout(np, a):
    """(C, N, *S) -> contiguous (N, C, *S)."""
    return np.ascontiguousarray(a.swapaxes(0, 1))


def run_case(np, torch, conv_ops, case, reps):
    """Time one shape; returns a table row (without the % of peak columns)."""
    x, w, b, dy, stride, pad = conv_problem(np, case)
    dilation = (1,) * dims(case)
    xt = torch.from_numpy(torch_layout(np, x)).requires_grad_(True)
    wt = torch.from_numpy(w.copy()).requires_grad_(True)
    bt = torch.from_numpy(b.copy())
    dyt = torch.from_numpy(torch_layout(np, dy))
    y, _ = conv_ops.conv_forward(x, w, b, stride, pad, dilation)
    with torch.no_grad():
        yt = torch_conv(torch, xt, wt, bt, stride, pad).numpy()
    rel_err = float(np.abs(torch_layout(np, y) - yt).max() / np.abs(yt).max())

    def ours_forward():
        conv_ops.conv_forward(x, w, b, stride, pad, dilation)

    def torch_forward():
        with torch.no_grad():
            torch_conv(torch, xt, wt, bt, stride, pad)

    def ours_train():
        _, cache = conv_ops.conv_forward(x, w, b, stride, pad, dilation)
        conv_ops.conv_backward(dy, cache, need=(True, True, False))

    def torch_train():
        xt.grad = wt.grad = None
        torch_conv(torch, xt, wt, bt, stride, pad).backward(dyt)

    fwd_ours, fwd_torch = _common.paired_times(ours_forward, torch_forward, reps)
    fb_ours, fb_torch = _common.paired_times(ours_train, torch_train, reps)
    m = {key: _common.median(v) for key, v in
         dict(fo=fwd_ours, ft=fwd_torch, bo=fb_ours, bt=fb_torch).items()}
    flops = 3 * forward_flops(case)
    gf_ours, gf_torch = flops / m["bo"] / 1e9, flops / m["bt"] / 1e9
    return [case[0], 1e3 * m["fo"], 1e3 * m["ft"], m["fo"] / m["ft"], 1e3 * m["bo"], 1e3 * m["bt"],
            m["bo"] / m["bt"], gf_ours, gf_torch, f"{rel_err:.1e}"]


if __name__ == "__main__":
    sys.exit(main())
