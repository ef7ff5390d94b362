"""Cross entropy (MATLAB crossentropyex) and half mean squared error."""
import numpy as np
import pytest

from helpers import reference
from helpers.gradcheck import check_gradients, tolerance
from layergraph.ops import _backend, activation, loss

EPS_SINGLE = np.float32(2.0 ** -23)


def _targets(k, n, rng):
    return np.eye(k)[:, rng.integers(0, k, n)]


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cross_entropy_forward(weighted, dtype, rng, xp):
    y = activation.softmax_forward(rng.standard_normal((4, 5)))[0].astype(dtype)
    t = _targets(4, 5, rng).astype(dtype)
    weights = rng.uniform(0.5, 2, 4).astype(dtype) if weighted else None
    value, _ = loss.cross_entropy_forward(xp.asarray(y), xp.asarray(t),
                                          None if weights is None else xp.asarray(weights))
    assert isinstance(value, xp.ndarray) and value.shape == () and value.dtype == dtype
    np.testing.assert_allclose(float(value), reference.cross_entropy(y, t, weights),
                               **tolerance(dtype))


def test_cross_entropy_bounds_single_predictions_at_eps():
    y = np.array([[0.0, 1.0], [1.0, 0.0]], dtype=np.float32)
    t = np.eye(2, dtype=np.float32)
    value, cache = loss.cross_entropy_forward(y, t)
    np.testing.assert_allclose(float(value), -2 * np.log(EPS_SINGLE) / 2, rtol=1e-6)
    dy = loss.cross_entropy_backward(cache)
    np.testing.assert_allclose(dy, [[-1 / (2 * EPS_SINGLE), 0.0], [0.0, -1 / (2 * EPS_SINGLE)]],
                               rtol=1e-6)


def test_cross_entropy_divides_by_observations_not_pixels(rng):
    y = activation.softmax_forward(rng.standard_normal((3, 2, 1, 1)))[0]
    t = _targets(3, 2, rng).reshape(3, 2, 1, 1)
    value, _ = loss.cross_entropy_forward(y, t)
    np.testing.assert_allclose(float(value), reference.cross_entropy(y[:, :, 0, 0], t[:, :, 0, 0]),
                               rtol=1e-12)


@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_gradient(weighted, rng):
    y = rng.uniform(0.05, 1.0, (4, 3))
    t = rng.uniform(0, 1, (4, 3))
    weights = rng.uniform(0.5, 2, 4) if weighted else None
    _, cache = loss.cross_entropy_forward(y, t, weights)
    dy = loss.cross_entropy_backward(cache)
    check_gradients(lambda y: loss.cross_entropy_forward(y, t, weights)[0], (y,), (dy,), rng)


def test_softmax_then_cross_entropy_gradient_is_y_minus_t_over_n(rng):
    x = rng.standard_normal((5, 4))
    t = _targets(5, 4, rng)
    y, softmax_cache = activation.softmax_forward(x)
    _, cache = loss.cross_entropy_forward(y, t)
    dx = activation.softmax_backward(loss.cross_entropy_backward(cache), softmax_cache)
    np.testing.assert_allclose(dx, (y - t) / 4, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_mse(dtype, rng, xp):
    y = rng.standard_normal((3, 4, 1, 1)).astype(dtype)
    t = rng.standard_normal((3, 4, 1, 1)).astype(dtype)
    value, cache = loss.mse_forward(xp.asarray(y), xp.asarray(t))
    np.testing.assert_allclose(float(value), reference.mse(y, t), **tolerance(dtype))
    dy = _backend.to_host(loss.mse_backward(cache))
    np.testing.assert_allclose(dy, (y.astype(np.float64) - t) / 4, **tolerance(dtype))


def test_mse_gradient(rng):
    y, t = rng.standard_normal((2, 5)), rng.standard_normal((2, 5))
    dy = loss.mse_backward(loss.mse_forward(y, t)[1])
    check_gradients(lambda y: loss.mse_forward(y, t)[0], (y,), (dy,), rng)


def test_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"y of shape \(3, 2\) and t of shape \(2, 3\)"):
        loss.cross_entropy_forward(np.ones((3, 2)), np.ones((2, 3)))
