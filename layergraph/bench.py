"""``layergraph bench`` / ``make bench``: run the benchmarks of ``benchmarks/`` (ours vs PyTorch).

Each benchmark runs in its own Python process, so its BLAS thread count is set before numpy
loads and its memory peak is its own. PyTorch is needed (``pip install -e ".[test]"``) and the
benchmark scripts live in the source checkout (they are not installed with the package).

    layergraph bench                       # the default CPU set: conv, train, memory
    layergraph bench conv --threads 1      # one benchmark, one thread per framework
    layergraph bench gpu --dry-run         # the GPU benchmark's code path on the CPU
    layergraph bench train --profile       # where a training step's time goes
"""
from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
from pathlib import Path
from typing import Sequence

from .layers.errors import MException

__all__: list[str] = []

BENCHMARKS = {
    "sgemm": "sgemm_peak.py",
    "conv": "bench_conv.py",
    "ops": "bench_ops.py",
    "layerops": "bench_layer_ops.py",
    "train": "bench_train.py",
    "memory": "bench_memory.py",
    "gpu": "bench_gpu.py",
}
DEFAULT_SET = ("conv", "train", "memory")
BENCHMARK_FOLDER = Path(__file__).resolve().parents[1] / "benchmarks"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the selected benchmarks; returns the largest exit status of their processes."""
    parser = _parser()
    args = parser.parse_args(argv)
    selected = args.which or list(DEFAULT_SET)
    unknown = [name for name in selected if name not in BENCHMARKS and name != "all"]
    if unknown:  # checked here: argparse rejects an empty nargs="*" list that has choices
        parser.error(f"unknown benchmark {unknown[0]!r}; choose from {', '.join([*BENCHMARKS, 'all'])}")
    if "all" in selected:
        selected = [name for name in BENCHMARKS if name != "gpu"]
    _check_environment()
    status = 0
    for name in selected:
        print(f"\n=== layergraph bench {name} ===", flush=True)
        command = [sys.executable, str(BENCHMARK_FOLDER / BENCHMARKS[name])] + _forwarded(args, name)
        status = max(status, subprocess.run(command, check=False).returncode)
    return status


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="layergraph bench",
        description="Benchmarks against PyTorch: paired medians, same threads, same data.")
    parser.add_argument("which", nargs="*",
                        help=f"benchmarks to run: {', '.join(BENCHMARKS)}, or all (every CPU "
                             f"benchmark); default: {' '.join(DEFAULT_SET)}")
    parser.add_argument("--threads", type=int, help="threads per framework (default: all cores)")
    parser.add_argument("--reps", type=int, help="paired repetitions per case")
    parser.add_argument("--quick", action="store_true", help="small cases (smoke run)")
    parser.add_argument("--clock", choices=["wall", "cpu"],
                        help="CPU benchmarks: wall clock (default) or process CPU time (with --threads 1)")
    parser.add_argument("--dry-run", action="store_true",
                        help="gpu only: run the GPU benchmark's code on the CPU with tiny shapes")
    parser.add_argument("--profile", action="store_true",
                        help="train only: print a cProfile summary of the training step")
    return parser


def _forwarded(args: argparse.Namespace, name: str) -> list[str]:
    """The options each benchmark script receives."""
    out = [] if args.threads is None else ["--threads", str(args.threads)]
    out += [] if args.reps is None else ["--reps", str(args.reps)]
    out += ["--quick"] if args.quick else []
    out += ["--clock", args.clock] if args.clock and name != "gpu" else []
    out += ["--profile"] if args.profile and name == "train" else []
    return out + (["--dry-run"] if args.dry_run and name == "gpu" else [])


def _check_environment() -> None:
    if not BENCHMARK_FOLDER.is_dir():
        raise MException("layergraph:bench:NoBenchmarks",
                         f"The benchmark scripts are not installed with the package; run from a source "
                         f"checkout. Received: no folder {BENCHMARK_FOLDER}.")
    if importlib.util.find_spec("torch") is None:
        raise MException("layergraph:bench:NoTorch",
                         "The benchmarks compare against PyTorch, which is not installed. Install the "
                         "test extras: pip install -e \".[test]\". Received: no module 'torch'.")
