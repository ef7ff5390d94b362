"""Benchmark: the pictures — layout, plot(lgraph), the analyzer page, and the cost of
Plots="training-progress" during trainNetwork.

* layout / plot / page: ResNet-50 3-D (177 layers) and ResNet-101 3-D (347 layers) from
  resnet3dLayers; median of ``--reps`` runs after one warm-up (matplotlib already imported).
  There is no peer in this environment (no Graphviz); the target is "well under 2 s" for the
  347-layer plot (layout + drawing + SVG file).
* training progress: the same trainNetwork run (a small 3-D ResNet on syntheticShapes3d,
  ``--epochs`` epochs of 8 iterations, headless, so the figure is written to
  training-progress.png) with Plots="none" and Plots="training-progress", alternated, each in a
  fresh process (matplotlib's import counts); the peer is the run without plots. The monitor's own
  clock (time the training thread spent drawing and writing) is reported too: it is the overhead
  without the machine's noise. Target: <= 2% of the training time.

    python benchmarks/bench_plots.py [--threads N] [--reps R] [--epochs E] [--quick]
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

import _common


def main() -> None:
    parser = _common.base_parser(__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=12, help="epochs of the training run")
    args = parser.parse_args()
    _common.setup(args)
    reps = 1 if args.quick else args.reps
    import numpy as np

    import layergraph as lg
    from layergraph.plotting.layout import layer_graph_layout

    print(_common.machine_line(args.threads))
    graphs = {"ResNet-50 3-D": lg.resnet3dLayers([224, 224, 64, 3], 10),
              "ResNet-101 3-D": lg.resnet3dLayers([224, 224, 64, 3], 10, StackDepth=[3, 4, 23, 3],
                                                  NumFilters=[64, 128, 256, 512])}
    t0 = time.perf_counter()
    import matplotlib.pyplot as plt
    print(f"matplotlib import: {time.perf_counter() - t0:.2f} s (once per process)")
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name, lgraph in graphs.items():
            def plot_to_svg():
                h = lg.plot(lgraph)
                h.figure.savefig(os.path.join(folder, "net.svg"))
                plt.close(h.figure)

            def page():
                lg.analyzeNetwork(lgraph, Plots="none").to_html(os.path.join(folder, "net.html"))

            for label, fn in (("layout", lambda: layer_graph_layout(lgraph)),
                              ("plot + SVG file", plot_to_svg), ("analyzeNetwork + page", page)):
                fn()
                times = []
                for _ in range(reps):
                    t = time.perf_counter()
                    fn()
                    times.append(time.perf_counter() - t)
                rows.append([name, len(lgraph.Layers), label, f"{_common.median(times):.3f}", "-", "-"])
    print(_common.format_table(["network", "layers", "job", "ours (s)", "peer (s)", "ratio"], rows))

    results = {"none": [], "training-progress": []}
    stats = []
    with tempfile.TemporaryDirectory() as folder:
        for rep in range(reps):
            order = ("none", "training-progress") if rep % 2 == 0 else ("training-progress", "none")
            for plots in order:          # a fresh process each: matplotlib's import is counted
                proc = subprocess.run([sys.executable, "-c", CHILD, plots, str(args.epochs)],
                                      capture_output=True, text=True, cwd=folder, check=True)
                run = json.loads(proc.stdout.strip().splitlines()[-1])
                results[plots].append(run["wall"])
                if plots != "none":
                    stats.append(run)
    base, with_plots = _common.median(results["none"]), _common.median(results["training-progress"])
    drawing = _common.median([r["drawing"] for r in stats])
    draws = int(np.median([r["draws"] for r in stats]))
    print(_common.format_table(
        ["trainNetwork run", "Plots='none' (s)", "'training-progress' (s)", "ratio", "drawing (s)",
         "redraws", "drawing / training"],
        [[f"{args.epochs} epochs x 8 iterations", f"{base:.2f}", f"{with_plots:.2f}",
          f"{with_plots / base:.3f}", f"{drawing:.2f}", draws, f"{100 * drawing / with_plots:.2f}%"]]))


CHILD = """
import json, sys, time
import layergraph as lg
from layergraph.plotting import progress_monitor
plots, epochs = sys.argv[1], int(sys.argv[2])
monitors = []
original = progress_monitor.TrainingProgressMonitor.__init__
def recording_init(self, *a, **k):
    original(self, *a, **k)
    monitors.append(self)
progress_monitor.TrainingProgressMonitor.__init__ = recording_init
X, Y = lg.syntheticShapes3d(64, volumeSize=16, seed=1)
lgraph = lg.resnet3dLayers([16, 16, 16, 1], 4, StackDepth=[1, 1], NumFilters=[8, 16])
opts = lg.trainingOptions("sgdm", MaxEpochs=epochs, MiniBatchSize=8, Plots=plots, Verbose=False)
lg.rng(0)
t = time.perf_counter()
lg.trainNetwork(X, Y, lgraph, opts)
wall = time.perf_counter() - t
m = monitors[0] if monitors else None
print(json.dumps({"wall": wall, "drawing": m.drawing_seconds if m else 0.0,
                  "draws": m.draws if m else 0, "imported": "matplotlib" in sys.modules}))
"""


if __name__ == "__main__":
    sys.exit(main())
