"""relu and softmax: oracle, stability, finite differences."""
import numpy as np
import pytest

from helpers import reference
from helpers.gradcheck import check_gradients, tolerance
from layergraph.ops import _backend, activation


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_relu(dtype, rng, xp):
    x = rng.standard_normal((3, 2, 4, 5)).astype(dtype)
    y, cache = activation.relu_forward(xp.asarray(x))
    np.testing.assert_array_equal(_backend.to_host(y), reference.relu(x).astype(dtype))
    dy = rng.standard_normal(y.shape).astype(dtype)
    dx = _backend.to_host(activation.relu_backward(xp.asarray(dy), cache))
    assert dx.dtype == dtype
    np.testing.assert_array_equal(dx, np.where(x > 0, dy, 0))


def test_relu_gradient(rng):
    x = rng.standard_normal((2, 3, 4))
    y, cache = activation.relu_forward(x)
    dy = rng.standard_normal(y.shape)
    dx = activation.relu_backward(dy, cache)
    check_gradients(lambda x: np.vdot(activation.relu_forward(x)[0], dy), (x,), (dx,), rng)


@pytest.mark.parametrize("shape", [(5, 3), (4, 2, 1, 1, 1)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_forward(shape, dtype, rng, xp):
    x = (3 * rng.standard_normal(shape)).astype(dtype)
    y, _ = activation.softmax_forward(xp.asarray(x))
    assert y.dtype == dtype
    np.testing.assert_allclose(_backend.to_host(y), reference.softmax(x), **tolerance(dtype))


def test_softmax_is_stable_for_large_inputs():
    y, _ = activation.softmax_forward(np.array([[1000.0, -1000.0], [999.0, -1001.0]],
                                               dtype=np.float32))
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(y[:, 0], [1 / (1 + np.exp(-1)), 1 / (1 + np.e)], rtol=1e-6)


def test_softmax_gradient(rng):
    x = rng.standard_normal((4, 3, 1, 1))
    y, cache = activation.softmax_forward(x)
    dy = rng.standard_normal(y.shape)
    dx = activation.softmax_backward(dy, cache)
    check_gradients(lambda x: np.vdot(activation.softmax_forward(x)[0], dy), (x,), (dx,), rng)
