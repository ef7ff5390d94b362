"""Bad file names and paths for saveNetwork / loadNetwork: MException, and no data loss."""
import json
import os
import pathlib
import zipfile

import numpy as np
import pytest

from layergraph import (MException, assembleNetwork, classificationLayer, fullyConnectedLayer,
                        imageInputLayer, loadNetwork, saveNetwork, softmaxLayer)


def _net():
    return assembleNetwork([imageInputLayer([2, 2, 1], Name="in", Normalization="none"),
                            fullyConnectedLayer(2, Name="fc", Weights=np.ones((2, 4), np.float32),
                                                Bias=np.zeros((2, 1), np.float32)),
                            softmaxLayer(Name="sm"), classificationLayer(Name="out", Classes=["a", "b"])])


@pytest.mark.parametrize("func", [loadNetwork, lambda p: saveNetwork(_net(), p)])
@pytest.mark.parametrize("path", [None, 5, b"net.lgnet", "", ["net.lgnet"]])
def test_file_name_must_be_a_string(func, path):
    with pytest.raises(MException, match="Received") as err:
        func(path)
    assert err.value.identifier.endswith(":InvalidFileName")


def test_save_into_missing_folder_or_onto_a_folder(tmp_path):
    for path, why in [(tmp_path / "no" / "net.lgnet", "folder does not exist"), (tmp_path, "is a folder")]:
        with pytest.raises(MException, match=why) as err:
            saveNetwork(_net(), path)
        assert err.value.identifier == "layergraph:saveNetwork:CannotWriteFile"


def test_failed_save_keeps_the_existing_file(tmp_path, monkeypatch):
    path = tmp_path / "net.lgnet"
    saveNetwork(_net(), path)
    before = path.read_bytes()

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(np.lib.format, "write_array", disk_full)
    with pytest.raises(MException, match="No space left") as err:
        saveNetwork(_net(), path)
    assert err.value.identifier == "layergraph:saveNetwork:CannotWriteFile"
    assert path.read_bytes() == before                      # the old file is intact
    assert os.listdir(tmp_path) == ["net.lgnet"]            # no temporary file left behind
    monkeypatch.undo()
    saveNetwork(_net(), str(path))
    assert loadNetwork(pathlib.Path(path)).Layers.Name == ["in", "fc", "sm", "out"]


def test_saved_network_file_with_an_invalid_network_is_refused(tmp_path):
    path = tmp_path / "empty.lgnet"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("manifest.json", json.dumps({"format": "layergraph-network", "version": 1,
                                                 "kind": "DAGNetwork", "layers": [], "connections": []}))
    with pytest.raises(MException, match="exactly one input layer"):
        loadNetwork(path)


@pytest.mark.parametrize("argv, flag", [(["--epochs", "0"], "--epochs"), (["--num-train", "3"], "--num-train"),
                                        (["--seed", "-1"], "--seed")])
def test_demo_arguments_checked_before_any_work(argv, flag, capsys):
    from layergraph import demo
    with pytest.raises(SystemExit) as exit_info:
        demo.main(["--skip-displays"] + argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr()
    assert f"{flag} must be at least" in err.err and "Received" in err.err
    assert "syntheticShapes3d" not in err.out                   # no data made, no network built


def _damaged(data: bytes, how: str) -> bytes:
    d = bytearray(data)
    local = d.index(b"PK\x03\x04")                     # manifest.json's local header
    central = d.index(b"PK\x01\x02")                   # and its central directory record
    if how == "crc":
        d[central + 16] ^= 0xFF                         # CRC-32
    elif how == "encrypted":
        d[central + 8] |= 0x01                          # general-purpose flag bit 0
    elif how == "deflate":
        body = local + 30 + int.from_bytes(d[local + 26:local + 28], "little")
        d[body:body + 8] = b"\xff" * 8                  # garbage deflate stream
    elif how == "method":
        d[central + 10] = 99                            # unknown compression method
    return bytes(d)


@pytest.mark.parametrize("how", ["crc", "encrypted", "deflate", "method"])
def test_damaged_file_is_an_mexception(tmp_path, how):
    path = tmp_path / "net.lgnet"
    saveNetwork(_net(), path)
    path.write_bytes(_damaged(path.read_bytes(), how))
    with pytest.raises(MException) as err:
        loadNetwork(path)
    assert err.value.identifier in ("layergraph:loadNetwork:CorruptEntry", "layergraph:loadNetwork:NotANetworkFile")
    assert "damaged" in str(err.value) or "Cannot read" in str(err.value)
