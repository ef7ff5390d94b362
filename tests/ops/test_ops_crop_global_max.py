"""Crop and global max pooling: oracles, finite differences, ties, bad windows."""
import numpy as np
import pytest

from helpers.gradcheck import check_gradients
from layergraph.ops import _backend, crop, global_pooling


@pytest.mark.parametrize("sizes, out", [((5,), (3,)), ((6, 7), (3, 4)), ((4, 5, 6), (2, 5, 3))])
def test_crop_forward_backward(sizes, out, rng, xp):
    x = rng.standard_normal((2, 3) + sizes)
    start = crop.center_crop_start(sizes, out)
    assert start == tuple((n - o) // 2 for n, o in zip(sizes, out))
    y, cache = crop.crop_forward(xp.asarray(x), start, out)
    index = (slice(None), slice(None)) + tuple(slice(s, s + o) for s, o in zip(start, out))
    np.testing.assert_array_equal(_backend.to_host(y), x[index])
    dy = rng.standard_normal(y.shape)
    dx = _backend.to_host(crop.crop_backward(xp.asarray(dy), cache))
    expected = np.zeros_like(x)
    expected[index] = dy
    np.testing.assert_array_equal(dx, expected)


def test_crop_gradient(rng):
    x = rng.standard_normal((2, 2, 5, 4))
    y, cache = crop.crop_forward(x, (1, 0), (3, 3))
    dy = rng.standard_normal(y.shape)
    check_gradients(lambda x: np.vdot(crop.crop_forward(x, (1, 0), (3, 3))[0], dy), (x,),
                    (crop.crop_backward(dy, cache),), rng)


def test_crop_copies_and_rejects_windows_outside():
    x = np.zeros((1, 1, 4, 4))
    y, _ = crop.crop_forward(x, (0, 0), (2, 2))
    y[...] = 1
    assert not x.any()
    with pytest.raises(ValueError, match="inside the input"):
        crop.crop_forward(x, (3, 0), (2, 2))
    with pytest.raises(ValueError, match="inside the input"):
        crop.crop_forward(x, (0,), (2,))


@pytest.mark.parametrize("shape", [(2, 3, 5), (2, 3, 4, 5), (3, 2, 2, 3, 4)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_global_max_pool(shape, dtype, rng, xp):
    x = rng.standard_normal(shape).astype(dtype)
    y, cache = global_pooling.global_max_pool_forward(xp.asarray(x))
    assert y.shape == shape[:2] + (1,) * (len(shape) - 2) and y.dtype == dtype
    spatial = tuple(range(2, len(shape)))
    np.testing.assert_array_equal(_backend.to_host(y).reshape(shape[:2]), x.max(axis=spatial))
    dy = rng.standard_normal(y.shape).astype(dtype)
    dx = _backend.to_host(global_pooling.global_max_pool_backward(xp.asarray(dy), cache))
    expected = np.where(x == x.max(axis=spatial, keepdims=True), dy, 0)
    np.testing.assert_array_equal(dx, expected)


def test_global_max_pool_gradient(rng):
    x = rng.standard_normal((2, 3, 3, 4))
    y, cache = global_pooling.global_max_pool_forward(x)
    dy = rng.standard_normal(y.shape)
    dx = global_pooling.global_max_pool_backward(dy, cache)
    check_gradients(lambda x: np.vdot(global_pooling.global_max_pool_forward(x)[0], dy), (x,),
                    (dx,), rng)


def test_global_max_pool_ties_go_to_the_first_in_column_major_order():
    x = np.zeros((1, 1, 2, 2))
    x[0, 0, 1, 0] = x[0, 0, 0, 1] = 5.0        # (h=2, w=1) comes before (h=1, w=2)
    _, cache = global_pooling.global_max_pool_forward(x)
    dx = global_pooling.global_max_pool_backward(np.ones((1, 1, 1, 1)), cache)
    assert dx[0, 0, 1, 0] == 1 and dx.sum() == 1


@pytest.mark.parametrize("shape", [(2, 3, 3, 4), (2, 2, 3, 2, 4)])
def test_global_max_pool_ties_match_a_column_major_search(shape, rng, xp):
    x = rng.integers(0, 3, shape).astype(np.float64)          # many ties
    _, cache = global_pooling.global_max_pool_forward(xp.asarray(x))
    dx = _backend.to_host(global_pooling.global_max_pool_backward(
        xp.ones(shape[:2] + (1,) * (len(shape) - 2)), cache))
    for c in range(shape[0]):
        for n in range(shape[1]):
            column_major = x[c, n].ravel(order="F")
            first = np.unravel_index(column_major.argmax(), x.shape[2:], order="F")
            expected = np.zeros(x.shape[2:])
            expected[first] = 1
            np.testing.assert_array_equal(dx[c, n], expected)
