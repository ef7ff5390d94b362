"""``Plots="training-progress"``: the figure kept up to date while trainNetwork runs.

With an on-screen matplotlib backend the figure is a window redrawn live; otherwise (no display,
notebooks) it is written to ``training-progress.png`` in CheckpointPath or the working folder,
during training and once more at the end. Redraws are throttled by their own cost: the next one
waits at least ``COST_RATIO`` times as long as the last took (and ``MIN_INTERVAL_S``), so drawing
stays near 1% of the training time; without a window, matplotlib is imported and the figure
built on a background thread while the first iterations run.
"""
from __future__ import annotations

import os
import sys
import threading
import time
import warnings
from typing import Any, Callable

from ..layers.errors import MException
from . import backend
from .files import write_atomically
from .progress_figure import ProgressFigure, ProgressRecord, new_figure

__all__ = ["TrainingProgressMonitor", "TrainingProgressPlot", "show_progress"]

FILE_NAME = "training-progress.png"
COST_RATIO = 100.0
MIN_INTERVAL_S = {"window": 1.0, "file": 60.0}
PNG_OPTIONS = {"compress_level": 1}      # fast encoding; the file is rewritten often


class TrainingProgressPlot:
    """Handle of a training-progress figure: ``figure`` (matplotlib) and ``record``."""

    def __init__(self, view: ProgressFigure, record: ProgressRecord):
        self.figure, self.record, self._view = view.figure, record, view

    def __repr__(self) -> str:
        return f"TrainingProgressPlot ({self.record.iteration} iterations)"


def show_progress(record: ProgressRecord, func: str = "plot") -> TrainingProgressPlot:
    """Draw ``record`` in a new pyplot figure (a window, or inline in a notebook)."""
    plt = backend.pyplot(func)
    view = new_figure(record, managed=True, pyplot=plt)
    return TrainingProgressPlot(view, record)


def _show_in_notebook(figure: Any) -> None:
    """Display ``figure`` in the output cell when running in a Jupyter kernel."""
    ipython = sys.modules.get("IPython")
    shell = getattr(ipython, "get_ipython", lambda: None)()
    if shell is None or not hasattr(shell, "kernel"):
        return
    display = getattr(sys.modules.get("IPython.display"), "display", None)
    if display is not None:
        display(figure)


def _check_folder(folder: str, func: str) -> str:
    path = os.path.abspath(os.path.join(folder, FILE_NAME))
    if not os.path.isdir(folder) or not os.access(folder, os.W_OK | os.X_OK):
        raise MException(f"layergraph:{func}:CannotWriteFile",
                         f"Plots='training-progress' writes '{path}', but the folder '{folder}' is "
                         f"not a writable folder. Set CheckpointPath to a writable folder or change "
                         f"the working folder. Received: folder='{folder}'.")
    return path


class TrainingProgressMonitor:
    """Created before training (fails early: no matplotlib, unwritable folder); ``tick`` per
    iteration, ``finish`` at the end."""

    def __init__(self, folder: str, say: Callable[[str], None], func: str = "trainNetwork"):
        backend.check_matplotlib(func)
        self.mode = "file" if backend.draws_to_files_without_import() else "window"
        self._prepared: dict[str, Any] = {}
        self._preparing: threading.Thread | None = None
        self.func, self.say, self.folder = func, say, folder
        self.path = _check_folder(folder, func) if self.mode == "file" else None
        self.view: ProgressFigure | None = None
        self.last_end = time.perf_counter()
        self.last_cost = 0.0
        self.drawing_seconds = 0.0       # total time spent drawing and writing
        self.draws = 0
        self.write_failed = False
        if self.path:
            say(f"Training progress figure: {self.path} (updated during training)")

    def start(self, record: ProgressRecord) -> None:
        """Training begins: without a window, import matplotlib and build the figure on a
        background thread, so that work overlaps the first iterations."""
        if self.mode != "file":
            return

        def prepare() -> None:
            try:
                view = new_figure(record, managed=False)
                view.figure.canvas.draw()            # loads the fonts once
                self._prepared["view"] = view
            except Exception as err:  # noqa: BLE001 - reported by the first draw instead
                self._prepared["error"] = err
        self._preparing = threading.Thread(target=prepare, name="layergraph-progress-figure",
                                           daemon=True)
        self._preparing.start()

    def due(self) -> bool:
        """Whether a redraw is allowed now."""
        if self.view is None and self.mode == "window":
            return True
        wait = max(MIN_INTERVAL_S[self.mode], COST_RATIO * self.last_cost)
        return time.perf_counter() - self.last_end >= wait

    def tick(self, record: Callable[[], ProgressRecord]) -> None:
        """Redraw from ``record()`` when due (``record`` is called only then)."""
        if self.due():
            self._draw(record())

    def finish(self, record: ProgressRecord) -> None:
        """The final figure (always drawn; also shown inline in a Jupyter notebook)."""
        self._draw(record)
        if self.mode == "file":
            _show_in_notebook(self.view.figure)

    def _draw(self, record: ProgressRecord) -> None:
        start = time.perf_counter()
        if self.view is None and self._preparing is not None:
            self._preparing.join()
            self.view = self._prepared.get("view")
        if self.view is None and self.mode == "window" and backend.is_file_backend(
                backend.pyplot(self.func).get_backend()):
            self._fall_back_to_file()        # a display, but matplotlib found no GUI toolkit
        if self.view is None:
            plt = backend.pyplot(self.func) if self.mode == "window" else None
            self.view = new_figure(record, managed=self.mode == "window", pyplot=plt)
            if plt is not None:
                plt.show(block=False)
        else:
            self.view.update(record)
        if self.mode == "window":
            self.view.figure.canvas.draw_idle()
            self.view.figure.canvas.flush_events()
        else:
            self._write()
        end = time.perf_counter()
        self.last_cost, self.last_end = end - start, end
        self.drawing_seconds += self.last_cost
        self.draws += 1

    def _fall_back_to_file(self) -> None:
        self.mode = "file"
        try:
            self.path = _check_folder(self.folder, self.func)
            self.say(f"Training progress figure: {self.path} (no window could open)")
        except MException as err:
            self.write_failed = True
            warnings.warn(f"{err.message} The training continues without the figure.", stacklevel=4)

    def _write(self) -> None:
        if self.write_failed:
            return
        figure = self.view.figure
        try:
            write_atomically(self.path, lambda f: figure.savefig(f, format="png", pil_kwargs=PNG_OPTIONS),
                             self.func)
        except MException as err:      # never lose a training run to a picture
            self.write_failed = True
            warnings.warn(f"{err.message} The training continues without the figure.", stacklevel=3)

    @property
    def figure(self) -> Any:
        return None if self.view is None else self.view.figure
