"""trainNetwork's verbose table (matlab-behavior.md §5.3) and its training-info record.

The table is 90 characters wide (120 with validation columns): cells of width 9 (Epoch),
13 (Iteration), 16 (Time Elapsed), 14 (each metric) and 17 (Base Learning Rate) between
``|`` bars; headers centred (the odd space goes right), values right-aligned with one
trailing space.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..layers.errors import MException
from ..plotting.progress_monitor import show_progress
from . import schedules

_WIDTHS = {"epoch": 9, "iteration": 13, "time": 16, "metric": 14, "rate": 17}


def _centre(text: str, width: int) -> str:
    left = (width - len(text)) // 2
    return " " * left + text + " " * (width - len(text) - left)


def _cell(text: str, width: int) -> str:
    return f"{text:>{width - 1}} "


def schedule_text(schedule: Any) -> str:
    """LearnRateSchedule as the progress figure names it: 'Constant', 'Piecewise', ..."""
    if isinstance(schedule, str):
        return "Constant" if schedule == "none" else schedule.capitalize()
    return schedules.display_value(schedule)


def format_elapsed(seconds: float) -> str:
    """``hh:mm:ss`` of whole elapsed seconds."""
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def format_learn_rate(lr: float) -> str:
    """``0.0100``, ``0.0003``; at or below 1e-4 ``1.0000e-04`` (as MATLAB's logs show)."""
    return f"{lr:.4e}" if 0 < lr <= 1.000001e-4 else f"{lr:.4f}"


def format_regression_loss(x: float) -> str:
    """MATLAB ``num2str``: max(floor(log10|x|), 0) + 5 significant digits (``561.2``)."""
    if not math.isfinite(x) or x == 0:
        return f"{x:g}"
    digits = max(math.floor(math.log10(abs(x))), 0) + 5
    return f"{x:.{digits}g}"


class VerboseTable:
    """Formats the frame, header and rows of the table for one training run."""

    def __init__(self, classification: bool, validation: bool):
        self.classification = classification
        self.validation = validation
        metric = "Accuracy" if classification else "RMSE"
        cols = [("epoch", "Epoch", ""), ("iteration", "Iteration", ""),
                ("time", "Time Elapsed", "(hh:mm:ss)"), ("metric", "Mini-batch", metric)]
        if validation:
            cols.append(("metric", "Validation", metric))
        cols.append(("metric", "Mini-batch", "Loss"))
        if validation:
            cols.append(("metric", "Validation", "Loss"))
        cols.append(("rate", "Base Learning", "Rate"))
        self._columns = cols
        self.width = 1 + sum(_WIDTHS[kind] + 1 for kind, _, _ in cols)

    def frame(self) -> str:
        """``|====...====|``."""
        return "|" + "=" * (self.width - 2) + "|"

    def header(self) -> str:
        """Frame, two header lines, frame."""
        lines = ["|" + "|".join(_centre(t, _WIDTHS[k]) for k, t, _ in self._columns) + "|",
                 "|" + "|".join(_centre(t, _WIDTHS[k]) for k, _, t in self._columns) + "|"]
        return "\n".join([self.frame(), *lines, self.frame()])

    def _metric(self, value: float | None) -> str:
        if value is None:
            return ""
        return f"{value:.2f}%" if self.classification else f"{value:.2f}"

    def _loss(self, value: float | None) -> str:
        if value is None:
            return ""
        return f"{value:.4f}" if self.classification else format_regression_loss(value)

    def row(self, epoch: int, iteration: int, elapsed: float, metric: float, loss: float,
            learn_rate: float, val_metric: float | None = None,
            val_loss: float | None = None) -> str:
        """One row; validation cells are blank when ``val_*`` is None."""
        texts = [str(epoch), str(iteration), format_elapsed(elapsed), self._metric(metric)]
        if self.validation:
            texts.append(self._metric(val_metric))
        texts.append(self._loss(loss))
        if self.validation:
            texts.append(self._loss(val_loss))
        texts.append(format_learn_rate(learn_rate))
        return "|" + "|".join(_cell(t, _WIDTHS[k]) for t, (k, _, _) in zip(texts, self._columns)) + "|"


class TrainingInfo(dict):
    """MATLAB's training-info struct: a dict whose fields also read as attributes.

    Per-iteration fields are 1-D float arrays (NaN where a value was not computed).
    ``info.plot()`` redraws the training-progress figure of the run (needs matplotlib).
    """

    def plot(self) -> Any:
        """Draw the training-progress figure of this run; returns a handle with ``.figure``."""
        record = self.__dict__.get("_progress_record")
        if record is None:
            raise MException("layergraph:TrainingInfo:NoTrainingProgress",
                             "info.plot() needs the info returned by trainNetwork. Received: a "
                             "TrainingInfo without a training history.")
        return show_progress(record, "plot")

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __repr__(self) -> str:
        rows = []
        width = max(len(k) for k in self) if self else 0
        for key, value in self.items():
            shown = (f"[1x{value.size} double]" if isinstance(value, np.ndarray)
                     else f"{value:.4f}" if isinstance(value, float) else str(value))
            rows.append(f"    {key:>{width}}: {shown}")
        return "\n".join(rows)
