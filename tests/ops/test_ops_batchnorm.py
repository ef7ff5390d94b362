"""batchnorm_forward / batchnorm_backward: oracle, returned statistics, purity, gradients."""
import numpy as np
import pytest

from helpers import reference
from helpers.gradcheck import check_gradients, tolerance
from layergraph.ops import _backend, batchnorm

EPSILON = 1e-5


def _case(ndim, rng, dtype=np.float64, channels=3):
    x = (2.0 + 3.0 * rng.standard_normal((channels, 4) + (3, 4, 2)[:ndim])).astype(dtype)
    scale = rng.uniform(0.5, 2.0, channels).astype(dtype)
    offset = rng.standard_normal(channels).astype(dtype)
    mean = rng.standard_normal(channels).astype(dtype)
    var = rng.uniform(0.5, 2.0, channels).astype(dtype)
    return x, scale, offset, mean, var


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_training_uses_biased_batch_statistics(ndim, dtype, rng, xp):
    x, scale, offset, _, _ = _case(ndim, rng, dtype)
    before = x.copy()
    y, _, (mean, var) = batchnorm.batchnorm_forward(
        xp.asarray(x), xp.asarray(scale), xp.asarray(offset), EPSILON, True)
    axes = tuple(i for i in range(x.ndim) if i != 0)
    np.testing.assert_allclose(_backend.to_host(mean), x.astype(np.float64).mean(axis=axes),
                               **tolerance(dtype))
    np.testing.assert_allclose(_backend.to_host(var), x.astype(np.float64).var(axis=axes),
                               **tolerance(dtype))
    np.testing.assert_allclose(_backend.to_host(y), reference.batchnorm(x, scale, offset, EPSILON),
                               **tolerance(dtype))
    assert y.dtype == dtype and mean.dtype == dtype
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_inference_uses_given_statistics_and_returns_them(ndim, rng, xp):
    x, scale, offset, mean, var = _case(ndim, rng)
    args = [xp.asarray(a) for a in (x, scale, offset)]
    y, _, stats = batchnorm.batchnorm_forward(*args, EPSILON, False, xp.asarray(mean),
                                              xp.asarray(var))
    np.testing.assert_allclose(_backend.to_host(y),
                               reference.batchnorm(x, scale, offset, EPSILON, mean, var),
                               rtol=1e-12)
    np.testing.assert_array_equal(_backend.to_host(stats[0]), mean)
    np.testing.assert_array_equal(_backend.to_host(stats[1]), var)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_backward_matches_finite_differences(ndim, training, rng):
    x, scale, offset, mean, var = _case(ndim, rng)
    stats = (None, None) if training else (mean, var)

    def forward(x, scale, offset):
        return batchnorm.batchnorm_forward(x, scale, offset, EPSILON, training, *stats)

    y, cache, _ = forward(x, scale, offset)
    dy = rng.standard_normal(y.shape)
    grads = batchnorm.batchnorm_backward(dy, cache)
    check_gradients(lambda *a: np.vdot(forward(*a)[0], dy), (x, scale, offset), grads, rng)


def test_need_flags(rng):
    x, scale, offset, _, _ = _case(2, rng)
    y, cache, _ = batchnorm.batchnorm_forward(x, scale, offset, EPSILON, True)
    dy = rng.standard_normal(y.shape)
    full = batchnorm.batchnorm_backward(dy, cache)
    dx, dscale, doffset = batchnorm.batchnorm_backward(dy, cache, need=(True, False, False))
    assert dscale is None and doffset is None
    np.testing.assert_allclose(dx, full[0], rtol=1e-12)


def test_inference_without_statistics_is_an_error(rng):
    x, scale, offset, mean, _ = _case(1, rng)
    with pytest.raises(ValueError, match="var=None"):
        batchnorm.batchnorm_forward(x, scale, offset, EPSILON, False, mean, None)


def test_wrong_vector_shape_is_an_error(rng):
    x, scale, offset, _, _ = _case(1, rng)
    with pytest.raises(ValueError, match=r"scale of shape \(2,\)"):
        batchnorm.batchnorm_forward(x, scale[:2], offset, EPSILON, True)


@pytest.mark.parametrize("training", [True, False])
def test_backward_leaves_its_inputs_and_cache_alone(training, rng):
    x, scale, offset, mean, var = _case(3, rng, np.float32)
    stats = (None, None) if training else (mean, var)
    y, cache, _ = batchnorm.batchnorm_forward(x, scale, offset, EPSILON, training, *stats)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    x_before, dy_before = x.copy(), dy.copy()
    first = batchnorm.batchnorm_backward(dy, cache)
    second = batchnorm.batchnorm_backward(dy, cache)     # the cache still gives the same answer
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(dy, dy_before)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


def test_float32_statistics_of_a_large_offset_batch_stay_accurate(rng):
    """Centred two-pass variance over 2^18 values per channel, far from zero mean."""
    x = (100.0 + 0.5 * rng.standard_normal((2, 8, 32, 32, 32))).astype(np.float32)
    ones, zeros = np.ones(2, np.float32), np.zeros(2, np.float32)
    y, _, (mean, var) = batchnorm.batchnorm_forward(x, ones, zeros, EPSILON, True)
    exact = x.astype(np.float64).reshape(2, -1)
    np.testing.assert_allclose(mean, exact.mean(axis=1), rtol=1e-6)
    np.testing.assert_allclose(var, exact.var(axis=1), rtol=1e-5)
    np.testing.assert_allclose(y.reshape(2, -1).std(axis=1, dtype=np.float64), 1.0, rtol=1e-4)
