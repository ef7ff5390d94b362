"""matplotlib, imported lazily: the ``plot`` extra is optional (``pip install layergraph[plot]``)."""
from __future__ import annotations

import importlib
from typing import Any

from ..layers.errors import MException

# Backends that draw to files or inline images: figures are sized to fit every label.
_FILE_BACKENDS = ("agg", "svg", "pdf", "ps", "pgf", "cairo", "template", "module://matplotlib_inline")


def require_matplotlib(func: str) -> Any:
    """The ``matplotlib`` module; MException naming the extra to install when it is missing."""
    try:
        return importlib.import_module("matplotlib")
    except ImportError:
        raise MException(f"layergraph:{func}:MatplotlibMissing",
                         f"{func} draws with matplotlib, which is not installed. Install it with "
                         "`pip install layergraph[plot]`. Received: no module named 'matplotlib'."
                         ) from None


def pyplot(func: str) -> Any:
    """``matplotlib.pyplot`` (matplotlib picks Agg by itself when there is no display)."""
    require_matplotlib(func)
    return importlib.import_module("matplotlib.pyplot")


def draws_to_files(mpl: Any) -> bool:
    """True when the current backend renders off screen (Agg, SVG, notebook inline, ...)."""
    name = str(mpl.get_backend()).lower()
    return name.startswith(_FILE_BACKENDS)
