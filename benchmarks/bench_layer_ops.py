"""Benchmark: the U-Net / layer-library ops, ours vs PyTorch (CPU): transposed convolution,
group normalization, leaky ReLU, GELU, global max pooling, pixel cross-entropy.

Shapes are a 3-D U-Net decoder stage (32 -> 16 channels, 16^3 -> 32^3, batch 2; --quick: 8^3).
Ours: layergraph.ops on (C, N, *S); torch: torch.nn.functional on (N, C, *S) with autograd.
"f+b" is forward then backward (input gradient) with a fixed upstream gradient.

    python benchmarks/bench_layer_ops.py [--threads N] [--reps R] [--quick]
"""
from __future__ import annotations

import sys

import _common
from bench_ops import run_case


def cases(np, torch, n: int):
    """(label, input shape (C,N,*S), ours forward, ours backward, torch function)."""
    from layergraph.ops import elementwise, global_pooling, group_norm, segmentation_loss
    from layergraph.ops import transposed_convolution as tconv

    functional = torch.nn.functional
    rng = np.random.default_rng(2)
    w = rng.standard_normal((32, 16, 2, 2, 2), dtype=np.float32) * 0.1
    wt = torch.from_numpy(w)
    up = (32, 2, n, n, n)
    big = (16, 2, 2 * n, 2 * n, 2 * n)
    ones, zeros = np.ones(16, np.float32), np.zeros(16, np.float32)
    labels = rng.integers(0, 16, (2, 2 * n, 2 * n, 2 * n))
    target = (np.arange(16).reshape(-1, 1, 1, 1, 1) == labels).astype(np.float32)
    target_t = torch.from_numpy(np.ascontiguousarray(target.swapaxes(0, 1)))

    def pixel_ce(y):
        return segmentation_loss.pixel_cross_entropy_forward(y, target)

    return [
        (f"transposed conv 2^3 s2 32->16ch {n}^3 N2", up,
         lambda x: tconv.transposed_conv_forward(x, w, None, (2, 2, 2), ((0, 0),) * 3),
         lambda dy, c: tconv.transposed_conv_backward(dy, c, need=(True, False, False))[0],
         lambda t: functional.conv_transpose3d(t, wt, stride=2)),
        (f"group norm 4 groups 16ch {2 * n}^3 N2", big,
         lambda x: group_norm.group_norm_forward(x, ones, zeros, 4, 1e-5),
         lambda dy, c: group_norm.group_norm_backward(dy, c, need=(True, False, False))[0],
         lambda t: functional.group_norm(t, 4, eps=1e-5)),
        (f"leaky relu 16ch {2 * n}^3 N2", big,
         lambda x: elementwise.leaky_relu_forward(x, 0.01), elementwise.leaky_relu_backward,
         lambda t: functional.leaky_relu(t, 0.01)),
        (f"gelu 16ch {2 * n}^3 N2", big, elementwise.gelu_forward, elementwise.gelu_backward,
         functional.gelu),
        (f"global max pool 16ch {2 * n}^3 N2", big, global_pooling.global_max_pool_forward,
         global_pooling.global_max_pool_backward, lambda t: torch.amax(t, dim=(2, 3, 4),
                                                                       keepdim=True)),
        (f"pixel cross-entropy 16 classes {2 * n}^3 N2", big, pixel_ce,
         lambda dy, c: segmentation_loss.pixel_cross_entropy_backward(c) * dy,
         lambda t: -(target_t * torch.log(torch.clamp(t, min=2.0 ** -23))).sum()
         / float(target.sum())),
    ]


def main(argv=None) -> int:
    args = _common.base_parser(__doc__.splitlines()[0]).parse_args(argv)
    _common.setup(args)
    import numpy as np
    import torch

    _common.pin_torch_threads(torch, args.threads)
    print(_common.machine_line(args.threads))
    rows = []
    for label, shape, fwd, bwd, torch_fn in cases(np, torch, 8 if args.quick else 16):
        positive = "cross-entropy" in label
        rows.append(run_case(np, torch, label, shape, fwd, bwd, torch_fn, args.reps,
                             positive=positive))
    print(_common.format_table(["op", "fwd ours ms", "fwd torch ms", "fwd ratio", "f+b ours ms",
                                "f+b torch ms", "f+b ratio", "max abs diff"], rows))
    print("# ratio = median ours / median torch (>1: ours slower)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
