"""imageInputLayer / image3dInputLayer: the network input and its data normalization.

Statistics (Mean, StandardDeviation, Min, Max) are MATLAB-shaped: per channel ``1 x 1 [x 1] x C``,
per element ``h x w [x d] x C``, or a scalar for "all". Internally they broadcast against the
``(C, N, *S)`` activations as ``(C, 1, *S or 1s)``.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..ops import _backend
from ._validation import (_fmt, float_array, is_unset, parse_name_value, positive_int_vector,
                          validatestring)
from .base import Layer
from .context import ForwardContext
from .errors import MException

NORMALIZATIONS = ("zerocenter", "zscore", "rescale-symmetric", "rescale-zero-one", "none")
NORMALIZATION_DIMENSIONS = ("auto", "channel", "element", "all")
STATISTICS = ("Mean", "StandardDeviation", "Min", "Max")
_NEEDS = {"zerocenter": ("Mean",), "zscore": ("Mean", "StandardDeviation"),
          "rescale-symmetric": ("Min", "Max"), "rescale-zero-one": ("Min", "Max"), "none": ()}


class _ImageInputLayer(Layer, register=False):
    """N-d image input layer (see ImageInputLayer / Image3DInputLayer).

    Properties: InputSize (``[h w [d] c]``), Normalization ('zerocenter' | 'zscore' |
    'rescale-symmetric' | 'rescale-zero-one' | 'none'), NormalizationDimension ('auto' |
    'channel' | 'element' | 'all'), Mean, StandardDeviation, Min, Max ([] until computed).
    """

    NDIM = 2
    IS_INPUT = True
    GENERAL = ("Name", "InputSize")
    HYPERPARAMETERS = ("Normalization", "NormalizationDimension") + STATISTICS

    def __init__(self, inputSize: Any, *args: Any, **kwargs: Any):
        opts = parse_name_value(args, kwargs, ("Name", "Normalization", "NormalizationDimension")
                                + STATISTICS, self.FUNC)
        self.InputSize = inputSize
        for name, value in {"Name": "", "Normalization": "zerocenter",
                            "NormalizationDimension": "auto", **opts}.items():
            if name not in STATISTICS:
                setattr(self, name, value)
        for name in STATISTICS:
            setattr(self, name, opts.get(name))

    # ---- validation hooks ----------------------------------------------------------------
    def _check_InputSize(self, value: Any) -> tuple[int, ...]:
        size = positive_int_vector(value, self.FUNC, "InputSize", (self.NDIM, self.NDIM + 1))
        return size if len(size) == self.NDIM + 1 else size + (1,)

    def _check_Normalization(self, value: Any) -> str:
        if callable(value):
            raise MException(f"nnet_cnn:{self.FUNC}:InvalidNormalization",
                             "Normalization function handles are not supported. Allowed: "
                             f"{', '.join(NORMALIZATIONS)}. Received: Normalization={value!r}.")
        return validatestring(value, NORMALIZATIONS, self.FUNC, "Normalization")

    def _check_NormalizationDimension(self, value: Any) -> str:
        return validatestring(value, NORMALIZATION_DIMENSIONS, self.FUNC, "NormalizationDimension")

    def _statistic(self, name: str, value: Any) -> np.ndarray | None:
        if is_unset(value):
            return None
        arr = float_array(value, self.FUNC, name)
        c = self.InputSize[-1]
        shapes = {"channel": (1,) * self.NDIM + (c,), "element": self.InputSize,
                  "all": (1,) * (self.NDIM + 1)}
        dims = [self.NormalizationDimension] if self.NormalizationDimension != "auto" else list(shapes)
        dims += [] if "all" in dims else ["all"]  # a scalar is allowed whatever the dimension
        for dim in dims:
            if arr.size == np.prod(shapes[dim]) and _same_ignoring_ones(arr.shape, shapes[dim], dim):
                return arr.reshape(shapes[dim])
        allowed = " or ".join("x".join(map(str, shapes[d])) for d in dims)
        raise MException(
            f"nnet_cnn:{self.FUNC}:Invalid{name}",
            f"{name} must be an array of size {allowed} (NormalizationDimension "
            f"'{self.NormalizationDimension}'). Received: an array of size "
            f"{'x'.join(map(str, arr.shape)) or '1x1'}.")

    def _check_Mean(self, value: Any) -> np.ndarray | None:
        return self._statistic("Mean", value)

    def _check_StandardDeviation(self, value: Any) -> np.ndarray | None:
        arr = self._statistic("StandardDeviation", value)
        if arr is not None and np.any(arr <= 0):
            raise MException(f"nnet_cnn:{self.FUNC}:InvalidStandardDeviation",
                             f"StandardDeviation must be positive. Received: {_fmt(arr.ravel()[:8])}.")
        return arr

    def _check_Min(self, value: Any) -> np.ndarray | None:
        return self._statistic("Min", value)

    def _check_Max(self, value: Any) -> np.ndarray | None:
        return self._statistic("Max", value)

    # ---- display / sizes -------------------------------------------------------------------
    def description(self) -> str:
        return f"{'x'.join(map(str, self.InputSize))} images with '{self.Normalization}' normalization"

    def output_sizes(self, input_sizes: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
        if input_sizes:
            raise self.layer_error("WrongNumberOfInputs",
                                   f"An input layer has no inputs. Received: {len(input_sizes)} input sizes.")
        return [self.InputSize]

    def parameter_names(self) -> tuple[str, ...]:
        """The statistics the normalization uses (the executor passes them in ``params``)."""
        return _NEEDS[self.Normalization]

    # ---- execution -------------------------------------------------------------------------
    def to_internal(self, name: str, value: Any, xp: Any, dtype: Any) -> Any:
        arr = xp.asarray(value, dtype=dtype).reshape(self._broadcast_shape(np.shape(value)))
        return xp.ascontiguousarray(arr.transpose(self.NDIM, *range(self.NDIM))[:, None])

    def _broadcast_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(shape) + (1,) * (self.NDIM + 1 - len(shape))

    def from_internal(self, name: str, value: Any) -> np.ndarray:
        value = _backend.to_host(value)[:, 0]
        return value.transpose(*range(1, self.NDIM + 1), 0)

    def _params(self, params: dict, x: Any) -> dict:
        """The normalization statistics as internal arrays (from params, else converted here)."""
        xp = _backend.get_xp(x)
        out = {}
        for name in self.parameter_names():
            if name in params:
                out[name] = params[name]
                continue
            value = getattr(self, name)
            if value is None:
                raise self.layer_error(
                    "NormalizationStatisticsNotInitialized",
                    f"The '{self.Normalization}' normalization needs {name}, which is not "
                    f"initialized. Set {name} or train the network to compute it.")
            out[name] = self.to_internal(name, value, xp, x.dtype)
        return out

    def forward(self, params: dict, xs: list, ctx: ForwardContext) -> tuple[list, Any, dict]:
        x = xs[0]
        expected = (self.InputSize[-1], *self.InputSize[:-1])
        if (x.shape[0], *x.shape[2:]) != expected:
            raise self.layer_error(
                "WrongInputSize",
                f"The input data must have size {'x'.join(map(str, self.InputSize))} per observation. "
                f"Received: {'x'.join(map(str, (*x.shape[2:], x.shape[0])))}.")
        p = self._params(params, x)
        if self.Normalization == "zerocenter":
            y = x - p["Mean"]
        elif self.Normalization == "zscore":
            y = (x - p["Mean"]) / p["StandardDeviation"]
        elif self.Normalization == "rescale-symmetric":
            y = 2 * (x - p["Min"]) / (p["Max"] - p["Min"]) - 1
        elif self.Normalization == "rescale-zero-one":
            y = (x - p["Min"]) / (p["Max"] - p["Min"])
        else:
            y = x
        return [y], None, {}

    def backward(self, params: dict, dys: list, cache: Any, need_dx: bool = True) -> tuple[list, dict]:
        return [], {}


def _same_ignoring_ones(shape: tuple[int, ...], target: tuple[int, ...], dim: str) -> bool:
    """Whether ``shape`` is ``target`` up to singleton dims (MATLAB drops trailing ones)."""
    if dim == "all":
        return True
    return tuple(n for n in shape if n != 1) == tuple(n for n in target if n != 1)


class ImageInputLayer(_ImageInputLayer):
    """2-D image input layer (InputSize [h w c]); built by :func:`imageInputLayer`."""

    NDIM, TYPE, FUNC, DEFAULT_NAME = 2, "Image Input", "imageInputLayer", "imageinput"


class Image3DInputLayer(_ImageInputLayer):
    """3-D image input layer (InputSize [h w d c]); built by :func:`image3dInputLayer`."""

    NDIM, TYPE, FUNC, DEFAULT_NAME = 3, "3-D Image Input", "image3dInputLayer", "image3dinput"


def imageInputLayer(inputSize: Any, *args: Any, **kwargs: Any) -> ImageInputLayer:
    """MATLAB ``imageInputLayer(inputSize, Normalization="zerocenter", Name='')``; [h w] means c = 1."""
    return ImageInputLayer(inputSize, *args, **kwargs)


def image3dInputLayer(inputSize: Any, *args: Any, **kwargs: Any) -> Image3DInputLayer:
    """MATLAB ``image3dInputLayer(inputSize, Normalization="zerocenter", Name='')``; [h w d] means c = 1."""
    return Image3DInputLayer(inputSize, *args, **kwargs)


__all__ = ["ImageInputLayer", "Image3DInputLayer", "imageInputLayer", "image3dInputLayer"]
