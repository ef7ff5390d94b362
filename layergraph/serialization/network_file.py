"""saveNetwork / loadNetwork: a documented, pickle-free file format (docs/saving.md).

A network file is a zip archive holding ``manifest.json`` (format name and version, the kind
of object, each layer's class and MATLAB properties, the Connections table) and one ``.npy``
entry per array property (``arrays/<n>.npy``, read with ``allow_pickle=False``).  Layer
classes are resolved only through the layer registry (``layers.base.registered_layer``: every
Layer subclass defined so far, by class name); nothing in the file is imported or executed.
Every malformed or hostile file raises ``MException`` (``layergraph:loadNetwork:<Reason>``).
"""
from __future__ import annotations

import io as _bytes_io
import json
import math
import os
import re
import uuid
import zipfile
import zlib
from typing import Any

import numpy as np

from ..graph.analysis import propagate_sizes
from ..networks.dlnetwork import dlnetwork
from ..graph import LayerGraph, layerGraph
from ..layers.base import Layer, _is_read_only, registered_layer, registered_layers
from ..layers.errors import MException
from ..runtime.executor import is_empty
from ..networks.dag_network import DAGNetwork, assembleNetwork
from ..ops import _backend

__all__ = ["saveNetwork", "loadNetwork"]

FORMAT_NAME = "layergraph-network"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
_KINDS = ("DAGNetwork", "dlnetwork", "LayerGraph")
_ARRAY_NAME = re.compile(r"arrays/[0-9]{1,9}\.npy")
_ALLOWED_DTYPE_KINDS = "biuf"
MAX_MANIFEST_BYTES = 64 << 20
MAX_ARRAY_BYTES = 16 << 30
MAX_ENTRIES = 1_000_000
MAX_COMPRESSION_RATIO = 1000


def _error(func: str, reason: str, message: str) -> MException:
    return MException(f"layergraph:{func}:{reason}", message)


def _file_name(path: Any, func: str) -> str:
    """``path`` (a non-empty str or os.PathLike naming a str path) as a str."""
    name = os.fspath(path) if isinstance(path, (str, os.PathLike)) else None
    if not isinstance(name, str) or not name:
        raise _error(func, "InvalidFileName",
                     "The file name must be a non-empty string or path-like object. "
                     f"Received: {path!r} of type {type(path).__name__}.")
    return name


# ---- encoding ------------------------------------------------------------------------------

class _Writer:
    """Collects arrays while property values are turned into JSON."""

    def __init__(self) -> None:
        self.arrays: list[np.ndarray] = []

    def array(self, value: Any) -> dict:
        arr = np.asarray(_backend.to_host(value) if _backend.is_gpu_array(value) else value)
        if arr.dtype.kind not in _ALLOWED_DTYPE_KINDS:
            raise _error("saveNetwork", "UnsupportedValue",
                         f"Only numeric and logical arrays can be saved. Received: dtype {arr.dtype}.")
        self.arrays.append(arr)
        return {"array": f"arrays/{len(self.arrays) - 1}.npy"}

    def encode(self, value: Any, where: str) -> Any:
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, (int, np.integer)) and not isinstance(value, np.bool_):
            return int(value)
        if isinstance(value, (float, np.floating)):
            return float(value) if math.isfinite(value) else {"float": repr(float(value))}
        if isinstance(value, np.bool_):
            return bool(value)
        if isinstance(value, (list, tuple)):
            return [self.encode(item, where) for item in value]
        if isinstance(value, np.ndarray) or _backend.is_gpu_array(value):
            return self.array(value)
        if isinstance(value, dict) and all(isinstance(k, str) for k in value):
            return {"dict": {k: self.encode(v, f"{where}.{k}") for k, v in value.items()}}
        raise _error("saveNetwork", "UnsupportedValue",
                     f"Property {where} cannot be saved (a {type(value).__name__}; function "
                     "handles and other objects are not supported).")


def _graph_parts(net: Any) -> tuple[str, list, Any]:
    kind = type(net).__name__
    if kind not in _KINDS:
        raise _error("saveNetwork", "InvalidNetwork",
                     f"net must be a DAGNetwork, dlnetwork or LayerGraph. Received: {kind}.")
    return kind, list(net.Layers), net.Connections


def _write(path: Any, net: Any, extra: dict | None = None) -> None:
    kind, layers, connections = _graph_parts(net)
    writer = _Writer()
    records = []
    for layer in layers:
        name = type(layer).__name__
        if registered_layer(name) is not type(layer):
            raise _error("saveNetwork", "UnsupportedLayer",
                         f"Layer '{layer.Name}' of class {name} cannot be saved: it is not the "
                         f"registered layer class of that name. Registered classes: "
                         f"{', '.join(registered_layers())}.")
        props = {k: writer.encode(v, f"{layer.Name}.{k}") for k, v in layer.properties().items()}
        records.append({"class": name, "properties": props})
    manifest = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "kind": kind,
                "layers": records,
                "connections": [[str(s), str(d)] for s, d in
                                zip(connections["Source"], connections["Destination"])]}
    if extra is not None:
        manifest.update({k: writer.encode(v, k) for k, v in extra.items()})
    _write_atomically(path, manifest, writer.arrays)


def _write_atomically(path: str, manifest: dict, arrays: list[np.ndarray]) -> None:
    """Write the archive to a temporary file beside ``path``, then rename it over ``path``:
    a failed save never leaves a truncated file nor destroys an existing one."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path) or not os.path.isdir(folder):
        raise _error("saveNetwork", "CannotWriteFile",
                     f"Cannot write the network file {path!r}: "
                     f"{'it is a folder' if os.path.isdir(path) else 'its folder does not exist'}.")
    temp = f"{path}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp"
    try:
        with open(temp, "xb") as f, zipfile.ZipFile(f, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(MANIFEST, json.dumps(manifest, indent=1, allow_nan=False))
            for i, arr in enumerate(arrays):
                buf = _bytes_io.BytesIO()
                np.save(buf, arr, allow_pickle=False)
                zf.writestr(f"arrays/{i}.npy", buf.getvalue())
        os.replace(temp, path)
    except OSError as err:
        raise _error("saveNetwork", "CannotWriteFile",
                     f"Cannot write the network file {path!r}: {err.strerror or err}.") from None
    finally:
        if os.path.exists(temp):
            os.remove(temp)


def saveNetwork(net: Any, path: Any) -> None:
    """Save a DAGNetwork, dlnetwork or LayerGraph to ``path`` (a zip; see docs/saving.md)."""
    _write(_file_name(path, "saveNetwork"), net)


# ---- decoding ------------------------------------------------------------------------------

# What zipfile / zlib raise for a damaged archive (zlib.error, EOFError, a bad seek's OSError,
# NotImplementedError for a mangled compression method or version field, RuntimeError for a
# flipped "encrypted" flag).
_DAMAGED_ARCHIVE = (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, ValueError,
                    RuntimeError)


class _Reader:
    """Validated access to the entries of an opened archive."""

    def __init__(self, zf: zipfile.ZipFile):
        infos = zf.infolist()
        if len(infos) > MAX_ENTRIES:
            raise _error("loadNetwork", "TooManyEntries",
                         f"The file has {len(infos)} entries (at most {MAX_ENTRIES} allowed).")
        self.zf = zf
        self.infos = {}
        for info in infos:
            if info.filename != MANIFEST and not _ARRAY_NAME.fullmatch(info.filename):
                raise _error("loadNetwork", "UnexpectedEntry",
                             f"The file holds an unexpected entry {info.filename!r}; only "
                             f"'{MANIFEST}' and 'arrays/<n>.npy' are allowed.")
            limit = MAX_MANIFEST_BYTES if info.filename == MANIFEST else MAX_ARRAY_BYTES
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > limit or (info.file_size > (1 << 20)
                                          and ratio > MAX_COMPRESSION_RATIO):
                raise _error("loadNetwork", "EntryTooLarge",
                             f"Entry {info.filename!r} declares {info.file_size} bytes "
                             f"(limit {limit}, compression ratio {ratio:.0f}).")
            self.infos[info.filename] = info

    def read(self, name: str) -> bytes:
        if name not in self.infos:
            raise _error("loadNetwork", "MissingEntry", f"The file has no entry {name!r}.")
        info = self.infos[name]
        try:
            with self.zf.open(info) as f:
                data = f.read(info.file_size + 1)
        except _DAMAGED_ARCHIVE as err:        # bad CRC, bad deflate stream, bad local header, ...
            raise _error("loadNetwork", "CorruptEntry",
                         f"Entry {name!r} cannot be read (the file is damaged): {type(err).__name__}: "
                         f"{err}") from None
        if len(data) != info.file_size:
            raise _error("loadNetwork", "CorruptEntry",
                         f"Entry {name!r} does not hold the {info.file_size} bytes it declares.")
        return data

    def array(self, name: str) -> np.ndarray:
        buf = _bytes_io.BytesIO(self.read(name))
        try:
            version = np.lib.format.read_magic(buf)
            if version not in ((1, 0), (2, 0)):
                raise ValueError(f"unsupported .npy version {version}")
            shape, fortran, dtype = (np.lib.format.read_array_header_1_0(buf) if version == (1, 0)
                                     else np.lib.format.read_array_header_2_0(buf))
        except ValueError as err:
            raise _error("loadNetwork", "CorruptArray", f"Entry {name!r} is not a .npy array: {err}")
        if dtype.kind not in _ALLOWED_DTYPE_KINDS or dtype.hasobject:
            raise _error("loadNetwork", "UnsupportedArray",
                         f"Entry {name!r} has dtype {dtype}; only numeric and logical arrays "
                         "are allowed.")
        expected = int(np.prod(shape, dtype=object)) * dtype.itemsize
        if expected != len(buf.getvalue()) - buf.tell():
            raise _error("loadNetwork", "CorruptArray",
                         f"Entry {name!r} declares shape {shape} ({expected} bytes) but holds "
                         f"{len(buf.getvalue()) - buf.tell()} bytes of data.")
        buf.seek(0)
        return np.load(buf, allow_pickle=False)

    def decode(self, value: Any) -> Any:
        if isinstance(value, list):
            return tuple(self.decode(v) for v in value)
        if isinstance(value, dict):
            if set(value) == {"array"} and isinstance(value["array"], str):
                return self.array(value["array"])
            if set(value) == {"float"} and value["float"] in ("inf", "-inf", "nan"):
                return float(value["float"])
            if set(value) == {"dict"} and isinstance(value["dict"], dict):
                return {k: self.decode(v) for k, v in value["dict"].items()}
            raise _error("loadNetwork", "CorruptManifest",
                         f"Unexpected object in a property value: {str(value)[:80]}.")
        return value


def _manifest(reader: _Reader) -> dict:
    try:
        manifest = json.loads(reader.read(MANIFEST).decode("utf-8"),
                              parse_constant=lambda c: float("nan"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise _error("loadNetwork", "CorruptManifest", f"{MANIFEST} is not valid JSON: {err}")
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise _error("loadNetwork", "NotANetworkFile",
                     f"The file is not a {FORMAT_NAME} file (no matching 'format' field).")
    if manifest.get("version") != FORMAT_VERSION:
        raise _error("loadNetwork", "UnsupportedVersion",
                     f"File format version {manifest.get('version')!r} is not supported "
                     f"(this release reads version {FORMAT_VERSION}).")
    if manifest.get("kind") not in _KINDS or not isinstance(manifest.get("layers"), list) \
            or not isinstance(manifest.get("connections"), list):
        raise _error("loadNetwork", "CorruptManifest",
                     "The manifest must hold 'kind' (DAGNetwork, dlnetwork or LayerGraph), "
                     "'layers' and 'connections'.")
    return manifest


def _layer(record: Any, reader: _Reader) -> Layer:
    if not isinstance(record, dict) or not isinstance(record.get("properties"), dict):
        raise _error("loadNetwork", "CorruptManifest", "Each layer record needs 'class' and "
                     "'properties'.")
    name = record.get("class")
    cls = registered_layer(name) if isinstance(name, str) else None
    if cls is None:
        raise _error("loadNetwork", "UnknownLayerClass",
                     f"Unknown layer class {str(name)[:80]!r}: no layer class of that name is "
                     f"defined (define or import it before loading). Registered: "
                     f"{', '.join(registered_layers())}.")
    props = {k: reader.decode(v) for k, v in record["properties"].items()}
    layer = cls.from_properties(props)
    # from_properties stores values as given: set the writable ones again so that every
    # property passes the same validation as in the layer's constructor.
    writable = {n: getattr(layer, n) for n in props
                if not _is_read_only(cls, n) and n not in getattr(cls, "READ_ONLY", ())}
    return layer.copy(**writable)


def _check_shapes(lgraph: LayerGraph) -> None:
    """Every stored learnable/state must have the shape the layer would create itself."""
    rng = np.random.default_rng(0)

    def checked(layer: Layer, in_sizes: list[tuple[int, ...]]) -> Layer:
        names = [n for n in layer.LEARNABLES + layer.STATES if not is_empty(getattr(layer, n))]
        if names:
            fresh = layer.copy(**{n: np.zeros((0,)) for n in names}).initialize(in_sizes, rng)
            bad = [f"{n} {np.shape(getattr(layer, n))} (expected {np.shape(getattr(fresh, n))})"
                   for n in names if np.shape(getattr(layer, n)) != np.shape(getattr(fresh, n))]
            if bad:
                raise _error("loadNetwork", "WrongShape",
                             f"Layer '{layer.Name}': stored values have wrong sizes: {bad}.")
        return layer
    propagate_sizes(lgraph, checked)


def _graph(manifest: dict, reader: _Reader) -> LayerGraph:
    lgraph = layerGraph()
    for record in manifest["layers"]:
        lgraph = lgraph.addLayers(_layer(record, reader))
    for row in manifest["connections"]:
        if not (isinstance(row, list) and len(row) == 2 and all(isinstance(s, str) for s in row)):
            raise _error("loadNetwork", "CorruptManifest",
                         f"Each connection must be [source, destination]. Received: {str(row)[:80]}.")
        lgraph = lgraph.connectLayers(*row)
    _check_shapes(lgraph)
    return lgraph


def _open(path: Any) -> tuple[zipfile.ZipFile, _Reader, dict]:
    path = _file_name(path, "loadNetwork")
    try:
        zf = zipfile.ZipFile(path)
    except _DAMAGED_ARCHIVE as err:
        raise _error("loadNetwork", "NotANetworkFile", f"Cannot read {str(path)!r} as a "
                     f"network file (a zip archive): {err}")
    try:
        reader = _Reader(zf)
        return zf, reader, _manifest(reader)
    except MException:
        zf.close()
        raise


def _build(kind: str, lgraph: LayerGraph) -> Any:
    if kind == "LayerGraph":
        return lgraph
    if kind == "DAGNetwork":
        return assembleNetwork(lgraph)
    return dlnetwork(lgraph, Initialize=False)


def loadNetwork(path: Any) -> Any:
    """Load what saveNetwork wrote: a DAGNetwork, dlnetwork or LayerGraph.

    Raises ``MException`` (``layergraph:loadNetwork:<Reason>``) for anything that is not a
    well-formed network file: not a zip, unexpected or missing entries, unknown layer classes,
    non-numeric or mis-sized arrays, inconsistent shapes or connections, oversized entries.
    """
    zf, reader, manifest = _open(path)
    with zf:
        try:
            return _build(manifest["kind"], _graph(manifest, reader))
        except MException:
            raise
        except (ValueError, TypeError, KeyError, IndexError, zipfile.BadZipFile) as err:
            raise _error("loadNetwork", "CorruptFile",
                         f"The network file is inconsistent: {type(err).__name__}: {err}")


# ---- checkpoints (trainNetwork CheckpointPath) --------------------------------------------

def save_checkpoint(path: Any, net: DAGNetwork, solver: Any, epoch: int, iteration: int) -> None:
    """A network file plus ``checkpoint``: epoch, iteration, solver name and state arrays."""
    state = {name: [[layer, param, value] for (layer, param), value in entries.items()]
             for name, entries in solver.state.items()}
    _write(path, net, extra={"checkpoint": {"Epoch": epoch, "Iteration": iteration,
                                            "SolverName": solver.options.SolverName,
                                            "SolverIteration": solver.iteration,
                                            "SolverState": state}})


def load_checkpoint(path: Any) -> tuple[DAGNetwork, dict]:
    """``(net, checkpoint)``; checkpoint['SolverState'][name][(layer, param)] -> array."""
    zf, reader, manifest = _open(path)
    with zf:
        net = _build(manifest["kind"], _graph(manifest, reader))
        info = reader.decode(manifest.get("checkpoint"))
        if not isinstance(info, dict) or not isinstance(info.get("SolverState"), dict):
            raise _error("loadNetwork", "NotACheckpoint", "The file holds no checkpoint record.")
        info["SolverState"] = {name: {(layer, param): value for layer, param, value in entries}
                               for name, entries in info["SolverState"].items()}
    return net, info
