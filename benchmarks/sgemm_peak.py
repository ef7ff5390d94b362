"""Measured float32 GEMM peak of this machine: numpy (BLAS) and torch on the same threads.

The conv benchmark reports its throughput as a fraction of the numpy figure.

    python benchmarks/sgemm_peak.py [--threads N]
"""
from __future__ import annotations

import sys

import _common


def torch_sgemm_gflops(torch, n: int = 2048, reps: int = 5) -> float:
    """Best GFLOP/s of an (n x n) @ (n x n) float32 torch.mm on the CPU."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    out = torch.mm(a, b)
    best = float("inf")
    for _ in range(reps):
        start = _common.clock()
        torch.mm(a, b, out=out)
        best = min(best, _common.clock() - start)
    return 2.0 * n ** 3 / best / 1e9


def main(argv=None) -> int:
    args = _common.base_parser(__doc__.splitlines()[0]).parse_args(argv)
    _common.setup(args)
    import numpy as np
    import torch

    _common.pin_torch_threads(torch, args.threads)
    print(_common.machine_line(args.threads))
    rows = [["numpy float32 2048^3", _common.sgemm_peak_gflops(np)],
            ["torch float32 2048^3", torch_sgemm_gflops(torch)]]
    print(_common.format_table(["sgemm (best of 5)", "GFLOP/s"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
