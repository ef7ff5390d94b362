"""loadNetwork against hostile files: shapes checked before any array data, bounded memory."""
import io
import json
import struct
import time
import tracemalloc
import zipfile

import numpy as np
import pytest

from layergraph import (MException, assembleNetwork, batchNormalizationLayer, classificationLayer,
                        convolution2dLayer, convolution3dLayer, fullyConnectedLayer,
                        image3dInputLayer, imageInputLayer, layerGraph as lg_layer_graph,
                        loadNetwork, reluLayer, saveNetwork, softmaxLayer)
from layergraph.layers.base import Layer
from layergraph.serialization import archive as archive_module, network_file
from layergraph.serialization.archive import Archive


def _net():
    g = np.random.default_rng(0)
    return assembleNetwork([
        imageInputLayer([2, 2, 3], Name="in", Mean=np.zeros((1, 1, 3), np.float32)),
        fullyConnectedLayer(4, Name="fc1", Weights=g.standard_normal((4, 12)).astype(np.float32),
                            Bias=np.zeros((4, 1), np.float32)),
        reluLayer(Name="r"),
        fullyConnectedLayer(3, Name="fc2", Weights=g.standard_normal((3, 4)).astype(np.float32),
                            Bias=np.zeros((3, 1), np.float32)),
        softmaxLayer(Name="sm"), classificationLayer(Name="out", Classes=["x", "y", "z"])])


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "net.lgnet"
    saveNetwork(_net(), path)
    with zipfile.ZipFile(path) as zf:
        entries = {n: zf.read(n) for n in zf.namelist()}
    return path, entries, json.loads(entries["manifest.json"])


def _ref(manifest, layer, prop):
    return next(r for r in manifest["layers"] if r["properties"]["Name"] == layer)["properties"][prop]["array"]


def _npy_header(shape, descr="<f4") -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False, "shape": shape})
    return buf.getvalue()


def _zip(path, entries, last=None):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            if name != last:
                zf.writestr(name, data)
        if last is not None:
            zf.writestr(last, entries[last])
    return path


def _lying_file(path, entries, name, shape, padding):
    """``name`` holds a .npy header declaring ``shape`` (and a few bytes of data); the zip
    declares the full size and ``padding`` more compressed bytes, as a mostly-zero array would."""
    header = _npy_header(shape)
    entries = dict(entries, **{name: header + bytes(1024)})
    data = bytearray(_zip(path, entries, last=name).read_bytes())
    declared = len(header) + int(np.prod(shape)) * 4
    eocd = data.rindex(b"PK\x05\x06")
    cd_start = struct.unpack_from("<I", data, eocd + 16)[0]
    local = data.rindex(b"PK\x03\x04", 0, cd_start)
    central = data.index(name.encode(), cd_start) - 46
    for offset, at in ((18, local), (20, central)):
        size = struct.unpack_from("<I", data, at + offset)[0]
        struct.pack_into("<II", data, at + offset, size + padding, declared)
    struct.pack_into("<I", data, eocd + 16, cd_start + padding)
    data[cd_start:cd_start] = np.random.default_rng(0).bytes(padding)
    path.write_bytes(bytes(data))
    return path


def test_small_file_declaring_a_3_gib_array_fails_fast_in_bounded_memory(saved, tmp_path):
    """The issue's file: 8.8 MiB declaring a 3 GiB mostly-zero array (ratio 350, under the
    limits) for fc1's 4x12 Weights."""
    path, entries, manifest = saved
    bad = _lying_file(tmp_path / "bad.lgnet", entries, _ref(manifest, "fc1", "Weights"),
                      (4, 3 << 26), padding=int(8.8 * (1 << 20)))
    assert 8 << 20 < bad.stat().st_size < 9 << 20
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(MException, match="4x201326592 float32 \\(3.0 GiB\\)") as err:
            loadNetwork(bad)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert err.value.identifier == "layergraph:loadNetwork:WrongShape"
    assert "Layer 'fc1': Weights" in str(err.value) and "needs 4x12" in str(err.value)
    assert time.perf_counter() - start < 5 and peak < 32 << 20


def test_class_weights_array_round_trips_and_is_bounded(tmp_path):
    layers = [imageInputLayer([2, 2, 3], Name="in", Normalization="none"),
              fullyConnectedLayer(3, Name="fc"), softmaxLayer(Name="sm"),
              classificationLayer(Name="out", Classes=["x", "y", "z"], ClassWeights=[1, 2, 3])]
    path = tmp_path / "w.lgnet"
    saveNetwork(lg_layer_graph(layers), path)
    np.testing.assert_array_equal(loadNetwork(path).Layers[-1].ClassWeights, [1, 2, 3])
    with zipfile.ZipFile(path) as zf:
        entries = {n: zf.read(n) for n in zf.namelist()}
    manifest = json.loads(entries["manifest.json"])
    entries[_ref(manifest, "out", "ClassWeights")] = (_npy_header((1 << 21,))
                                                     + np.random.default_rng(0).bytes(8 << 20))
    with pytest.raises(MException) as err:         # 8 MiB: not read early, the check fails
        loadNetwork(_zip(tmp_path / "bad.lgnet", entries))
    assert err.value.identifier.endswith("ClassWeightsSizeMismatch")


@pytest.mark.parametrize("layer, prop, shape, needed", [
    ("fc1", "Weights", (4, 12 * 4096), "needs 4x12"),
    ("fc2", "Bias", (3, 2), "needs 3x1"),
    ("in", "Mean", (300, 300), "at most 12 elements"),
])
def test_mis_sized_arrays_rejected_before_any_data_is_read(saved, tmp_path, monkeypatch,
                                                           layer, prop, shape, needed):
    path, entries, manifest = saved
    tampered = _ref(manifest, layer, prop)
    entries[tampered] = _npy_header(shape) + bytes(4 * int(np.prod(shape)))
    bad = _zip(tmp_path / "bad.lgnet", entries)

    def no_data(self, name):
        raise AssertionError(f"array data of {name} read before the shapes were checked")
    monkeypatch.setattr(Archive, "array", no_data)
    with pytest.raises(MException, match=needed) as err:
        loadNetwork(bad)
    assert err.value.identifier == "layergraph:loadNetwork:WrongShape"
    assert "No array data was read" in str(err.value)


def test_well_formed_file_reads_each_array_once_within_the_budget(saved, monkeypatch):
    path, entries, manifest = saved
    reads = []
    real = Archive.array
    monkeypatch.setattr(Archive, "array", lambda self, name: (reads.append(
        (name, self.budget)), real(self, name))[1])
    net = loadNetwork(path)
    assert sorted(n for n, _ in reads) == sorted(n for n in entries if n.startswith("arrays/"))
    assert reads[0][1] == 4 * (3 + 48 + 4 + 12 + 3)          # exactly what the network needs
    np.testing.assert_array_equal(net.Layers[1].Weights, _net().Layers[1].Weights)


def test_budget_is_enforced_when_reading(saved):
    path, _, manifest = saved
    with zipfile.ZipFile(path) as zf:
        archive = Archive(zf)
        archive.budget = 100
        name = _ref(manifest, "fc1", "Weights")               # 192 bytes of data
        with pytest.raises(MException) as err:
            archive.array(name)
    assert err.value.identifier == "layergraph:loadNetwork:ExceedsNetworkSize"


def test_fortran_ordered_and_big_endian_arrays_stream_correctly(saved, tmp_path):
    path, entries, manifest = saved
    weights = np.asfortranarray(np.arange(48, dtype=">f4").reshape(4, 12))
    buf = io.BytesIO()
    np.save(buf, weights)
    entries[_ref(manifest, "fc1", "Weights")] = buf.getvalue()
    net = loadNetwork(_zip(tmp_path / "f.lgnet", entries))
    np.testing.assert_array_equal(net.Layers[1].Weights, weights)


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("where", ["layers", "property", "connection"])
def test_deeply_nested_manifest_is_corrupt_manifest(saved, tmp_path, where):
    path, entries, manifest = saved
    text = json.dumps(manifest)
    if where == "layers":
        text = text.replace('"layers": [', f'"layers": [{_deep(200_000)}, ', 1)
    elif where == "property":
        text = text.replace('"Name": "fc1"', f'"Name": "fc1", "Deep": {_deep(500)}', 1)
    else:
        text = text.replace('"connections": [', f'"connections": [{_deep(900)}, ', 1)
    entries["manifest.json"] = text.encode()
    with pytest.raises(MException) as err:
        loadNetwork(_zip(tmp_path / "deep.lgnet", entries))
    assert err.value.identifier == "layergraph:loadNetwork:CorruptManifest"


def test_huge_integer_in_manifest_is_corrupt_manifest(saved, tmp_path):
    path, entries, manifest = saved
    text = json.dumps(manifest).replace('"OutputSize": 4', '"OutputSize": ' + "9" * 5000, 1)
    entries["manifest.json"] = text.encode()
    with pytest.raises(MException) as err:
        loadNetwork(_zip(tmp_path / "int.lgnet", entries))
    assert err.value.identifier == "layergraph:loadNetwork:CorruptManifest"


def test_memory_error_while_loading_is_an_mexception(saved, monkeypatch):
    def exhausted(*args, **kwargs):
        raise MemoryError()
    monkeypatch.setattr(network_file, "read_graph", exhausted)
    with pytest.raises(MException, match="Not enough memory") as err:
        loadNetwork(saved[0])
    assert err.value.identifier == "layergraph:loadNetwork:OutOfMemory"


def test_memory_error_allocating_an_array_is_an_mexception(saved, monkeypatch):
    def exhausted(*args, **kwargs):
        raise MemoryError()
    monkeypatch.setattr(archive_module.np, "empty", exhausted)
    with pytest.raises(MException, match="Not enough memory for entry") as err:
        loadNetwork(saved[0])
    assert err.value.identifier == "layergraph:loadNetwork:OutOfMemory"


@pytest.mark.parametrize("layer, sizes", [
    (convolution2dLayer(3, 5, NumChannels="auto"), [(8, 8, 2)]),
    (convolution3dLayer([1, 2, 3], 4, DilationFactor=2), [(9, 9, 9, 3)]),
    (fullyConnectedLayer(7), [(2, 3, 4)]),
    (batchNormalizationLayer(), [(4, 4, 6)]),
    (batchNormalizationLayer(), [(4, 4, 4, 6)]),
    (image3dInputLayer([4, 4, 4, 1]), []),
])
def test_parameter_shapes_match_what_initialize_creates(layer, sizes):
    shapes = layer.parameter_shapes(sizes)
    fresh = layer.initialize(sizes, np.random.default_rng(0))
    assert shapes == {n: np.shape(getattr(fresh, n)) for n in layer.LEARNABLES + layer.STATES}
    assert Layer.parameter_shapes(layer, sizes) == shapes       # the generic default agrees


def _layer_cases() -> list:
    import importlib.util
    import pathlib
    import sys
    path = pathlib.Path(__file__).resolve().parents[1] / "layers" / "layer_cases.py"
    spec = importlib.util.spec_from_file_location("_layer_cases_for_io", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module             # dataclasses look their module up
    spec.loader.exec_module(module)
    return [c for c in module.CASES if c.inputs is not None]


@pytest.mark.parametrize("case", _layer_cases(), ids=lambda c: c.name)
def test_every_layer_class_states_the_parameter_shapes_it_creates(case):
    """loadNetwork compares files against parameter_shapes: it must equal what initialize makes."""
    layer, sizes = case.make(), case.inputs
    fresh = layer.initialize(sizes, np.random.default_rng(0))
    assert layer.parameter_shapes(sizes) == {n: np.shape(getattr(fresh, n))
                                             for n in layer.LEARNABLES + layer.STATES}
