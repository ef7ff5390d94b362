"""Max pooling in cache blocks of (C, N) slices, without materialised padding, vs the oracle."""
import numpy as np
import pytest

from helpers import reference
from layergraph.ops import pooling


@pytest.mark.parametrize("block_bytes", [1, 200, 2**21])
@pytest.mark.parametrize("pad", [((0, 0), (0, 0)), ((1, 1), (0, 1)), ((2, 0), (1, 1))])
def test_blocked_max_pool_matches_oracle_with_ties(block_bytes, pad, rng,
                                                               monkeypatch):
    monkeypatch.setattr(pooling, "BLOCK_BYTES", block_bytes)
    x = rng.integers(0, 3, (3, 4, 7, 6)).astype(np.float64)     # ties everywhere
    pool, stride = (3, 2), (2, 1)
    y, cache = pooling.max_pool_forward(x, pool, stride, pad)
    np.testing.assert_array_equal(y, reference.max_pool(x, pool, stride, pad))
    dy = rng.standard_normal(y.shape)
    np.testing.assert_allclose(pooling.max_pool_backward(dy, cache),
                               reference.max_pool_backward(x, dy, pool, stride, pad),
                               rtol=1e-12)


def test_nan_propagates_and_nothing_after_it_takes_the_gradient():
    """Strict ``>`` against a NaN running maximum is false: the gradient stays where it was."""
    x = np.array([[[[1.0, np.nan, 3.0, 2.0]]]])
    y, cache = pooling.max_pool_forward(x, (1, 3), (1, 1), ((0, 0), (0, 0)))
    assert np.isnan(y[0, 0, 0]).tolist() == [True, True]
    dx = pooling.max_pool_backward(np.ones_like(y), cache)
    np.testing.assert_array_equal(dx[0, 0, 0], [1.0, 1.0, 0.0, 0.0])
