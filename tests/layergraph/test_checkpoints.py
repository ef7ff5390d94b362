"""trainNetwork checkpoints: MATLAB's name pattern, unique names, checked solver state."""
import io
import json
import re
import time
import zipfile

import numpy as np
import pandas as pd
import pytest

from layergraph import (MException, classificationLayer, fullyConnectedLayer, imageInputLayer,
                        softmaxLayer, trainingOptions, trainNetwork)
from layergraph.serialization import checkpoints
from layergraph.serialization.archive import Archive

MATLAB_NAME = re.compile(r"net_checkpoint__(\d+)__\d{4}_\d\d_\d\d__\d\d_\d\d_\d\d(__\d+)?\.lgnet")


def _train(folder, epochs=1):
    g = np.random.default_rng(0)
    X = g.standard_normal((1, 1, 3, 8))
    Y = pd.Categorical(["a", "b"] * 4)
    layers = [imageInputLayer([1, 1, 3], Normalization="none", Name="in"),
              fullyConnectedLayer(2, Name="fc"), softmaxLayer(Name="sm"),
              classificationLayer(Name="out")]
    options = trainingOptions("sgdm", MaxEpochs=epochs, MiniBatchSize=4, Verbose=False,
                              CheckpointPath=str(folder))
    return trainNetwork(X, Y, layers, options)


def test_names_follow_matlab_and_count_up_on_collision():
    names = checkpoints.checkpoint_names("/ckpt", 195, when=time.mktime((2018, 7, 13, 11, 59, 10, 0, 0, -1)))
    assert [next(names) for _ in range(3)] == [
        "/ckpt/net_checkpoint__195__2018_07_13__11_59_10.lgnet",
        "/ckpt/net_checkpoint__195__2018_07_13__11_59_10__2.lgnet",
        "/ckpt/net_checkpoint__195__2018_07_13__11_59_10__3.lgnet"]


def test_two_runs_in_the_same_second_keep_every_checkpoint(tmp_path, monkeypatch):
    frozen = time.time()
    real_localtime = time.localtime
    monkeypatch.setattr(checkpoints.time, "localtime", lambda when=None: real_localtime(frozen))
    _train(tmp_path)
    _train(tmp_path)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len(files) == 2 and all(MATLAB_NAME.fullmatch(f) for f in files)
    assert files[1] == files[0].replace(".lgnet", "__2.lgnet")    # same iteration, same second
    for f in files:
        checkpoints.load_checkpoint(tmp_path / f)


def test_solver_state_is_checked_before_any_data_is_read(tmp_path, monkeypatch):
    _train(tmp_path)
    path = next(tmp_path.iterdir())
    with zipfile.ZipFile(path) as zf:
        entries = {n: zf.read(n) for n in zf.namelist()}
    manifest = json.loads(entries["manifest.json"])
    row = manifest["checkpoint"]["dict"]["SolverState"]["dict"]["Velocity"][0]
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f4", "fortran_order": False,
                                               "shape": (5000,)})
    entries[row[2]["array"]] = buf.getvalue() + bytes(20000)
    bad = tmp_path / "bad.lgnet"
    with zipfile.ZipFile(bad, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for n, data in entries.items():
            zf.writestr(n, data)
    monkeypatch.setattr(Archive, "array", lambda self, name: pytest.fail("data read"))
    with pytest.raises(MException, match="No array data was read") as err:
        checkpoints.load_checkpoint(bad)
    assert err.value.identifier == "layergraph:loadNetwork:WrongShape"

