"""matplotlib, imported lazily: the ``plot`` extra is optional (``pip install layergraph[plot]``)."""
from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from typing import Any

from ..layers.errors import MException

# Backends that draw to files or inline images: figures are sized to fit every label.
_FILE_BACKENDS = ("agg", "svg", "pdf", "ps", "pgf", "cairo", "template", "module://matplotlib_inline")


def _missing(func: str) -> MException:
    return MException(f"layergraph:{func}:MatplotlibMissing",
                      f"{func} draws with matplotlib, which is not installed. Install it with "
                      "`pip install layergraph[plot]`. Received: no module named 'matplotlib'.")


def require_matplotlib(func: str) -> Any:
    """The ``matplotlib`` module; MException naming the extra to install when it is missing."""
    try:
        return importlib.import_module("matplotlib")
    except ImportError:
        raise _missing(func) from None


def check_matplotlib(func: str) -> None:
    """MException when matplotlib is not installed, without importing it."""
    if "matplotlib" in sys.modules:
        if sys.modules["matplotlib"] is None:
            raise _missing(func)
        return
    try:
        found = importlib.util.find_spec("matplotlib") is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise _missing(func)


def pyplot(func: str) -> Any:
    """``matplotlib.pyplot`` (matplotlib picks Agg by itself when there is no display)."""
    require_matplotlib(func)
    return importlib.import_module("matplotlib.pyplot")


def display_available() -> bool:
    """A screen windows can open on: Windows, macOS, or DISPLAY / WAYLAND_DISPLAY set."""
    if sys.platform.startswith(("win", "darwin")):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def is_file_backend(name: str) -> bool:
    """True for a backend name that renders off screen."""
    return str(name).lower().startswith(_FILE_BACKENDS)


def draws_to_files(mpl: Any) -> bool:
    """True when figures render off screen (Agg, SVG, notebook inline, or no display)."""
    try:
        name = mpl.get_backend(auto_select=False)   # matplotlib >= 3.10: None while automatic
    except TypeError:
        name = mpl.get_backend()
    if name is None:
        return not display_available()
    return str(name).lower().startswith(_FILE_BACKENDS)


def draws_to_files_without_import() -> bool:
    """:func:`draws_to_files` decided before matplotlib is imported (MPLBACKEND or the display)."""
    if "matplotlib" in sys.modules and sys.modules["matplotlib"] is not None:
        return draws_to_files(sys.modules["matplotlib"])
    chosen = os.environ.get("MPLBACKEND", "").lower()
    if chosen:
        return chosen.startswith(_FILE_BACKENDS)
    return not display_available()
