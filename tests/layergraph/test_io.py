"""saveNetwork / loadNetwork: round trips and hostile archives."""
import io
import json
import zipfile

import numpy as np
import pandas as pd
import pytest

from layergraph import (MException, classificationLayer, dlnetwork, fullyConnectedLayer,
                        imageInputLayer, layerGraph, loadNetwork, reluLayer, resnet3dLayers,
                        saveNetwork, softmaxLayer, trainingOptions, trainNetwork)
from layergraph.serialization import archive, network_file as lgio


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    g = np.random.default_rng(0)
    X = g.standard_normal((2, 2, 3, 12)).astype(np.float32)
    Y = pd.Categorical(["x", "y", "z"] * 4)
    layers = [imageInputLayer([2, 2, 3], Name="in"), fullyConnectedLayer(4, Name="fc1"),
              reluLayer(Name="r"), fullyConnectedLayer(3, Name="fc2"), softmaxLayer(Name="sm"),
              classificationLayer(Name="out")]
    net, _ = trainNetwork(X, Y, layers, trainingOptions("sgdm", MaxEpochs=2, MiniBatchSize=4,
                                                        Verbose=False))
    path = tmp_path_factory.mktemp("io") / "net.lgnet"
    saveNetwork(net, path)
    return net, X, path


def _entries(path):
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _rewrite(tmp_path, entries, name="bad.lgnet"):
    out = tmp_path / name
    with zipfile.ZipFile(out, "w") as zf:
        for n, data in entries.items():
            zf.writestr(n, data)
    return out


def _npy(arr, **kw):
    buf = io.BytesIO()
    np.save(buf, arr, **kw)
    return buf.getvalue()


def test_dagnetwork_round_trip_predictions_identical(trained):
    net, X, path = trained
    net2 = loadNetwork(path)
    assert type(net2).__name__ == "DAGNetwork"
    np.testing.assert_array_equal(net.predict(X), net2.predict(X))
    assert list(net2.Layers[-1].Classes) == ["x", "y", "z"]
    pd.testing.assert_frame_equal(net.Connections, net2.Connections)
    for a, b in zip(net.Layers, net2.Layers):
        assert type(a) is type(b) and a.Name == b.Name


def test_layer_graph_round_trip_keeps_auto_properties(tmp_path):
    lgraph = resnet3dLayers([16, 16, 16, 1], 3, InitialStride=1, InitialFilterSize=3,
                            InitialNumFilters=4, BottleneckType="none", StackDepth=[1, 1],
                            NumFilters=[4, 8])
    saveNetwork(lgraph, tmp_path / "g.lgnet")
    back = loadNetwork(tmp_path / "g.lgnet")
    assert type(back).__name__ == "LayerGraph"
    pd.testing.assert_frame_equal(lgraph.Connections, back.Connections)
    assert [repr(a) for a in lgraph.Layers] == [repr(b) for b in back.Layers]


def test_dlnetwork_round_trip(tmp_path):
    net = dlnetwork([imageInputLayer([2, 2, 1], Normalization="none"), fullyConnectedLayer(3),
                     softmaxLayer()])
    saveNetwork(net, tmp_path / "d.lgnet")
    back = loadNetwork(tmp_path / "d.lgnet")
    assert type(back).__name__ == "dlnetwork"
    for a, b in zip(net.Learnables["Value"], back.Learnables["Value"]):
        np.testing.assert_array_equal(a, b)


def test_manifest_has_format_version_and_no_code(trained):
    _, _, path = trained
    entries = _entries(path)
    manifest = json.loads(entries["manifest.json"])
    assert (manifest["format"], manifest["version"], manifest["kind"]) == (
        "layergraph-network", 1, "DAGNetwork")
    assert [r["class"] for r in manifest["layers"]][:2] == ["ImageInputLayer", "FullyConnectedLayer"]
    assert all(n == "manifest.json" or n.startswith("arrays/") for n in entries)


def _manifest_edit(trained, tmp_path, edit):
    entries = _entries(trained[2])
    manifest = json.loads(entries["manifest.json"])
    edit(manifest, entries)
    entries["manifest.json"] = json.dumps(manifest).encode()
    return _rewrite(tmp_path, entries)


def _set_weights(manifest, entries, arr, **kw):
    ref = manifest["layers"][1]["properties"]["Weights"]["array"]
    entries[ref] = _npy(arr, **kw)


@pytest.mark.parametrize("edit, reason", [
    (lambda m, e: m["layers"][1].update({"class": "os.system"}), "UnknownLayerClass"),
    (lambda m, e: m.update({"version": 99}), "UnsupportedVersion"),
    (lambda m, e: m.update({"format": "something-else"}), "NotANetworkFile"),
    (lambda m, e: m["connections"].append(["in", "nowhere"]), None),
    (lambda m, e: _set_weights(m, e, np.zeros((4, 5), np.float32)), None),
    (lambda m, e: m["layers"][0]["properties"]["Mean"].update({"array": "arrays/3.npy"}), None),
    (lambda m, e: m["layers"][1]["properties"].update({"WeightL2Factor": -1}), None),
    (lambda m, e: _set_weights(m, e, np.array([{"a": 1}], dtype=object), allow_pickle=True),
     "UnsupportedArray"),
    (lambda m, e: e.pop("arrays/1.npy"), "MissingEntry"),
    (lambda m, e: e.update({"../evil.py": b"print(1)"}), "UnexpectedEntry"),
    (lambda m, e: e.update({"/abs/path.npy": b""}), "UnexpectedEntry"),
    (lambda m, e: m["layers"][1]["properties"].update({"Weights": {"__class__": "x"}}),
     "CorruptManifest"),
])
def test_hostile_archives_are_rejected(trained, tmp_path, edit, reason):
    path = _manifest_edit(trained, tmp_path, edit)
    with pytest.raises(MException) as err:
        loadNetwork(path)
    if reason:
        assert err.value.identifier == f"layergraph:loadNetwork:{reason}"


def test_npy_header_declaring_more_data_than_stored(trained, tmp_path):
    def edit(manifest, entries):
        ref = manifest["layers"][1]["properties"]["Weights"]["array"]
        data = entries[ref]
        entries[ref] = data.replace(b"(4, 12)", b"(400000000, 120000)")
    with pytest.raises(MException) as err:
        loadNetwork(_manifest_edit(trained, tmp_path, edit))
    assert err.value.identifier == "layergraph:loadNetwork:CorruptArray"


def test_not_a_zip_and_bad_json(tmp_path):
    bad = tmp_path / "x.lgnet"
    bad.write_bytes(b"definitely not a zip file")
    with pytest.raises(MException, match="zip") as err:
        loadNetwork(bad)
    assert err.value.identifier == "layergraph:loadNetwork:NotANetworkFile"
    with pytest.raises(MException) as err:
        loadNetwork(_rewrite(tmp_path, {"manifest.json": b"{not json"}))
    assert err.value.identifier == "layergraph:loadNetwork:CorruptManifest"


def test_oversized_entry_rejected_before_reading(trained, tmp_path, monkeypatch):
    monkeypatch.setattr(archive, "MAX_ARRAY_BYTES", 16)
    with pytest.raises(MException) as err:
        loadNetwork(trained[2])
    assert err.value.identifier == "layergraph:loadNetwork:EntryTooLarge"


def test_saving_unsupported_values_fails_cleanly(tmp_path):
    layer = imageInputLayer([2, 2, 1])
    object.__setattr__(layer, "Normalization", lambda x: x)   # bypass validation
    with pytest.raises(MException, match="cannot be saved"):
        saveNetwork(layerGraph([layer, fullyConnectedLayer(2), softmaxLayer(),
                                classificationLayer()]), tmp_path / "f.lgnet")
    with pytest.raises(MException, match="DAGNetwork, dlnetwork or LayerGraph"):
        saveNetwork([1, 2], tmp_path / "g.lgnet")


def test_weights_consistent_with_layer_but_not_with_its_input(trained, tmp_path):
    def edit(manifest, entries):
        props = manifest["layers"][1]["properties"]
        props["InputSize"] = 5
        entries[props["Weights"]["array"]] = _npy(np.zeros((4, 5), np.float32))
    with pytest.raises(MException) as err:
        loadNetwork(_manifest_edit(trained, tmp_path, edit))
    assert err.value.identifier in ("layergraph:loadNetwork:WrongShape",
                                    "nnet_cnn:fullyConnectedLayer:WrongInputSize")
