"""MATLAB initializers: distributions, reproducibility, dtype, errors."""
import numpy as np
import pytest

from layergraph.ops import initializers

SHAPE = (64, 8, 3, 3)          # F, C, kh, kw: fan_in = 72, fan_out = 576


def test_he_is_normal_with_variance_two_over_fan_in(rng):
    w = initializers.initialize("he", SHAPE, 72, 576, rng, dtype=np.float64)
    assert w.shape == SHAPE
    assert abs(w.mean()) < 0.01
    np.testing.assert_allclose(w.std(), np.sqrt(2 / 72), rtol=0.03)


def test_glorot_is_uniform_within_the_glorot_bound(rng):
    w = initializers.initialize("glorot", SHAPE, 72, 576, rng, dtype=np.float64)
    bound = np.sqrt(6 / (72 + 576))
    assert w.max() <= bound and w.min() >= -bound
    assert w.max() > 0.99 * bound and w.min() < -0.99 * bound
    np.testing.assert_allclose(w.var(), bound ** 2 / 3, rtol=0.03)


def test_narrow_normal_zeros_ones(rng):
    np.testing.assert_allclose(
        initializers.initialize("narrow-normal", SHAPE, 1, 1, rng).std(), 0.01, rtol=0.03)
    assert not initializers.initialize("zeros", (2, 3), 1, 1, rng).any()
    assert (initializers.initialize("ones", (2, 3), 1, 1, rng) == 1).all()


@pytest.mark.parametrize("name", ["he", "glorot", "narrow-normal"])
def test_reproducible_from_the_generator_and_float32_by_default(name):
    a = initializers.initialize(name, (3, 4), 4, 3, np.random.default_rng(7))
    b = initializers.initialize(name, (3, 4), 4, 3, np.random.default_rng(7))
    c = initializers.initialize(name, (3, 4), 4, 3, np.random.default_rng(8))
    assert a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_names_are_case_insensitive(rng):
    assert initializers.initialize("Ones", (2,), 1, 1, rng).tolist() == [1.0, 1.0]


def test_unknown_name_lists_the_allowed_ones(rng):
    with pytest.raises(ValueError, match=r"'glorot', 'he'.*Received: 'xavier'"):
        initializers.initialize("xavier", (2,), 1, 1, rng)
