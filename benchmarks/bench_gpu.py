"""GPU benchmark: our CuPy executor vs PyTorch + cuDNN, TF32 off or on (stated in every row).

Stages (same shapes and data on both sides, paired medians with device synchronisation):
* conv: 3-D convolution forward+backward (dx, dw) at GPU-sized ResNet shapes;
* train: one SGDM step of a resnet3dLayers network (Executor + solvers vs the torch twin built
  from the same LayerGraph and weights; a forward and two steps must agree first).
Peak GPU memory of one call: ours = high-water mark of CuPy's memory pool (an allocator hook
records pool.used_bytes() after every allocation), torch = torch.cuda.max_memory_allocated().

TF32 ("--tf32 on"): ours through CUPY_TF32=1 (cuBLAS TF32 compute for float32 GEMMs; CuPy reads
it before its first float32 matmul), torch through fp32_precision = "tf32" for matmul and cuDNN
conv. "--tf32 off" sets both to full float32 (torch's cuDNN conv otherwise defaults to TF32).

    python benchmarks/bench_gpu.py --tf32 off --json off.json   # one run, prints its table
    python benchmarks/bench_gpu.py --summary off.json on.json   # the combined table
    python benchmarks/bench_gpu.py --dry-run                    # NumPy for CuPy, torch CPU, tiny shapes
"""
from __future__ import annotations

import json
import os
import sys

import _common

# (label, C, F, kernel, stride, volume, batch), as bench_conv.CASES
GPU_CASES = [
    ("3x3x3 s1 32->32 64^3 N8", 32, 32, 3, 1, 64, 8),
    ("3x3x3 s1 64->64 32^3 N8", 64, 64, 3, 1, 32, 8),
    ("3x3x3 s2 64->128 32^3 N8", 64, 128, 3, 2, 32, 8),
    ("3x3x3 s1 256->256 8^3 N8", 256, 256, 3, 1, 8, 8),
    ("1x1x1 s1 64->256 32^3 N8", 64, 256, 1, 1, 32, 8),
]
DRY_CASES = [("3x3x3 s1 4->4 8^3 N2", 4, 4, 3, 1, 8, 2), ("1x1x1 s2 4->8 8^3 N2", 4, 8, 1, 2, 8, 2)]
HEADERS = ["stage", "case", "TF32", "ours ms", "torch ms", "ratio", "ours peak MB", "torch peak MB"]


def main(argv=None) -> int:
    parser = _common.base_parser(__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="NumPy in place of CuPy, torch on CPU, tiny shapes")
    parser.add_argument("--tf32", choices=["off", "on"], default="off")
    parser.add_argument("--json", help="also write the rows to this file")
    parser.add_argument("--summary", nargs="+", metavar="JSON", help="print the table of earlier runs and exit")
    args = parser.parse_args(argv)
    if args.clock == "cpu":
        parser.error("--clock cpu cannot time GPU work (kernels run asynchronously); use wall")
    if args.summary:
        rows = [row for path in args.summary for row in json.load(open(path))]
        print(_common.format_table(HEADERS, rows))
        return 0
    os.environ["CUPY_TF32"] = "1" if args.tf32 == "on" else "0"
    _common.setup(args)
    import torch

    _common.pin_torch_threads(torch, args.threads)
    device = Device(torch, args.dry_run, args.tf32)
    print(f"# {device.describe()}")
    rows = [conv_row(device, case, args.reps) for case in (DRY_CASES if args.dry_run else GPU_CASES)]
    rows.append(train_row(device, "tiny" if args.dry_run else "gpu", args.reps))
    print(_common.format_table(HEADERS, rows))
    if args.json:
        with open(args.json, "w") as out:
            json.dump(rows, out)
    return 0


class Device:
    """Ours (CuPy, or NumPy in a dry run) and torch (cuda, or cpu) on one device, with peak meters."""

    def __init__(self, torch, dry_run: bool, tf32: str):
        import numpy as np

        self.torch, self.dry_run, self.tf32 = torch, dry_run, tf32
        precision = "tf32" if tf32 == "on" else "ieee"
        torch.backends.cuda.matmul.fp32_precision = precision
        torch.backends.cudnn.conv.fp32_precision = precision
        if dry_run:
            self.xp, self.ours_device, self.torch_device = np, "cpu", "cpu"
            return
        import cupy

        self.xp, self.ours_device, self.torch_device = cupy, "gpu", "cuda"
        self.pool = cupy.get_default_memory_pool()
        self.peak_bytes = 0
        cupy.cuda.set_allocator(self._tracked_malloc)

    def _tracked_malloc(self, size: int):
        memory = self.pool.malloc(size)
        self.peak_bytes = max(self.peak_bytes, self.pool.used_bytes())
        return memory

    def describe(self) -> str:
        if self.dry_run:
            return "DRY RUN: NumPy in place of CuPy, torch on the CPU, tiny shapes (timings meaningless)"
        name = self.torch.cuda.get_device_name()
        return f"{name}; CuPy {self.xp.__version__}, torch {self.torch.__version__}, TF32 {self.tf32}"

    def sync(self) -> None:
        if not self.dry_run:
            self.xp.cuda.Device().synchronize()
            self.torch.cuda.synchronize()

    def peaks_mb(self, ours_call, torch_call) -> tuple[object, object]:
        """Peak memory of one call of each (MB): ours pool high-water / tracemalloc; torch allocator."""
        if self.dry_run:
            import tracemalloc

            tracemalloc.start()
            ours_call()
            ours = tracemalloc.get_traced_memory()[1] / 2 ** 20
            tracemalloc.stop()
            torch_call()
            return ours, "n/a"
        self.sync()
        self.peak_bytes = self.pool.used_bytes()
        self.torch.cuda.reset_peak_memory_stats()
        ours_call()
        torch_call()
        self.sync()
        return self.peak_bytes / 2 ** 20, self.torch.cuda.max_memory_allocated() / 2 ** 20

    def timed_pair(self, ours_call, torch_call, reps: int) -> tuple[float, float]:
        """Median seconds of each, paired, synchronised after every call."""
        def ours():
            ours_call()
            self.sync()

        def theirs():
            torch_call()
            self.sync()

        ours_s, theirs_s = _common.paired_times(ours, theirs, reps)
        return _common.median(ours_s), _common.median(theirs_s)


def conv_row(device: Device, case, reps: int) -> list:
    """Convolution forward+backward (dx, dw) on the device."""
    import numpy as np

    from bench_conv import conv_problem, torch_layout
    from _torch_ops import conv as torch_conv
    from layergraph.ops import convolution as conv_ops

    torch, xp = device.torch, device.xp
    x, w, b, dy, stride, pad = conv_problem(np, case)
    xd, wd, bd, dyd = (xp.asarray(a) for a in (x, w, b, dy))

    def tensor(a, grad=False):
        return torch.tensor(a, device=device.torch_device).requires_grad_(grad)

    xt, wt, bt, dyt = tensor(torch_layout(np, x), True), tensor(w, True), tensor(b), tensor(torch_layout(np, dy))

    def ours():
        _, cache = conv_ops.conv_forward(xd, wd, bd, stride, pad, (1, 1, 1))
        conv_ops.conv_backward(dyd, cache, need=(True, True, False))

    def theirs():
        xt.grad = wt.grad = None
        torch_conv(torch, xt, wt, bt, stride, pad).backward(dyt)

    ours_s, theirs_s = device.timed_pair(ours, theirs, reps)
    return ["conv f+b", case[0], device.tf32, 1e3 * ours_s, 1e3 * theirs_s, ours_s / theirs_s,
            *device.peaks_mb(ours, theirs)]


def train_row(device: Device, net: str, reps: int) -> list:
    """One SGDM training step of a resnet3dLayers network on the device."""
    import _train_setup as setup

    lgraph, X, Y, batch = setup.prepare(net, 2 * setup.NETWORKS[net][1])
    ours = setup.OursTrainer(lgraph, X, Y, batch, device=device.ours_device)
    theirs = setup.TorchTrainer(device.torch, lgraph, X, Y, batch, device=device.torch_device)
    print(setup.check_agreement(ours, theirs, X, tolerance=2e-2 if device.tf32 == "on" else 1e-3))
    ours_s, theirs_s = device.timed_pair(ours.step, theirs.step, reps)
    shape = "x".join(map(str, X.shape[:-2]))
    return ["train step", f"resnet3d '{net}' {shape} N{batch}", device.tf32, 1e3 * ours_s,
            1e3 * theirs_s, ours_s / theirs_s, *device.peaks_mb(ours.step, theirs.step)]


if __name__ == "__main__":
    sys.exit(main())
