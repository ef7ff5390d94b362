"""MATLAB's training-progress figure, drawn with matplotlib from a :class:`ProgressRecord`.

Two panels sharing the iteration axis: accuracy (%) or RMSE on top, loss below; each shows the
raw mini-batch curve (light), its smoothed version (dark), the validation points (black,
dashed, circles) and the final validation (a hollow circle at the last iteration); epochs are alternately shaded. A side text gives the training time, the
training cycle, validation frequency, hardware and learning rate, as MATLAB's panel does.
"""
from __future__ import annotations

import dataclasses
import datetime
import textwrap
from typing import Any

import numpy as np

SMOOTHING = 0.6                      # exponential smoothing factor (debiased)
FIGURE_INCHES = (12.0, 6.5)
DPI = 100
COLOURS = {"metric": ("#9ecae1", "#0072BD"), "loss": ("#f5b28c", "#D95319")}
EPOCH_SHADE = "#eef0f3"
MAX_SHADED_EPOCHS = 200             # beyond, bands would be thinner than a pixel
SIDE_TEXT_WIDTH = 34                 # characters per line of the side panel


@dataclasses.dataclass
class ProgressRecord:
    """What the figure shows. Per-iteration arrays have one entry per iteration run (NaN where
    a value was not computed, e.g. validation)."""

    classification: bool
    max_epochs: int
    iterations_per_epoch: int
    loss: np.ndarray
    metric: np.ndarray
    val_loss: np.ndarray
    val_metric: np.ndarray
    learn_rate: np.ndarray
    start_time: float                # seconds since the epoch (time.time())
    elapsed: float                   # seconds of training so far
    epoch: int
    hardware: str = "single CPU"
    schedule: str = "Constant"       # the learning-rate schedule, as the side text names it
    validation_frequency: int | None = None
    status: str = "Training"         # "Training" or "Training finished: <reason>"
    final_validation: tuple[float, float] | None = None     # (loss, metric) at the end

    @property
    def iteration(self) -> int:
        return int(len(self.loss))

    @property
    def max_iterations(self) -> int:
        return self.max_epochs * self.iterations_per_epoch


class Smoother:
    """Debiased exponential moving average, extended incrementally; NaN entries stay NaN."""

    def __init__(self, factor: float = SMOOTHING):
        self.factor, self.average, self.weight = factor, 0.0, 0.0
        self.values: list[float] = []

    def extend(self, values: np.ndarray) -> np.ndarray:
        """Smoothed ``values`` (the whole series so far; only new entries are computed)."""
        f = self.factor
        for v in np.asarray(values, dtype=float)[len(self.values):].tolist():
            if v == v and abs(v) != float("inf"):
                self.average = f * self.average + (1 - f) * v
                self.weight = f * self.weight + (1 - f)
                self.values.append(self.average / self.weight)
            else:
                self.values.append(float("nan"))
        return np.array(self.values[:len(values)])


def smooth(values: np.ndarray, factor: float = SMOOTHING) -> np.ndarray:
    """Debiased exponential moving average of a whole series (NaN entries stay NaN)."""
    return Smoother(factor).extend(values)


def _elapsed_text(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600} hr {s % 3600 // 60} min {s % 60} sec" if s >= 3600 else f"{s // 60} min {s % 60} sec"


def side_text(r: ProgressRecord) -> str:
    """MATLAB's side panel, as lines of text."""
    metric = "accuracy" if r.classification else "RMSE"
    unit = "%" if r.classification else ""
    lines = ["Results"]
    if r.final_validation is not None and np.isfinite(r.final_validation[1]):
        lines.append(f"  Validation {metric}: {r.final_validation[1]:.2f}{unit}")
    lines += ["  " + part for part in textwrap.wrap(r.status, SIDE_TEXT_WIDTH)]
    start = datetime.datetime.fromtimestamp(r.start_time).strftime("%d-%b-%Y %H:%M:%S")
    lr = r.learn_rate[-1] if len(r.learn_rate) else float("nan")
    lines += ["", "Training Time", f"  Start time: {start}",
              f"  Elapsed time: {_elapsed_text(r.elapsed)}", "",
              "Training Cycle", f"  Epoch: {r.epoch} of {r.max_epochs}",
              f"  Iteration: {r.iteration} of {r.max_iterations}",
              f"  Iterations per epoch: {r.iterations_per_epoch}",
              f"  Maximum iterations: {r.max_iterations}", "",
              "Validation",
              f"  Frequency: {r.validation_frequency} iterations" if r.validation_frequency
              else "  Frequency: N/A", "",
              "Other Information", f"  Hardware resource: {r.hardware}",
              f"  Learning rate schedule: {r.schedule}",
              f"  Learning rate: {lr:.4g}"]
    return "\n".join(lines)


class ProgressFigure:
    """The figure and its artists; :meth:`update` sets new data (no new artists per call)."""

    def __init__(self, figure: Any, record: ProgressRecord):
        self.figure = figure
        grid = figure.add_gridspec(2, 2, width_ratios=(2.9, 1), left=0.07, right=0.98,
                                   top=0.9, bottom=0.16, hspace=0.12, wspace=0.05)
        self.axes = {"metric": figure.add_subplot(grid[0, 0]), "loss": None}
        self.axes["loss"] = figure.add_subplot(grid[1, 0], sharex=self.axes["metric"])
        self.title = figure.suptitle("Training Progress", x=0.07, ha="left", fontsize=13)
        side = figure.add_subplot(grid[:, 1])
        side.set_axis_off()
        self.text = side.text(0.02, 1.0, "", va="top", ha="left", fontsize=8.5,
                              family="monospace", transform=side.transAxes)
        self.lines: dict[str, Any] = {}
        self.smoothers = {"metric": Smoother(), "loss": Smoother()}
        label = {"metric": "Accuracy (%)" if record.classification else "RMSE", "loss": "Loss"}
        span = max(record.max_iterations, 1)
        for key, ax in self.axes.items():
            shaded = range(1, record.max_epochs + 1, 2) if record.max_epochs <= MAX_SHADED_EPOCHS else ()
            for e in shaded:
                ax.axvspan((e - 1) * record.iterations_per_epoch, e * record.iterations_per_epoch,
                           color=EPOCH_SHADE, zorder=0, linewidth=0)
            light, dark = COLOURS[key]
            self.lines[f"{key}_raw"], = ax.plot([], [], color=light, linewidth=0.9, label="Training")
            self.lines[f"{key}_smooth"], = ax.plot([], [], color=dark, linewidth=1.6,
                                                   label="Training (smoothed)")
            self.lines[f"{key}_val"], = ax.plot([], [], "k--o", markersize=4, linewidth=1.0,
                                                markerfacecolor="k", label="Validation")
            self.lines[f"{key}_final"], = ax.plot([], [], "o", markersize=7, color="k",
                                                  markerfacecolor="white", label="Final", clip_on=False)
            ax.set_ylabel(label[key])
            ax.set_xlim(0, span)
            ax.grid(True, color="#d8dbe0", linewidth=0.5)
        self.axes["metric"].tick_params(labelbottom=False)
        self.axes["loss"].set_xlabel("Iteration")
        if record.classification:
            self.axes["metric"].set_ylim(0, 100)
        handles = [self.lines[k] for k in ("metric_smooth", "metric_raw", "metric_val",
                                           "loss_smooth", "loss_raw", "loss_val", "loss_final")]
        figure.legend(handles, [h.get_label() for h in handles], loc="lower left", ncol=7,
                      fontsize=8, frameon=False, bbox_to_anchor=(0.07, 0.0))
        self._top_axis(record)

    def _top_axis(self, r: ProgressRecord) -> None:
        """Epoch numbers above the top panel, centred on their shaded bands."""
        ax = self.axes["metric"].secondary_xaxis("top")
        step = max(1, r.max_epochs // 12)
        ticks = [(e - 0.5) * r.iterations_per_epoch for e in range(1, r.max_epochs + 1, step)]
        ax.set_xticks(ticks, [str(e) for e in range(1, r.max_epochs + 1, step)], fontsize=8)
        ax.tick_params(length=0)
        ax.set_xlabel("Epoch", fontsize=8)

    def update(self, r: ProgressRecord) -> None:
        """Show ``r`` (the whole history so far)."""
        x = np.arange(1, r.iteration + 1)
        for key, raw, val in (("metric", r.metric, r.val_metric), ("loss", r.loss, r.val_loss)):
            self.lines[f"{key}_raw"].set_data(x, raw)
            self.lines[f"{key}_smooth"].set_data(x, self.smoothers[key].extend(raw))
            seen = np.isfinite(val)
            self.lines[f"{key}_val"].set_data(x[seen], np.asarray(val)[seen])
            final = r.final_validation[0 if key == "loss" else 1] if r.final_validation else np.nan
            shown = np.isfinite(final) and r.iteration > 0
            self.lines[f"{key}_final"].set_data([r.iteration] if shown else [], [final] if shown else [])
            ax = self.axes[key]
            if key == "loss" or not r.classification:
                finite = np.concatenate([np.asarray(raw)[np.isfinite(raw)], np.asarray(val)[seen],
                                         [final] if shown else []])
                top = float(finite.max()) if finite.size else 1.0
                ax.set_ylim(0, top * 1.05 if top > 0 else 1.0)
        stamp = datetime.datetime.fromtimestamp(r.start_time).strftime("%d-%b-%Y %H:%M:%S")
        self.title.set_text(f"Training Progress ({stamp})")
        self.text.set_text(side_text(r))


def new_figure(record: ProgressRecord, managed: bool, pyplot: Any = None) -> ProgressFigure:
    """A progress figure: pyplot-managed (windows, notebooks) or a bare Agg figure (files)."""
    if managed:
        fig = pyplot.figure(figsize=FIGURE_INCHES, dpi=DPI)
    else:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=FIGURE_INCHES, dpi=DPI)
        FigureCanvasAgg(fig)
    view = ProgressFigure(fig, record)
    view.update(record)
    return view
