"""Benchmark: the non-convolution ops of a 3-D ResNet step, ours vs PyTorch (CPU).

Shapes are those of bench_train's 'small' network (16 channels, batch 8, 32^3 before the
initial pooling). Ours: layergraph.ops on (C, N, *S); torch: torch.nn.functional on (N, C, *S)
with autograd. "f+b" is forward then backward with a fixed upstream gradient.

    python benchmarks/bench_ops.py [--threads N] [--reps R] [--quick]
"""
from __future__ import annotations

import sys

import _common
import _torch_ops


def cases(ops, torch, n: int):
    """(label, input shape (C,N,*S), ours forward, ours backward, torch function); volume n^3."""
    functional = torch.nn.functional
    pool, stride = (3, 3, 3), (2, 2, 2)
    pad = _torch_ops.same_padding((n, n, n), pool, stride)
    big, small = (16, 8, n, n, n), (32, 8) + (n // 4,) * 3
    return [
        (f"max pool 3x3x3 s2 'same' 16ch {n}^3 N8", big,
         lambda x: ops.pooling.max_pool_forward(x, pool, stride, pad),
         ops.pooling.max_pool_backward,
         lambda t: _torch_ops.max_pool(torch, t, pool, stride, pad)),
        (f"avg pool 3x3x3 s2 'same' 16ch {n}^3 N8", big,
         lambda x: ops.pooling.avg_pool_forward(x, pool, stride, pad),
         ops.pooling.avg_pool_backward,
         lambda t: _torch_ops.avg_pool(torch, t, pool, stride, pad)),
        (f"batch norm (training) 16ch {n}^3 N8", big,
         lambda x: _bn_forward(ops, x),
         lambda dy, cache: ops.batchnorm.batchnorm_backward(dy, cache)[0],
         lambda t: functional.batch_norm(t, None, None, torch.ones(t.shape[1]),
                                         torch.zeros(t.shape[1]), training=True, eps=1e-5)),
        (f"relu 16ch {n}^3 N8", big, ops.activation.relu_forward,
         ops.activation.relu_backward, functional.relu),
        (f"global avg pool 32ch {n // 4}^3 N8", small, ops.pooling.global_avg_pool_forward,
         ops.pooling.global_avg_pool_backward, lambda t: t.mean(dim=(2, 3, 4), keepdim=True)),
    ]


def _bn_forward(ops, x):
    """Training-mode batch norm with unit scale and zero offset; returns (y, cache)."""
    import numpy as np

    channels = x.shape[0]
    y, cache, _ = ops.batchnorm.batchnorm_forward(
        x, np.ones(channels, np.float32), np.zeros(channels, np.float32), 1e-5, True)
    return y, cache


def main(argv=None) -> int:
    args = _common.base_parser(__doc__.splitlines()[0]).parse_args(argv)
    _common.setup(args)
    import numpy as np
    import torch

    from layergraph import ops
    from layergraph.ops import activation, batchnorm, pooling  # noqa: F401 (loads ops.<module>)

    _common.pin_torch_threads(torch, args.threads)
    print(_common.machine_line(args.threads))
    rows = []
    for label, shape, ours_fwd, ours_bwd, torch_fn in cases(ops, torch, 8 if args.quick else 32):
        rows.append(run_case(np, torch, label, shape, ours_fwd, ours_bwd, torch_fn, args.reps))
    print(_common.format_table(["op", "fwd ours ms", "fwd torch ms", "fwd ratio", "f+b ours ms",
                                "f+b torch ms", "f+b ratio", "max abs diff"], rows))
    print("# ratio = median ours / median torch (>1: ours slower)")
    return 0


def run_case(np, torch, label, shape, ours_fwd, ours_bwd, torch_fn, reps, positive=False):
    """Time one op; ``positive``: inputs uniform in (0, 1] (scores of a loss) instead of normal."""
    g = np.random.default_rng(0)
    x = g.uniform(1e-3, 1, shape).astype(np.float32) if positive else \
        g.standard_normal(shape, dtype=np.float32)
    y, cache = ours_fwd(x)
    dy = np.random.default_rng(1).standard_normal(y.shape, dtype=np.float32)
    xt = torch.from_numpy(np.ascontiguousarray(x.swapaxes(0, 1))).requires_grad_(True)
    dyt = torch.from_numpy(np.array(dy) if np.ndim(dy) == 0 else
                           np.ascontiguousarray(dy.swapaxes(0, 1)))
    with torch.no_grad():
        theirs = torch_fn(xt).numpy()
        ours = y if np.ndim(y) == 0 else y.swapaxes(0, 1)
        diff = float(np.abs(ours - theirs).max())

    def ours_train():
        ours_bwd(dy, ours_fwd(x)[1])

    def torch_forward():
        with torch.no_grad():
            torch_fn(xt)

    def torch_train():
        xt.grad = None
        torch_fn(xt).backward(dyt)

    fwd = _common.paired_times(lambda: ours_fwd(x), torch_forward, reps)
    both = _common.paired_times(ours_train, torch_train, reps)
    (fo, ft), (bo, bt) = ([_common.median(v) for v in pair] for pair in (fwd, both))
    return [label, 1e3 * fo, 1e3 * ft, fo / ft, 1e3 * bo, 1e3 * bt, bo / bt, f"{diff:.1e}"]


if __name__ == "__main__":
    sys.exit(main())
