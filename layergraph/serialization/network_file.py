"""saveNetwork / loadNetwork: a documented, pickle-free file format (docs/saving.md).

A network file is a zip archive holding ``manifest.json`` (format name and version, the kind
of object, each layer's class and MATLAB properties, the Connections table) and one ``.npy``
entry per array property (``arrays/<n>.npy``, read with ``allow_pickle=False``).  Layer
classes are resolved only through the layer registry (``layers.base.registered_layer``: every
Layer subclass defined so far, by class name); nothing in the file is imported or executed.

Loading runs in two passes.  The first builds the graph with every array left unset and
checks each array's declared dtype and shape (its ``.npy`` header) against what the network
needs (``Layer.parameter_shapes`` for learnables and states, the layer's largest activation
for other array properties) before any array data is read; the second streams the arrays in,
capped at the total the first pass accepted.  Every malformed or hostile file raises
``MException`` (``layergraph:loadNetwork:<Reason>``).
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import zipfile
from dataclasses import dataclass
from typing import Any, BinaryIO, Callable, Iterator

import numpy as np

from ..atomic_write import write_file
from ..graph import LayerGraph, layerGraph
from ..graph.analysis import propagate_sizes
from ..layers.base import Layer, _is_read_only, registered_layer, registered_layers
from ..layers.errors import MException
from ..networks.dag_network import assembleNetwork
from ..networks.dlnetwork import dlnetwork
from ..ops import _backend
from ..runtime.executor import is_empty
from .archive import (ALLOWED_DTYPE_KINDS, DAMAGED_ARCHIVE, MANIFEST, Archive, ArrayHeader,
                      error, preview)

__all__ = ["saveNetwork", "loadNetwork"]

FORMAT_NAME = "layergraph-network"
FORMAT_VERSION = 1
KINDS = ("DAGNetwork", "dlnetwork", "LayerGraph")
MAX_NESTING = 32          # depth of lists and records inside one property value
EARLY_READ_LIMIT = 1 << 20  # bytes: a hyperparameter array a layer's checks need is read early


def file_name(path: Any, func: str) -> str:
    """``path`` (a non-empty str or os.PathLike naming a str path) as a str."""
    name = os.fspath(path) if isinstance(path, (str, os.PathLike)) else None
    if not isinstance(name, str) or not name:
        raise error(func, "InvalidFileName",
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
        if arr.dtype.kind not in ALLOWED_DTYPE_KINDS:
            raise error("saveNetwork", "UnsupportedValue",
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
        raise error("saveNetwork", "UnsupportedValue",
                    f"Property {where} cannot be saved (a {type(value).__name__}; function "
                    "handles and other objects are not supported).")


def network_writer(net: Any, extra: dict | None = None) -> Callable[[BinaryIO], None]:
    """Encode ``net`` (and ``extra`` manifest fields) now; return ``write(f)`` for the archive."""
    kind = type(net).__name__
    if kind not in KINDS:
        raise error("saveNetwork", "InvalidNetwork",
                    f"net must be a DAGNetwork, dlnetwork or LayerGraph. Received: {kind}.")
    writer = _Writer()
    records = []
    for layer in net.Layers:
        name = type(layer).__name__
        if registered_layer(name) is not type(layer):
            raise error("saveNetwork", "UnsupportedLayer",
                        f"Layer '{layer.Name}' of class {name} cannot be saved: it is not the "
                        f"registered layer class of that name. Registered classes: "
                        f"{', '.join(registered_layers())}.")
        props = {k: writer.encode(v, f"{layer.Name}.{k}") for k, v in layer.properties().items()}
        records.append({"class": name, "properties": props})
    connections = net.Connections
    manifest = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "kind": kind,
                "layers": records,
                "connections": [[str(s), str(d)] for s, d in
                                zip(connections["Source"], connections["Destination"])]}
    if extra is not None:
        manifest.update({k: writer.encode(v, k) for k, v in extra.items()})
    text = json.dumps(manifest, indent=1, allow_nan=False)

    def write(f: BinaryIO) -> None:
        with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(MANIFEST, text)
            for i, arr in enumerate(writer.arrays):     # streamed: no second copy in memory
                with zf.open(f"arrays/{i}.npy", "w", force_zip64=arr.nbytes > (1 << 30)) as out:
                    np.lib.format.write_array(out, arr, allow_pickle=False)
    return write


def saveNetwork(net: Any, path: Any) -> None:
    """Save a DAGNetwork, dlnetwork or LayerGraph to ``path`` (a zip; see docs/saving.md).

    Written atomically (``layergraph.atomic_write``): the old file survives any failure, a
    symlink is written through, the file's permissions are kept, a read-only file is refused.
    """
    path = file_name(path, "saveNetwork")
    write_file(path, network_writer(net), "saveNetwork")


# ---- decoding ------------------------------------------------------------------------------

@dataclass(frozen=True)
class ArrayRef:
    """An array property value not read yet."""

    name: str


def decode(value: Any, archive: Archive, read: bool, depth: int = 0) -> Any:
    """A manifest value as a property value; arrays as ``ArrayRef`` or (``read``) arrays."""
    if depth > MAX_NESTING:
        raise error("loadNetwork", "CorruptManifest",
                    f"A property value nests lists or records more than {MAX_NESTING} deep.")
    if isinstance(value, list):
        return tuple(decode(v, archive, read, depth + 1) for v in value)
    if isinstance(value, dict):
        if set(value) == {"array"} and isinstance(value["array"], str):
            return archive.array(value["array"]) if read else ArrayRef(value["array"])
        if set(value) == {"float"} and value["float"] in ("inf", "-inf", "nan"):
            return float(value["float"])
        if set(value) == {"dict"} and isinstance(value["dict"], dict):
            return {k: decode(v, archive, read, depth + 1) for k, v in value["dict"].items()}
        raise error("loadNetwork", "CorruptManifest",
                    f"Unexpected object in a property value: {preview(value)}.")
    return value


def _manifest(archive: Archive) -> dict:
    manifest = archive.manifest()
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise error("loadNetwork", "NotANetworkFile",
                    f"The file is not a {FORMAT_NAME} file (no matching 'format' field).")
    if manifest.get("version") != FORMAT_VERSION:
        raise error("loadNetwork", "UnsupportedVersion",
                    f"File format version {preview(manifest.get('version'))} is not supported "
                    f"(this release reads version {FORMAT_VERSION}).")
    if manifest.get("kind") not in KINDS or not isinstance(manifest.get("layers"), list) \
            or not isinstance(manifest.get("connections"), list):
        raise error("loadNetwork", "CorruptManifest",
                    "The manifest must hold 'kind' (DAGNetwork, dlnetwork or LayerGraph), "
                    "'layers' and 'connections'.")
    return manifest


def _holds_ref(value: Any) -> bool:
    if isinstance(value, tuple):
        return any(_holds_ref(v) for v in value)
    if isinstance(value, dict):
        return any(_holds_ref(v) for v in value.values())
    return isinstance(value, ArrayRef)


def _layer(record: Any, archive: Archive, read: bool) -> tuple[Layer, dict[str, ArrayRef]]:
    """The layer of a manifest record and its array properties (unset unless ``read``)."""
    if not isinstance(record, dict) or not isinstance(record.get("properties"), dict):
        raise error("loadNetwork", "CorruptManifest", "Each layer record needs 'class' and "
                    "'properties'.")
    name = record.get("class")
    cls = registered_layer(name) if isinstance(name, str) else None
    if cls is None:
        raise error("loadNetwork", "UnknownLayerClass",
                    f"Unknown layer class {preview(name)}: no layer class of that name is "
                    f"defined (define or import it before loading). Registered: "
                    f"{', '.join(registered_layers())}.")
    props = {k: decode(v, archive, read) for k, v in record["properties"].items()}
    refs = {k: v for k, v in props.items() if isinstance(v, ArrayRef)}
    if not read:
        if any(_holds_ref(v) for k, v in props.items() if k not in refs):
            raise error("loadNetwork", "CorruptManifest",
                        f"Layer class {name}: arrays must be whole property values.")
        unset = {k: (None if k in refs else v) for k, v in props.items()}
        try:
            return _validated_layer(cls, unset), refs
        except MException:
            # A check that needs a hyperparameter array (Classes against ClassWeights):
            # read the small ones now; learnables and states still wait for the plan.
            later = cls.LEARNABLES + cls.STATES
            early = [k for k in refs if k not in later
                     and archive.header(refs[k].name).nbytes <= EARLY_READ_LIMIT]
            if not early:
                raise
            props = {**unset, **{k: archive.array(refs[k].name) for k in early}}
    return _validated_layer(cls, props), refs


def _validated_layer(cls: type, props: dict) -> Layer:
    layer = cls.from_properties(props)
    # from_properties stores values as given: set the writable ones again so that every
    # property passes the same validation as in the layer's constructor.
    writable = {n: getattr(layer, n) for n in props
                if not _is_read_only(cls, n) and n not in getattr(cls, "READ_ONLY", ())}
    return layer.copy(**writable)


def _connected(layers: list[Layer], connections: list) -> LayerGraph:
    lgraph = layerGraph()
    for layer in layers:
        lgraph = lgraph.addLayers(layer)
    for row in connections:
        if not (isinstance(row, list) and len(row) == 2 and all(isinstance(s, str) for s in row)):
            raise error("loadNetwork", "CorruptManifest",
                        f"Each connection must be [source, destination]. Received: {preview(row)}.")
        lgraph = lgraph.connectLayers(*row)
    return lgraph


@dataclass
class Plan:
    """The first pass: the graph without arrays, the checked headers and what is needed."""

    lgraph: LayerGraph
    refs: list[dict[str, ArrayRef]]
    needs: dict[tuple[str, str], tuple[int, ...]]   # (layer, learnable/state) -> MATLAB shape
    nbytes: int                                     # array data the network needs


def _strip_ones(shape: tuple[int, ...]) -> tuple[int, ...]:
    shape = tuple(shape)
    while shape and shape[-1] == 1:
        shape = shape[:-1]
    return shape


def _wrong_shape(layer: Layer, prop: str, header: ArrayHeader, needed: str) -> MException:
    return error("loadNetwork", "WrongShape",
                 f"Layer '{layer.Name}': {prop} is declared as {header.describe()} in "
                 f"{header.name}, but the network needs {needed}. No array data was read.")


def plan(manifest: dict, archive: Archive) -> Plan:
    """Build the graph with arrays unset and check every array header against the network."""
    built = [_layer(record, archive, read=False) for record in manifest["layers"]]
    lgraph = _connected([layer for layer, _ in built], manifest["connections"])
    refs = [r for _, r in built]
    index = {layer.Name: i for i, layer in enumerate(lgraph.Layers)}
    needs: dict[tuple[str, str], tuple[int, ...]] = {}

    def check(layer: Layer, in_sizes: list[tuple[int, ...]]) -> Layer:
        layer_refs = refs[index[layer.Name]]
        params = set(layer.LEARNABLES + layer.STATES) & set(layer_refs)
        shapes = layer.parameter_shapes(in_sizes) if params else {}
        largest = max(math.prod(s) for s in list(in_sizes) + layer.output_sizes(in_sizes))
        for prop, ref in layer_refs.items():
            header = archive.header(ref.name)
            if prop in shapes:
                if _strip_ones(header.shape) != _strip_ones(shapes[prop]):
                    shape = "x".join(map(str, shapes[prop]))
                    raise _wrong_shape(layer, prop, header, shape)
                needs[(layer.Name, prop)] = tuple(shapes[prop])
            elif math.prod(header.shape) > largest:
                raise _wrong_shape(layer, prop, header, f"at most {largest} elements (its "
                                   "largest activation)")
        return layer
    propagate_sizes(lgraph, check)
    # Layers after an unconnected input (a LayerGraph saved unfinished) have no known sizes:
    # their arrays are read as declared, within the archive's entry limits.
    nbytes = sum(archive.header(ref.name).nbytes for r in refs for ref in r.values())
    return Plan(lgraph, refs, needs, nbytes)


def read_graph(manifest: dict, archive: Archive, planned: Plan) -> LayerGraph:
    """The second pass: the layers with their arrays, in the planned graph."""
    layers = [_layer(record, archive, read=True)[0] for record in manifest["layers"]]
    lgraph = planned.lgraph.with_layers(layers)
    for layer in lgraph.Layers:
        for name in layer.LEARNABLES + layer.STATES:
            value, shape = getattr(layer, name), planned.needs.get((layer.Name, name))
            if shape is not None and not is_empty(value) and tuple(np.shape(value)) != shape:
                raise error("loadNetwork", "WrongShape",
                            f"Layer '{layer.Name}': stored values have wrong sizes: {name} "
                            f"{np.shape(value)} (expected {shape}).")
    return lgraph


@contextlib.contextmanager
def opened(path: Any) -> Iterator[tuple[Archive, dict]]:
    """The checked archive and manifest of a network file; every failure an MException."""
    path = file_name(path, "loadNetwork")
    try:
        zf = zipfile.ZipFile(path)
    except DAMAGED_ARCHIVE as err:
        raise error("loadNetwork", "NotANetworkFile", f"Cannot read {str(path)!r} as a "
                    f"network file (a zip archive): {err}") from None
    with zf:
        try:
            archive = Archive(zf)
            yield archive, _manifest(archive)
        except MException:
            raise
        except MemoryError:
            raise error("loadNetwork", "OutOfMemory",
                        f"Not enough memory to load {str(path)!r}.") from None
        except (ValueError, TypeError, KeyError, IndexError, zipfile.BadZipFile) as err:
            raise error("loadNetwork", "CorruptFile",
                        f"The network file is inconsistent: {type(err).__name__}: {err}") from None


def build(kind: str, lgraph: LayerGraph) -> Any:
    if kind == "LayerGraph":
        return lgraph
    if kind == "DAGNetwork":
        return assembleNetwork(lgraph)
    return dlnetwork(lgraph, Initialize=False)


def loadNetwork(path: Any) -> Any:
    """Load what saveNetwork wrote: a DAGNetwork, dlnetwork or LayerGraph.

    Raises ``MException`` (``layergraph:loadNetwork:<Reason>``) for anything that is not a
    well-formed network file: not a zip, unexpected or missing entries, unknown layer classes,
    non-numeric or mis-sized arrays (checked before any array data is read), inconsistent
    shapes or connections, oversized entries, deeply nested values.
    """
    with opened(path) as (archive, manifest):
        planned = plan(manifest, archive)
        archive.budget = planned.nbytes
        return build(manifest["kind"], read_graph(manifest, archive, planned))
