"""File readers picked by extension, and MATLAB's ``niftiread`` / ``niftiinfo``.

============================  ================================================================
extension                     reader
============================  ================================================================
``.npy``                      ``numpy.load(allow_pickle=False)``
``.mat`` (v4/v6/v7)           ``scipy.io.loadmat``: the single variable (or ``VariableName``)
``.mat`` (v7.3, HDF5)         ``h5py``: transposed, so the array is the one MATLAB shows
``.nii`` / ``.nii.gz``        ``niftiread`` (nibabel): voxel axes i, j, k as MATLAB's niftiread
``.png .jpg .jpeg .tif ...``  Pillow: h x w (gray) or h x w x c, as MATLAB's imread
============================  ================================================================

scipy, h5py, nibabel and Pillow are the optional extra ``layergraph[io]``; a missing one raises
an MException naming ``pip install layergraph[io]``.
"""
from __future__ import annotations

import importlib
import os
from typing import Any

import numpy as np

from ._common import error

__all__ = ["niftiread", "niftiinfo"]

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif")
VOLUME_EXTENSIONS = (".npy", ".mat", ".nii", ".nii.gz")
SUPPORTED_EXTENSIONS = IMAGE_EXTENSIONS + VOLUME_EXTENSIONS


def optional_module(name: str, func: str) -> Any:
    """Import an optional dependency of the ``io`` extra, or raise naming the pip command."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise error(func, "MissingOptionalDependency",
                    f"{func} needs the Python package '{name.split('.')[0]}' to read this file. "
                    "Install it with: pip install layergraph[io]") from exc


def extension_of(path: str) -> str:
    """Lower-case extension; ``.nii.gz`` counts as one."""
    low = path.lower()
    return ".nii.gz" if low.endswith(".nii.gz") else os.path.splitext(low)[1]


def read_file(path: str, func: str = "read", variable: str | None = None) -> Any:
    """The data of one file, by extension (see the module table). MException names the file."""
    ext = extension_of(path)
    try:
        if ext == ".npy":
            return np.load(path, allow_pickle=False)
        if ext == ".mat":
            return _read_mat(path, variable, func)
        if ext in (".nii", ".nii.gz"):
            return niftiread(path)
        if ext in IMAGE_EXTENSIONS:
            return _read_image(path, func)
    except OSError as exc:
        raise error(func, "UnreadableFile", f"Cannot read file '{path}': {exc}") from exc
    except ValueError as exc:
        if getattr(exc, "identifier", None):
            raise
        raise error(func, "UnreadableFile", f"Cannot read file '{path}' as a {ext} file "
                    f"(corrupt or not that format): {exc}") from exc
    raise error(func, "UnsupportedFileExtension",
                f"No reader for the extension '{ext}' of file '{path}'. Supported: "
                f"{', '.join(SUPPORTED_EXTENSIONS)}; or give ReadFcn.")


def _read_image(path: str, func: str) -> np.ndarray:
    image_module = optional_module("PIL.Image", func)
    with image_module.open(path) as img:
        return np.asarray(img)


def _read_mat(path: str, variable: str | None, func: str) -> np.ndarray:
    with open(path, "rb") as f:
        header = f.read(128)
    if header.startswith(b"MATLAB 7.3") or header[:8] == b"\x89HDF\r\n\x1a\n":
        variables = _mat73_variables(path, func)
    else:
        sio = optional_module("scipy.io", func)
        try:
            variables = _lazy({k: v for k, v in sio.loadmat(path).items() if not k.startswith("__")})
        except NotImplementedError:                       # a v7.3 file without the text header
            variables = _mat73_variables(path, func)
    if variable is None:
        if len(variables) != 1:
            raise error(func, "AmbiguousMatVariable",
                        f"File '{path}' holds {len(variables)} variables "
                        f"({', '.join(sorted(variables)) or 'none'}); set VariableName to the one to read.")
        return next(iter(variables.values()))()
    if variable not in variables:
        raise error(func, "MissingMatVariable", f"File '{path}' has no variable '{variable}'. "
                    f"Received: VariableName='{variable}'; it holds {', '.join(sorted(variables))}.")
    return variables[variable]()


def _mat73_variables(path: str, func: str) -> dict:
    """Lazy readers of a v7.3 file's top-level arrays (HDF5 stores them transposed)."""
    h5py = optional_module("h5py", func)

    def reader(name):
        def read():
            with h5py.File(path, "r") as f:
                return np.asarray(f[name][()]).T
        return read

    with h5py.File(path, "r") as f:
        names = [k for k in f.keys() if not k.startswith("#") and isinstance(f[k], h5py.Dataset)]
    return {name: reader(name) for name in names}


def _lazy(values: dict) -> dict:
    return {k: (lambda v=v: v) for k, v in values.items()}


def niftiread(filename: str) -> np.ndarray:
    """MATLAB ``V = niftiread(filename)``: the stored voxel array of a NIfTI file.

    Axis order is NIfTI's i, j, k (, t): ``V[i, j, k]`` is the voxel MATLAB shows as
    ``V(i+1, j+1, k+1)``. As MATLAB's niftiread, the data keep their stored type and the
    header's scaling (scl_slope, scl_inter) is not applied (see ``niftiinfo``).
    """
    nib = optional_module("nibabel", "niftiread")
    _check_file(filename, "niftiread")
    try:
        img = nib.load(filename)
        return np.asarray(img.dataobj.get_unscaled())
    except Exception as exc:   # nibabel raises many types for a corrupt file
        raise error("niftiread", "UnreadableFile",
                    f"Cannot read NIfTI file '{filename}': {exc}") from exc


def niftiinfo(filename: str) -> dict:
    """MATLAB ``info = niftiinfo(filename)``: the header as a dict with MATLAB's field names.

    Filename, Filesize, Version, Description, ImageSize, PixelDimensions, Datatype,
    BitsPerPixel, SpaceUnits, TimeUnits, AdditiveOffset, MultiplicativeScaling,
    TransformName, Transform (4 x 4 affine in MATLAB's row-vector form: ``[i j k 1] @ T``
    with 0-based voxel indices) and raw (the header fields).
    """
    nib = optional_module("nibabel", "niftiinfo")
    _check_file(filename, "niftiinfo")
    try:
        img = nib.load(filename)
        hdr = img.header
        raw = {k: (hdr[k].item() if np.ndim(hdr[k]) == 0 else np.asarray(hdr[k]).copy())
               for k in hdr.keys()}
    except Exception as exc:
        raise error("niftiinfo", "UnreadableFile",
                    f"Cannot read NIfTI file '{filename}': {exc}") from exc
    ndim = int(raw["dim"][0])
    space, time = hdr.get_xyzt_units()
    # nibabel moves the stored scaling from the loaded header to the data proxy
    slope = float(getattr(img.dataobj, "slope", 1.0))
    inter = float(getattr(img.dataobj, "inter", 0.0))
    raw["scl_slope"], raw["scl_inter"] = slope, inter
    sform, qform = int(raw.get("sform_code", 0)), int(raw.get("qform_code", 0))
    return {
        "Filename": os.path.abspath(filename), "Filesize": os.path.getsize(filename),
        "Version": "NIfTI2" if int(raw.get("sizeof_hdr", 348)) == 540 else "NIfTI1",
        "Description": _text(raw.get("descrip", b"")),
        "ImageSize": tuple(int(d) for d in raw["dim"][1:ndim + 1]),
        "PixelDimensions": tuple(float(p) for p in raw["pixdim"][1:ndim + 1]),
        "Datatype": str(img.get_data_dtype()), "BitsPerPixel": int(raw["bitpix"]),
        "SpaceUnits": str(space).capitalize() if space else "Unknown",
        "TimeUnits": str(time).capitalize() if time else "None",
        "AdditiveOffset": 0.0 if not np.isfinite(inter) else float(inter),
        "MultiplicativeScaling": 1.0 if not np.isfinite(slope) or slope == 0 else float(slope),
        "TransformName": "Sform" if sform > 0 else ("Qform" if qform > 0 else "Old"),
        "Transform": np.asarray(img.affine, dtype=np.float64).T.copy(),
        "raw": raw,
    }


def _check_file(filename: Any, func: str) -> None:
    if not isinstance(filename, (str, os.PathLike)):
        raise error(func, "InvalidFilename", f"filename must be a string. Received: {filename!r}.")
    if not os.path.isfile(filename):
        raise error(func, "FileNotFound", f"File '{filename}' does not exist.")


def _text(value: Any) -> str:
    if isinstance(value, np.ndarray):
        value = value.item()
    return value.decode("latin-1").rstrip("\x00") if isinstance(value, bytes) else str(value)
