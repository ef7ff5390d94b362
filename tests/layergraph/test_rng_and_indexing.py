"""rng's MATLAB forms, and layer-array indexing errors."""
import numpy as np
import pytest

from layergraph import MException, resnet3dLayers, rng
from layergraph.rng import global_generator


def _draw(seed):
    rng(*seed) if isinstance(seed, tuple) else rng(seed)
    return global_generator().random(3)


@pytest.mark.parametrize("same", [7.0, np.int64(7), np.float32(7), (7, "twister")])
def test_rng_accepts_matlab_numbers(same):
    np.testing.assert_array_equal(_draw(7), _draw(same))


def test_rng_default_is_seed_zero_and_shuffle_differs():
    np.testing.assert_array_equal(_draw("default"), _draw(0))
    assert not np.array_equal(_draw("shuffle"), _draw("shuffle"))


@pytest.mark.parametrize("bad", [-1, 2.5, np.nan, np.inf, True, "twister", None, [1]])
def test_rng_rejects_bad_seeds(bad):
    with pytest.raises(MException) as e:
        rng(bad)
    assert e.value.identifier == "MATLAB:rng:badSeed"


def test_layer_array_index_errors():
    layers = resnet3dLayers([64, 64, 64], 3).Layers
    with pytest.raises(IndexError) as e:
        layers[len(layers)]
    assert isinstance(e.value, MException) and f"Received: {len(layers)}." in str(e.value)
    assert f"has {len(layers)} layers" in str(e.value)
    assert layers[-1].Name == "output"
    for bad in (1.5, None, True):
        with pytest.raises(MException, match="indexed by an integer"):
            layers[bad]
