"""Max, average and global average pooling: naive oracle, finite differences, edge cases."""
import numpy as np
import pytest

from helpers import reference
from helpers.gradcheck import check_gradients, tolerance
from layergraph.ops import _backend, _shapes, pooling

SIZES = (5, 6, 4)
POOLS = (3, 2, 2)
PADDINGS = ["none", "asymmetric", "same"]
KINDS = ["max", "avg", "avg-mean"]


def _case(ndim, stride, padding, rng, dtype=np.float64):
    sizes, pool, stride = SIZES[:ndim], POOLS[:ndim], (stride,) * ndim
    pad = {"none": ((0, 0),) * ndim,
           "asymmetric": ((0, 1), (1, 0), (1, 1))[:ndim],
           "same": _shapes.same_padding(sizes, pool, stride)}[padding]
    return rng.standard_normal((2, 2) + sizes).astype(dtype), pool, stride, pad


def _run(kind, x, pool, stride, pad):
    if kind == "max":
        return pooling.max_pool_forward(x, pool, stride, pad)
    value = "mean" if kind == "avg-mean" else 0
    return pooling.avg_pool_forward(x, pool, stride, pad, padding_value=value)


def _backward(kind, dy, cache):
    return (pooling.max_pool_backward if kind == "max" else pooling.avg_pool_backward)(dy, cache)


def _oracle(kind, x, pool, stride, pad):
    if kind == "max":
        return reference.max_pool(x, pool, stride, pad)
    return reference.avg_pool(x, pool, stride, pad, "mean" if kind == "avg-mean" else 0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("ndim", [1, 2, 3])
@pytest.mark.parametrize("kind", KINDS)
def test_forward_matches_naive_loop(kind, ndim, stride, padding, dtype, rng, xp):
    x, pool, stride, pad = _case(ndim, stride, padding, rng, dtype)
    y, _ = _run(kind, xp.asarray(x), pool, stride, pad)
    assert y.dtype == dtype
    np.testing.assert_allclose(_backend.to_host(y), _oracle(kind, x, pool, stride, pad),
                               **tolerance(dtype))


@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("ndim", [1, 2, 3])
@pytest.mark.parametrize("kind", KINDS)
def test_backward_matches_finite_differences(kind, ndim, stride, padding, rng):
    x, pool, stride, pad = _case(ndim, stride, padding, rng)
    y, cache = _run(kind, x, pool, stride, pad)
    dy = rng.standard_normal(y.shape)
    dx = _backward(kind, dy, cache)
    check_gradients(lambda x: np.vdot(_run(kind, x, pool, stride, pad)[0], dy), (x,), (dx,), rng)


@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("ndim", [2, 3])
def test_max_pool_backward_with_many_ties_matches_column_major_oracle(ndim, stride, rng):
    x, pool, stride, pad = _case(ndim, stride, "same", rng)
    x = rng.integers(0, 3, x.shape).astype(np.float64)        # many ties in every window
    y, cache = pooling.max_pool_forward(x, pool, stride, pad)
    dy = rng.standard_normal(y.shape)
    np.testing.assert_allclose(pooling.max_pool_backward(dy, cache),
                               reference.max_pool_backward(x, dy, pool, stride, pad), rtol=1e-12)


def test_max_pool_ties_send_gradient_to_first_maximum():
    x = np.ones((1, 1, 2, 2))
    y, cache = pooling.max_pool_forward(x, (2, 2), (1, 1), ((0, 0), (0, 0)))
    dx = pooling.max_pool_backward(np.ones_like(y), cache)
    np.testing.assert_array_equal(dx[0, 0], [[1.0, 0.0], [0.0, 0.0]])


def test_max_pool_ties_are_scanned_in_column_major_order():
    x = np.array([[[[0.0, 2.0], [2.0, 1.0]]]])           # x[h, w]: maxima at (0, 1) and (1, 0)
    y, cache = pooling.max_pool_forward(x, (2, 2), (1, 1), ((0, 0), (0, 0)))
    dx = pooling.max_pool_backward(np.ones_like(y), cache)
    np.testing.assert_array_equal(dx[0, 0], [[0.0, 0.0], [1.0, 0.0]])


def test_max_pool_accumulates_over_overlapping_windows():
    x = np.array([[[0.0, 5.0, 1.0, 2.0]]])
    y, cache = pooling.max_pool_forward(x, (2,), (1,), ((0, 0),))
    dx = pooling.max_pool_backward(np.array([[[1.0, 2.0, 4.0]]]), cache)
    np.testing.assert_array_equal(dx, [[[0.0, 3.0, 0.0, 4.0]]])


def test_max_pool_padding_never_wins_over_negative_values():
    x = -np.ones((1, 1, 3))
    y, _ = pooling.max_pool_forward(x, (3,), (2,), ((1, 1),))
    np.testing.assert_array_equal(y, [[[-1.0, -1.0]]])


def test_windows_made_only_of_padding_are_rejected():
    with pytest.raises(ValueError, match="only padding"):
        pooling.max_pool_forward(np.zeros((1, 1, 3)), (2,), (1,), ((2, 0),))
    with pytest.raises(ValueError, match="only padding"):
        pooling.avg_pool_forward(np.zeros((1, 1, 3)), (2,), (1,), ((0, 2),), padding_value="mean")
    y, _ = pooling.avg_pool_forward(np.ones((1, 1, 3)), (2,), (1,), ((2, 0),))
    np.testing.assert_array_equal(y, [[[0.0, 0.5, 1.0, 1.0]]])


def test_avg_pool_rejects_other_padding_values():
    with pytest.raises(ValueError, match="Received: 'symmetric'"):
        pooling.avg_pool_forward(np.zeros((1, 1, 3)), (2,), (1,), ((0, 0),), "symmetric")


@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_global_average_pooling(ndim, rng, xp):
    x = rng.standard_normal((3, 2) + SIZES[:ndim])
    y, cache = pooling.global_avg_pool_forward(xp.asarray(x))
    assert y.shape == (3, 2) + (1,) * ndim
    np.testing.assert_allclose(_backend.to_host(y), reference.global_avg_pool(x), rtol=1e-12)
    dy = rng.standard_normal(y.shape)
    dx = pooling.global_avg_pool_backward(xp.asarray(dy), cache)
    dx += 0  # writable, not a broadcast view
    check_gradients(lambda x: np.vdot(pooling.global_avg_pool_forward(x)[0], dy), (x,),
                    (_backend.to_host(dx),), rng)


@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_max_pool_without_argmax_is_the_same_pooling(ndim, stride, padding, rng):
    """Inference skips the argmax bookkeeping: same output, and a backward from that cache
    (the offsets found then) routes exactly as one from a training forward, ties included."""
    x, pool, stride, pad = _case(ndim, stride, padding, rng)
    x = np.round(x)                                         # many ties
    y, cache = pooling.max_pool_forward(x, pool, stride, pad)
    y_fast, cache_fast = pooling.max_pool_forward(x, pool, stride, pad, keep_argmax=False)
    assert cache_fast[0] is None
    np.testing.assert_array_equal(y_fast, y)
    dy = rng.standard_normal(y.shape)
    np.testing.assert_array_equal(pooling.max_pool_backward(dy, cache_fast),
                                  pooling.max_pool_backward(dy, cache))
