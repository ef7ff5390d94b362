"""syntheticSegmentation3d and ``layergraph demo segmentation`` (a tiny, fast version)."""
import numpy as np
import pytest

from layergraph import MException, cli, syntheticSegmentation3d
from layergraph.datasets import SEGMENTATION_CLASSES


def test_segmentation_volumes_labels_and_determinism():
    X, L = syntheticSegmentation3d(6, 12, seed=4)
    assert X.shape == (12, 12, 12, 1, 6) and X.dtype == np.float32
    assert L.shape == (12, 12, 12, 6) and set(np.unique(L)) == set(SEGMENTATION_CLASSES)
    for i in range(6):                      # every volume holds a ball and a cube
        assert {"ball", "cube"} <= set(np.unique(L[..., i]))
    inside = X[..., 0, :][L != "background"].mean()
    assert inside > X[..., 0, :][L == "background"].mean() + 0.4
    X2, L2 = syntheticSegmentation3d(6, 12, seed=4)
    np.testing.assert_array_equal(X, X2) and np.testing.assert_array_equal(L, L2)
    assert not np.array_equal(syntheticSegmentation3d(6, 12, seed=5)[1], L)


@pytest.mark.parametrize("args", [(0,), (4, 4), (2.5,), (4, 12, -1)])
def test_segmentation_set_bad_arguments(args):
    with pytest.raises(MException):
        syntheticSegmentation3d(*args)


def test_demo_segmentation_tiny_run(capsys):
    code = cli.main(["demo", "segmentation", "--epochs", "1", "--num-train", "8", "--volume", "8"])
    out = capsys.readouterr().out
    assert "unet3dLayers([8 8 8 1], 3, EncoderDepth=2, NumFirstEncoderFilters=4)" in out
    assert "Layers: [40x1 nnet.cnn.layer.Layer]" in out and "Mini-batch" in out
    for name in SEGMENTATION_CLASSES:
        assert f"   {name:<10}  Dice " in out
    mean = float(out.split("Mean Dice: ")[1].split()[0])
    assert 0 <= mean <= 1 and code == (0 if mean >= 0.9 else 1)


def test_demo_segmentation_rejects_bad_flags(capsys):
    with pytest.raises(SystemExit):
        cli.main(["demo", "segmentation", "--volume", "10"])
    assert "multiple of 4" in capsys.readouterr().err
