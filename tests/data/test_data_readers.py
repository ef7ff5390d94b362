"""Reader round trips: .npy, .mat v5 (scipy), .mat v7.3 (h5py, MATLAB layout), NIfTI, PNG."""
from __future__ import annotations

import importlib

import numpy as np
import pytest

from layergraph import fileDatastore, imageDatastore, niftiinfo, niftiread, read
from layergraph.data import readers
from layergraph.layers.errors import MException

VOLUME = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)


def test_npy_round_trip_and_no_pickle(tmp_path):
    np.save(tmp_path / "v.npy", VOLUME)
    np.testing.assert_array_equal(read(imageDatastore(tmp_path)), VOLUME)
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(MException, match="obj.npy"):
        readers.read_file(str(tmp_path / "obj.npy"))


def test_mat_v5_single_variable_and_variable_name(tmp_path):
    sio = pytest.importorskip("scipy.io")
    sio.savemat(tmp_path / "one.mat", {"vol": VOLUME})
    np.testing.assert_array_equal(read(fileDatastore(tmp_path / "one.mat")), VOLUME)
    sio.savemat(tmp_path / "two.mat", {"vol": VOLUME, "mask": VOLUME > 3})
    with pytest.raises(MException, match="holds 2 variables"):
        read(fileDatastore(tmp_path / "two.mat"))
    got = read(imageDatastore(tmp_path / "two.mat", VariableName="mask"))
    np.testing.assert_array_equal(got, VOLUME > 3)


def test_mat_v73_is_transposed_to_matlabs_array(tmp_path):
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "big.mat"
    with h5py.File(path, "w", userblock_size=512) as f:
        f.create_dataset("vol", data=VOLUME.T)           # MATLAB writes column-major: dims reversed
    with open(path, "r+b") as f:
        f.write(b"MATLAB 7.3 MAT-file, Platform: GLNXA64".ljust(116, b" "))
    got = read(fileDatastore(path))
    assert got.shape == (2, 3, 4)
    np.testing.assert_array_equal(got, VOLUME)


def test_nifti_round_trip_and_info(tmp_path):
    nib = pytest.importorskip("nibabel")
    data = (VOLUME * 10).astype(np.int16)
    nib.save(nib.Nifti1Image(data, np.diag([2.0, 3.0, 4.0, 1.0])), tmp_path / "v.nii.gz")
    v = niftiread(str(tmp_path / "v.nii.gz"))
    assert v.dtype == np.int16 and v.shape == (2, 3, 4)       # axes i, j, k as MATLAB's niftiread
    np.testing.assert_array_equal(v, data)
    info = niftiinfo(str(tmp_path / "v.nii.gz"))
    assert info["ImageSize"] == (2, 3, 4) and info["PixelDimensions"] == (2.0, 3.0, 4.0)
    assert info["Version"] == "NIfTI1" and info["Datatype"] == "int16"
    np.testing.assert_array_equal(info["Transform"][3, :3], [0, 0, 0])
    np.testing.assert_array_equal(read(imageDatastore(tmp_path)), data)


def test_nifti_scaling_is_reported_not_applied(tmp_path):
    nib = pytest.importorskip("nibabel")
    img = nib.Nifti1Image(VOLUME.astype(np.float64) * 1000.5, np.eye(4))
    img.set_data_dtype(np.int16)                              # nibabel stores a slope
    nib.save(img, tmp_path / "s.nii")
    info = niftiinfo(str(tmp_path / "s.nii"))
    stored = niftiread(str(tmp_path / "s.nii"))
    assert stored.dtype == np.int16 and info["MultiplicativeScaling"] != 1.0
    scaled = stored * info["MultiplicativeScaling"] + info["AdditiveOffset"]
    np.testing.assert_allclose(scaled, VOLUME * 1000.5, rtol=1e-3, atol=1.0)


def test_png_reads_as_matlab_imread(tmp_path):
    image_module = pytest.importorskip("PIL.Image")
    rgb = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
    image_module.fromarray(rgb).save(tmp_path / "a.png")
    image_module.fromarray(rgb[..., 0]).save(tmp_path / "b.png")
    a, b = read(imageDatastore(tmp_path, ReadSize=2))
    np.testing.assert_array_equal(a, rgb)
    assert b.shape == (4, 5)


def test_corrupt_and_unsupported_files_are_named(tmp_path):
    (tmp_path / "bad.npy").write_bytes(b"not a numpy file")
    with pytest.raises(MException, match="bad.npy") as err:
        read(imageDatastore(tmp_path))
    assert err.value.identifier.endswith("UnreadableFile")
    (tmp_path / "x.xyz").write_text("?")
    with pytest.raises(MException, match="No reader for the extension '.xyz'"):
        read(fileDatastore(tmp_path / "x.xyz"))


def test_missing_extra_names_the_pip_command(monkeypatch):
    real = importlib.import_module

    def fake(name, *args):
        if name.startswith("nibabel"):
            raise ImportError("no nibabel")
        return real(name, *args)
    monkeypatch.setattr(readers.importlib, "import_module", fake)
    with pytest.raises(MException, match=r"pip install layergraph\[io\]"):
        niftiread("whatever.nii")
