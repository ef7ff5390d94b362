"""PNG content checks: a picture is the expected size and actually shows something."""
from __future__ import annotations

import pathlib

import numpy as np


def read_png(path: str | pathlib.Path) -> np.ndarray:
    """(h, w, 3) uint8 RGB of a PNG file (Pillow, which matplotlib brings)."""
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def ink_fraction(rgb: np.ndarray) -> float:
    """Fraction of pixels that are not (nearly) white."""
    return float((rgb.min(axis=2) < 235).mean())


def colour_fraction(rgb: np.ndarray, hex_colour: str, tolerance: int = 40) -> float:
    """Fraction of pixels within ``tolerance`` (per channel) of ``#RRGGBB``."""
    target = np.array([int(hex_colour[k:k + 2], 16) for k in (1, 3, 5)])
    return float((np.abs(rgb.astype(int) - target).max(axis=2) <= tolerance).mean())


def assert_png_shows_something(path, size=None, min_ink=0.002, max_ink=0.6):
    """The PNG exists, has ``size`` (w, h) when given, and is neither blank nor solid."""
    rgb = read_png(path)
    if size is not None:       # (w, h); renderers round a fractional pixel either way
        got = (rgb.shape[1], rgb.shape[0])
        assert all(abs(g - s) <= 1 for g, s in zip(got, size)), f"{path}: {got} != {size}"
    ink = ink_fraction(rgb)
    assert min_ink <= ink <= max_ink, f"{path}: {ink:.4f} of the pixels are inked"
    return rgb
