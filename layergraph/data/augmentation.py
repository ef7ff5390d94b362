"""Image augmentation: ``imageDataAugmenter``, ``randomAffine3d`` and ``imwarp``.

Coordinates follow MATLAB: x is the column (width, axis 1), y the row (height, axis 0), z the
depth (axis 2). A random transform is drawn as a forward affine matrix ``A`` (homogeneous,
acting on column vectors ``[x; y; (z;) 1]``) and applied about the image centre, keeping the
image size (MATLAB's ``BoundsStyle="centerOutput"``); points falling outside are FillValue.
Interpolation is linear for numeric data, nearest for label data. scipy (``layergraph[io]``)
does the resampling.
"""
from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from ._common import error, global_generator, logical_scalar, parse_name_value, validatestring
from .readers import optional_module

__all__ = ["imageDataAugmenter", "augment", "randomAffine3d", "imwarp"]

_RANGES = {"RandRotation": (0.0, 0.0), "RandScale": (1.0, 1.0), "RandXScale": (1.0, 1.0),
           "RandYScale": (1.0, 1.0), "RandZScale": (1.0, 1.0), "RandXShear": (0.0, 0.0),
           "RandYShear": (0.0, 0.0), "RandXTranslation": (0.0, 0.0),
           "RandYTranslation": (0.0, 0.0), "RandZTranslation": (0.0, 0.0)}
_FLAGS = ("RandXReflection", "RandYReflection", "RandZReflection")


def _range(value: Any, func: str, name: str) -> Any:
    """A 2-element [lo hi] range or a function returning one value (MATLAB's @myrange)."""
    if callable(value):
        return value
    arr = np.asarray(value, dtype=float) if not isinstance(value, str) else np.array([np.nan])
    if arr.shape != (2,) or not np.all(np.isfinite(arr)) or arr[0] > arr[1]:
        raise error(func, f"Invalid{name}", f"{name} must be a range [lo hi] with lo <= hi, or a "
                    f"function returning a value. Received: {name}={value!r}.")
    if "Scale" in name and arr[0] <= 0:
        raise error(func, f"Invalid{name}", f"{name} must be positive. Received: {name}={value!r}.")
    return (float(arr[0]), float(arr[1]))


def _draw(spec: Any, rng: np.random.Generator) -> float:
    return float(spec()) if callable(spec) else float(rng.uniform(spec[0], spec[1])) \
        if spec[0] != spec[1] else spec[0]


class ImageDataAugmenter:
    """MATLAB's imageDataAugmenter: random reflection, rotation, scale, shear, translation.

    2-D images are h x w [x c]; volumes h x w x d [x c] are transformed in the x-y plane as
    the 2-D images (rotation about z), plus RandZReflection / RandZScale / RandZTranslation.
    """

    def __init__(self, **props: Any):
        self.FillValue = props.pop("FillValue", 0)
        for name in _FLAGS:
            setattr(self, name, props.pop(name, False))
        for name, default in _RANGES.items():
            setattr(self, name, props.pop(name, default))

    def __setattr__(self, name: str, value: Any) -> None:
        func = "imageDataAugmenter"
        if name in _FLAGS:
            value = logical_scalar(value, func, name)
        elif name in _RANGES:
            value = _range(value, func, name)
        elif name == "FillValue":
            arr = np.asarray(value, dtype=float) if not isinstance(value, str) else None
            if arr is None or arr.ndim > 1 or arr.size == 0 or not np.all(np.isfinite(arr)):
                raise error(func, "InvalidFillValue", "FillValue must be a numeric scalar or a "
                            f"vector with one value per channel. Received: FillValue={value!r}.")
        object.__setattr__(self, name, value)

    def random_matrix(self, rng: np.random.Generator, ndim: int) -> np.ndarray:
        """A forward ``(ndim+1) x (ndim+1)`` matrix on ``[x, y, (z,) 1]`` drawn from ``rng``."""
        m = np.eye(ndim + 1)
        flips = [self.RandXReflection, self.RandYReflection, self.RandZReflection][:ndim]
        for axis, flag in enumerate(flips):
            if flag and rng.random() < 0.5:
                m[axis, axis] = -1.0
        theta = math.radians(_draw(self.RandRotation, rng))
        rot = np.eye(ndim + 1)
        # counterclockwise as displayed (rows grow downwards), as imrotate
        rot[:2, :2] = [[math.cos(theta), math.sin(theta)], [-math.sin(theta), math.cos(theta)]]
        if self.RandScale != (1.0, 1.0):
            s = _draw(self.RandScale, rng)
            scales = [s] * ndim
        else:
            scales = [_draw(self.RandXScale, rng), _draw(self.RandYScale, rng),
                      _draw(self.RandZScale, rng)][:ndim]
        scale = np.diag(scales + [1.0])
        shear = np.eye(ndim + 1)
        shear[0, 1] = math.tan(math.radians(_draw(self.RandXShear, rng)))
        shear[1, 0] = math.tan(math.radians(_draw(self.RandYShear, rng)))
        move = np.eye(ndim + 1)
        move[:ndim, ndim] = [_draw(self.RandXTranslation, rng), _draw(self.RandYTranslation, rng),
                             _draw(self.RandZTranslation, rng)][:ndim]
        return move @ shear @ scale @ rot @ m

    def augment(self, images: Any, rng: np.random.Generator | None = None) -> Any:
        """``augI = augment(aug, I)``: one random transform applied to I (or to each of a list)."""
        rng = global_generator() if rng is None else rng
        first = images[0] if isinstance(images, list) else images
        ndim = 3 if np.ndim(first) >= 4 else 2
        a = self.random_matrix(rng, ndim)
        if isinstance(images, list):
            return [warp(im, a, self.FillValue, ndim) for im in images]
        return warp(images, a, self.FillValue, ndim)

    def __repr__(self) -> str:
        names = ["FillValue", *_FLAGS, *_RANGES]
        width = max(map(len, names))
        body = "\n".join(f"    {n:>{width}}: {_text(getattr(self, n))}" for n in names)
        return f"  imageDataAugmenter with properties:\n\n{body}\n"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, tuple):
        return "[" + " ".join(f"{v:g}" for v in value) + "]"
    if callable(value):
        return f"@{getattr(value, '__name__', 'fcn')}"
    return np.array2string(np.asarray(value), separator=" ") if np.ndim(value) else f"{value:g}"


def imageDataAugmenter(*args: Any, **kwargs: Any) -> ImageDataAugmenter:
    """``aug = imageDataAugmenter(RandXReflection=True, RandRotation=[-10 10], ...)``.

    FillValue (0), RandXReflection / RandYReflection / RandZReflection (False; 50 % each),
    RandRotation ([0 0] degrees), RandScale ([1 1]; overrides RandX/Y/ZScale), RandXScale,
    RandYScale, RandZScale, RandXShear, RandYShear (degrees), RandXTranslation,
    RandYTranslation, RandZTranslation (pixels). A range may be a function returning a value.
    """
    names = ["FillValue", *_FLAGS, *_RANGES]
    return ImageDataAugmenter(**parse_name_value(args, kwargs, names, "imageDataAugmenter"))


def augment(augmenter: ImageDataAugmenter, images: Any) -> Any:
    """``augI = augment(augmenter, I)``: the same random transform for every image given."""
    if not isinstance(augmenter, ImageDataAugmenter):
        raise error("augment", "InvalidAugmenter", "augmenter must be an imageDataAugmenter. "
                    f"Received: {type(augmenter).__name__}.")
    return augmenter.augment(images)


def warp(image: np.ndarray, forward: np.ndarray, fill: Any, ndim: int,
         nearest: bool = False) -> np.ndarray:
    """Resample ``image`` (spatial axes first, channels last) under ``forward`` about its centre."""
    ndi = optional_module("scipy.ndimage", "augment")
    image = np.asarray(image)
    if np.allclose(forward, np.eye(ndim + 1)):
        return image.copy()
    # forward acts on (x, y, z) = (axis1, axis0, axis2); permute to array axes (0, 1, 2)
    perm = [1, 0, 2][:ndim]
    a = forward[np.ix_(perm + [ndim], perm + [ndim])]
    inv = np.linalg.inv(a)
    centre = (np.asarray(image.shape[:ndim], dtype=float) - 1) / 2
    offset = centre - inv[:ndim, :ndim] @ centre + inv[:ndim, ndim]
    channels = image.reshape(image.shape[:ndim] + (-1,))
    fills = np.broadcast_to(np.asarray(fill, dtype=float).ravel(), (channels.shape[-1],)) \
        if np.size(fill) in (1, channels.shape[-1]) else None
    if fills is None:
        raise error("augment", "InvalidFillValue", f"FillValue must have 1 or "
                    f"{channels.shape[-1]} values. Received: {np.size(fill)} values.")
    dtype = image.dtype if image.dtype.kind == "f" else np.float64
    out = np.empty(channels.shape, dtype=dtype)
    for c in range(channels.shape[-1]):
        out[..., c] = ndi.affine_transform(channels[..., c].astype(dtype, copy=False),
                                           inv[:ndim, :ndim], offset=offset,
                                           order=0 if nearest else 1, mode="constant",
                                           cval=float(fills[c]))
    out = out.reshape(image.shape)
    return out.astype(image.dtype) if image.dtype.kind != "f" else out


class AffineTform3d:
    """MATLAB's affinetform3d: ``A`` (4 x 4, ``[x; y; z; 1] = A @ [u; v; w; 1]``), ``T = A.T``."""

    def __init__(self, A: np.ndarray):
        self.A = np.asarray(A, dtype=float)
        self.Dimensionality = 3

    @property
    def T(self) -> np.ndarray:
        """The affine3d (post-multiply) form of ``A``."""
        return self.A.T.copy()

    def __repr__(self) -> str:
        rows = "\n".join("    " + " ".join(f"{v:10.4f}" for v in r) for r in self.A)
        return f"  affinetform3d with properties:\n\n    Dimensionality: 3\n    A:\n{rows}\n"


def _rotation(axis: np.ndarray, theta: float) -> np.ndarray:
    x, y, z = axis
    c, s, t = math.cos(theta), math.sin(theta), 1 - math.cos(theta)
    return np.array([[c + x * x * t, x * y * t - z * s, x * z * t + y * s],
                     [y * x * t + z * s, c + y * y * t, y * z * t - x * s],
                     [z * x * t - y * s, z * y * t + x * s, c + z * z * t]])


def randomAffine3d(*args: Any, **kwargs: Any) -> AffineTform3d:
    """``tform = randomAffine3d(Rotation=[-10 10], Scale=[0.9 1.1], XReflection=True, ...)``.

    Rotation: angle range in degrees about a random axis (uniform on the sphere); Scale:
    isotropic range; X/Y/ZReflection: 50 % each; Shear: angle range in degrees along a random
    axis-aligned direction; X/Y/ZTranslation: ranges in voxels. Drawn now from ``rng``'s
    generator. Apply with ``imwarp(V, tform)``.
    """
    func = "randomAffine3d"
    o = parse_name_value(args, kwargs, ["Rotation", "Scale", "XReflection", "YReflection",
                                        "ZReflection", "Shear", "XTranslation", "YTranslation",
                                        "ZTranslation"], func)
    rng = global_generator()
    m = np.eye(4)
    for axis, name in enumerate(("XReflection", "YReflection", "ZReflection")):
        if logical_scalar(o.get(name, False), func, name) and rng.random() < 0.5:
            m[axis, axis] = -1.0
    rot = np.eye(4)
    theta = math.radians(_draw(_range(o.get("Rotation", (0, 0)), func, "Rotation"), rng))
    if theta:
        axis = rng.normal(size=3)
        rot[:3, :3] = _rotation(axis / np.linalg.norm(axis), theta)
    s = _draw(_range(o.get("Scale", (1, 1)), func, "Scale"), rng)
    scale = np.diag([s, s, s, 1.0])
    shear = np.eye(4)
    angle = _draw(_range(o.get("Shear", (0, 0)), func, "Shear"), rng)
    if angle:
        i, j = rng.choice(3, size=2, replace=False)
        shear[i, j] = math.tan(math.radians(angle))
    move = np.eye(4)
    move[:3, 3] = [_draw(_range(o.get(n, (0, 0)), func, n), rng)
                   for n in ("XTranslation", "YTranslation", "ZTranslation")]
    return AffineTform3d(move @ shear @ scale @ rot @ m)


def imwarp(V: Any, tform: Any, *args: Any, **kwargs: Any) -> np.ndarray:
    """``B = imwarp(V, tform)``: warp a volume h x w x d [x c] about its centre, same size.

    Name-value: Interp ("linear" | "nearest"), FillValues (0).
    """
    o = parse_name_value(args, kwargs, ["Interp", "FillValues"], "imwarp")
    if not isinstance(tform, AffineTform3d):
        raise error("imwarp", "InvalidTform", "tform must come from randomAffine3d. Received: "
                    f"{type(tform).__name__}.")
    V = np.asarray(V)
    if V.ndim not in (3, 4) or V.dtype.kind not in "iufb":
        raise error("imwarp", "InvalidVolume", "V must be a numeric h x w x d [x c] volume. "
                    f"Received: array of {V.ndim} dimensions, dtype {V.dtype}.")
    interp = validatestring(o.get("Interp", "linear"), ["linear", "nearest"], "imwarp", "Interp")
    fill = o.get("FillValues", 0)
    if not isinstance(fill, numbers.Real) and np.asarray(fill).dtype.kind not in "iuf":
        raise error("imwarp", "InvalidFillValues", f"FillValues must be numeric. Received: {fill!r}.")
    return warp(V, tform.A, fill, 3, nearest=interp == "nearest")


def random_generator(seed: int, position: int) -> np.random.Generator:
    """The generator of one observation: depends only on the pass seed and its position."""
    return np.random.default_rng([seed, position])


def new_pass_seed() -> int:
    """A pass seed drawn from ``rng``'s generator (on the calling thread)."""
    return int(global_generator().integers(2 ** 62))

