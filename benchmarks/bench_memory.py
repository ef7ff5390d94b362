"""Benchmark: peak memory of one training step, ours vs PyTorch (CPU), one process per framework.

Each framework runs in its own subprocess (so peaks never mix) that builds the network of
bench_train, runs one warm-up step (solver state, torch .grad buffers and momentum exist after
it), then measures one more step:

* RSS peak: the kernel's high-water mark (VmHWM) is reset through /proc/self/clear_refs just
  before the step; reported is VmHWM after the step minus VmRSS before it, i.e. the memory the
  step needs on top of what was resident (weights, gradients, momentum, data, libraries).
  Both workers run with MALLOC_MMAP_THRESHOLD_=65536 so large blocks are returned to the
  system when freed and glibc's adaptive threshold does not hide reuse differently per side.
* ours also: the tracemalloc peak of the step (NumPy reports its array buffers to tracemalloc).

    python benchmarks/bench_memory.py [--threads N] [--quick]
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import re
import subprocess
import sys

import _common

MB = 1024.0 ** 2


def main(argv=None) -> int:
    parser = _common.base_parser(__doc__.splitlines()[0])
    parser.add_argument("--worker", choices=["ours", "torch"], help=argparse.SUPPRESS)
    parser.add_argument("--net", default=None, help="network of _train_setup (default small; tiny with --quick)")
    args = parser.parse_args(argv)
    net = args.net or ("tiny" if args.quick else "small")
    if args.worker:
        return _worker(args.worker, net, args.threads)
    print(_common.machine_line(args.threads))
    results = [_spawn(framework, net, args.threads) for framework in ("ours", "torch")]
    ours, theirs = results
    rows = [[r["framework"], r["resident_MB"], r["step_peak_MB"], r.get("traced_peak_MB", "n/a")]
            for r in results]
    print(f"# network '{net}', batch {ours['batch']}: memory of one SGDM training step")
    print(_common.format_table(["framework", "resident before step MB", "step peak above resident MB",
                                "numpy traced peak MB"], rows))
    if min(ours["step_peak_MB"], theirs["step_peak_MB"]) < 1.0:
        print("# step peaks under 1 MB are below what RSS resolves (pages, malloc arenas): no ratio")
    else:
        print(f"# step peak ratio ours/torch: {ours['step_peak_MB'] / theirs['step_peak_MB']:.2f}")
    return 0


def _spawn(framework: str, net: str, threads: int) -> dict:
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536")
    command = [sys.executable, __file__, "--worker", framework, "--net", net, "--threads", str(threads)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"memory worker '{framework}' failed:\n{done.stdout}{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _proc_status_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        return int(re.search(field + r":\s+(\d+)", status.read()).group(1))


def _worker(framework: str, net: str, threads: int) -> int:
    _common.pin_threads(threads)
    import torch

    import _train_setup as setup

    _common.pin_torch_threads(torch, threads)
    lgraph, X, Y, batch = setup.prepare(net, 2 * setup.NETWORKS[net][1])
    trainer = (setup.OursTrainer(lgraph, X, Y, batch) if framework == "ours"
               else setup.TorchTrainer(torch, lgraph, X, Y, batch))
    trainer.step()
    gc.collect()
    resident = _proc_status_kb("VmRSS")
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # reset VmHWM to the current RSS
    trainer.step()
    result = dict(framework=framework, batch=batch, resident_MB=resident * 1024 / MB,
                  step_peak_MB=(_proc_status_kb("VmHWM") - resident) * 1024 / MB)
    if framework == "ours":
        import tracemalloc

        tracemalloc.start()
        trainer.step()
        result["traced_peak_MB"] = tracemalloc.get_traced_memory()[1] / MB
        tracemalloc.stop()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
