"""crop2dLayer / crop3dLayer: crop input 'in' to the spatial size of input 'ref'.

The output has the spatial size of 'ref' and the channels of 'in'. The window is centred
(``floor((in - ref) / 2)`` before it) or placed at a 1-based location ``[X Y [Z]]`` (X: the
horizontal coordinate, i.e. the column; Y: the row; Z: the depth). 'ref' gets no gradient.
Execution: :mod:`layergraph.ops.crop`.
"""
from __future__ import annotations

from typing import Any

from ..ops import crop as crop_ops
from ._display import int2str
from ._validation import _fmt, parse_name_value, positive_int_vector
from .base import Layer
from .context import ForwardContext
from .errors import MException


class CropLayer(Layer, register=False):
    """N-d crop layer with inputs ('in', 'ref') (see Crop2DLayer / Crop3DLayer)."""

    NDIM: int = 2
    DEFAULT_NAME = "crop"

    def __init__(self, *args: Any, **kwargs: Any):
        location = "centercrop"
        if args and (not isinstance(args[0], str) or args[0].lower() == "centercrop"):
            location, args = args[0], args[1:]
        self._set_location(location)
        self.Name = parse_name_value(args, kwargs, ("Name",), self.FUNC).get("Name", "")

    @property
    def InputNames(self) -> tuple[str, ...]:
        return ("in", "ref")

    def _parse_location(self, value: Any, argname: str) -> Any:
        """'centercrop' (also 'auto') or a 1-based [X Y [Z]] vector -> the canonical value."""
        if isinstance(value, str) and value.lower() in ("centercrop", "auto"):
            return "centercrop"
        ident = f"nnet_cnn:{self.FUNC}:Invalid{argname}"
        if isinstance(value, str):
            raise MException(ident, f"{argname} must be 'centercrop' or a vector of "
                             f"{self.NDIM} positive integers. Received: {argname}={_fmt(value)}.")
        return positive_int_vector(value, self.FUNC, argname, (self.NDIM,), ident=ident)

    def _start(self, in_spatial: tuple[int, ...], out_spatial: tuple[int, ...]) -> tuple[int, ...]:
        """0-based window start per spatial dim (h, w[, d])."""
        location = self._location()
        if location == "centercrop":
            return crop_ops.center_crop_start(in_spatial, out_spatial)
        x, y, *z = location
        return (y - 1, x - 1, *(v - 1 for v in z))

    def description(self) -> str:
        location = self._location()
        if location == "centercrop":
            return "center crop"
        return f"crop at location [{int2str(location)}]"

    def output_sizes(self, input_sizes: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
        if len(input_sizes) != 2:
            raise self.layer_error("WrongNumberOfInputs", "The layer has 2 inputs ('in', 'ref'). "
                                   f"Received: {len(input_sizes)} input sizes.")
        size, ref = (tuple(int(n) for n in s) for s in input_sizes)
        shown = f"'in' {'x'.join(map(str, size))}, 'ref' {'x'.join(map(str, ref))}"
        if len(size) != self.NDIM + 1 or len(ref) != self.NDIM + 1:
            raise self.layer_error("WrongLayerSize", f"Both inputs must have {self.NDIM} spatial "
                                   f"dimensions and channels. Received: {shown}.")
        start = self._start(size[:-1], ref[:-1])
        if any(s < 0 or s + o > n for s, o, n in zip(start, ref[:-1], size[:-1])):
            raise self.layer_error("CropWindowOutsideInput", "The crop window (the size of 'ref' "
                                   f"at the crop location) must lie inside 'in'. Received: {shown}.")
        return [(*ref[:-1], size[-1])]

    def forward(self, params: dict, xs: list, ctx: ForwardContext) -> tuple[list, Any, dict]:
        x, ref = xs
        out = tuple(ref.shape[2:])
        y, cache = crop_ops.crop_forward(x, self._start(tuple(x.shape[2:]), out), out)
        return [y], cache, {}

    def backward(self, params: dict, dys: list, cache: Any, need_dx: bool = True
                 ) -> tuple[list, dict]:
        return [crop_ops.crop_backward(dys[0], cache) if need_dx else None, None], {}


class Crop2DLayer(CropLayer):
    """2-D crop layer; built by :func:`crop2dLayer`. Properties Mode ('centercrop' | 'custom')
    and Location ('auto' | [X Y])."""

    NDIM, TYPE, FUNC = 2, "Crop 2D", "crop2dLayer"
    GENERAL = ("Name", "Mode", "Location", "NumInputs", "InputNames")
    READ_ONLY = ("Mode",)

    def _set_location(self, value: Any) -> None:
        self.Location = value

    def _check_Location(self, value: Any) -> Any:
        location = self._parse_location(value, "Location")
        object.__setattr__(self, "Mode", "centercrop" if location == "centercrop" else "custom")
        return "auto" if location == "centercrop" else location

    def _check_Mode(self, value: Any) -> str:
        if value not in ("centercrop", "custom"):
            raise MException(f"nnet_cnn:{self.FUNC}:InvalidMode", "Mode must be 'centercrop' or "
                             f"'custom'. Received: Mode={_fmt(value)}.")
        return value

    def _location(self) -> Any:
        return "centercrop" if self.Location == "auto" else self.Location


class Crop3DLayer(CropLayer):
    """3-D crop layer; built by :func:`crop3dLayer`. Property CropLocation ('centercrop' |
    [X Y Z])."""

    NDIM, TYPE, FUNC = 3, "Crop 3D", "crop3dLayer"
    GENERAL = ("Name", "CropLocation", "NumInputs", "InputNames")

    def _set_location(self, value: Any) -> None:
        self.CropLocation = value

    def _check_CropLocation(self, value: Any) -> Any:
        return self._parse_location(value, "CropLocation")

    def _location(self) -> Any:
        return self.CropLocation


def crop2dLayer(*args: Any, **kwargs: Any) -> Crop2DLayer:
    """MATLAB ``crop2dLayer``, ``crop2dLayer([X Y])``, ``crop2dLayer(..., Name=name)``."""
    return Crop2DLayer(*args, **kwargs)


def crop3dLayer(*args: Any, **kwargs: Any) -> Crop3DLayer:
    """MATLAB ``crop3dLayer``, ``crop3dLayer([X Y Z])``, ``crop3dLayer(..., Name=name)``."""
    return Crop3DLayer(*args, **kwargs)


__all__ = ["Crop2DLayer", "Crop3DLayer", "crop2dLayer", "crop3dLayer"]
