"""fc_forward / fc_backward: MATLAB column-major flattening, gradients."""
import numpy as np
import pytest

from helpers import reference
from helpers.gradcheck import check_gradients, tolerance
from layergraph.ops import _backend, fully_connected

SPATIAL = {0: (), 1: (3,), 2: (3, 2), 3: (2, 3, 2), "pooled": (1, 1, 1)}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("spatial", list(SPATIAL))
def test_forward_matches_column_major_oracle(spatial, dtype, rng, xp):
    x = rng.standard_normal((3, 2) + SPATIAL[spatial]).astype(dtype)
    w = rng.standard_normal((4, x[:, 0].size)).astype(dtype)
    b = rng.standard_normal(4).astype(dtype)
    y, _ = fully_connected.fc_forward(xp.asarray(x), xp.asarray(w), xp.asarray(b))
    assert y.shape == (4, 2) + (1,) * len(SPATIAL[spatial]) and y.dtype == dtype
    np.testing.assert_allclose(_backend.to_host(y).reshape(4, 2),
                               reference.fully_connected(x, w, b), **tolerance(dtype))


@pytest.mark.parametrize("spatial", list(SPATIAL))
def test_backward_matches_finite_differences(spatial, rng):
    x = rng.standard_normal((3, 2) + SPATIAL[spatial])
    w = rng.standard_normal((4, x[:, 0].size))
    b = rng.standard_normal(4)
    y, cache = fully_connected.fc_forward(x, w, b)
    dy = rng.standard_normal(y.shape)
    grads = fully_connected.fc_backward(dy, cache)
    check_gradients(lambda *a: np.vdot(fully_connected.fc_forward(*a)[0], dy), (x, w, b), grads,
                    rng)
    assert fully_connected.fc_backward(dy, cache, need=(False, True, False))[0::2] == (None, None)


def test_weight_size_mismatch_is_an_error():
    with pytest.raises(ValueError, match=r"\(OutputSize, 12\).*Received: w of shape \(4, 5\)"):
        fully_connected.fc_forward(np.zeros((3, 2, 2, 2)), np.zeros((4, 5)), None)
