"""Automatic differentiation as MATLAB's: ``dlarray``, ``dlfeval``, ``dlgradient`` and the
deep-learning functions on dlarrays (see docs/networks.md)."""
from .dlarray import dims, dlarray, extractdata, finddim, gather, stripdims

__all__ = ["dlarray", "dims", "finddim", "stripdims", "extractdata", "gather"]
