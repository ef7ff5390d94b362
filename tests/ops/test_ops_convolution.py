"""conv_forward / conv_backward: naive oracle, finite differences, tiling and 1x1 paths."""
import math

import numpy as np
import pytest

from helpers import reference
from helpers.gradcheck import check_gradients, tolerance
from layergraph.ops import _shapes, convolution
from layergraph.ops.convolution import im2col as _im2col
from layergraph.ops.convolution import select as conv_select

SIZES = (5, 6, 5)          # odd and even spatial sizes
KERNELS = (3, 2, 3)        # odd and even kernel sizes
PADDINGS = ["none", "symmetric", "asymmetric", "same"]


def _case(ndim, stride, padding, dilation, rng, dtype=np.float64, c=3, n=2, f=4):
    sizes, kernel = SIZES[:ndim], KERNELS[:ndim]
    stride, dilation = (stride,) * ndim, (dilation,) * ndim
    pad = {"none": ((0, 0),) * ndim,
           "symmetric": ((1, 1),) * ndim,
           "asymmetric": ((0, 2), (1, 0), (2, 1))[:ndim],
           "same": _shapes.same_padding(sizes, kernel, stride, dilation)}[padding]
    x = rng.standard_normal((c, n) + sizes).astype(dtype)
    w = rng.standard_normal((f, c) + kernel).astype(dtype)
    b = rng.standard_normal(f).astype(dtype)
    return x, w, b, stride, pad, dilation


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("dilation", [1, 2])
@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_forward_matches_naive_loop(ndim, stride, padding, dilation, dtype, rng):
    x, w, b, stride, pad, dilation = _case(ndim, stride, padding, dilation, rng, dtype)
    y, _ = convolution.conv_forward(x, w, b, stride, pad, dilation)
    assert y.dtype == dtype
    expected = reference.conv(x, w, b, stride, pad, dilation)
    np.testing.assert_allclose(y, expected, **tolerance(dtype))


@pytest.mark.parametrize("dilation", [1, 2])
@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_backward_matches_finite_differences(ndim, stride, padding, dilation, rng):
    x, w, b, stride, pad, dilation = _case(ndim, stride, padding, dilation, rng, c=2, f=3)
    y, cache = convolution.conv_forward(x, w, b, stride, pad, dilation)
    dy = rng.standard_normal(y.shape)
    grads = convolution.conv_backward(dy, cache)

    def loss(x, w, b):
        return np.vdot(convolution.conv_forward(x, w, b, stride, pad, dilation)[0], dy)
    check_gradients(loss, (x, w, b), grads, rng)


def test_need_flags_skip_gradients(rng):
    x, w, b, stride, pad, dilation = _case(2, 1, "same", 1, rng)
    y, cache = convolution.conv_forward(x, w, None, stride, pad, dilation)
    dy = rng.standard_normal(y.shape)
    dx, dw, db = convolution.conv_backward(dy, cache, need=(False, True, True))
    assert dx is None and db is None and dw.shape == w.shape
    full = convolution.conv_backward(dy, cache)
    np.testing.assert_allclose(dw, full[1], rtol=1e-12)
    assert convolution.conv_backward(dy, cache, need=(True, False, False))[1] is None


@pytest.mark.parametrize("budget", [1, 3000])
@pytest.mark.parametrize("ndim", [2, 3])
def test_tiled_columns_match_untiled(ndim, budget, rng, monkeypatch):
    """A tiny budget forces per-plane tiles (1 byte) or groups of observations."""
    x, w, b, stride, pad, dilation = _case(ndim, 1, "same", 1, rng, n=3)
    y, cache = convolution.conv_forward(x, w, b, stride, pad, dilation)
    dy = rng.standard_normal(y.shape)
    grads = convolution.conv_backward(dy, cache)
    monkeypatch.setattr(conv_select, "COLUMN_BUDGET_BYTES", budget)
    tiles = conv_select._tiles(x, w.shape[2:], y.shape[2:])
    assert len(tiles) > 1 and (budget > 1 or len(tiles) > x.shape[1])
    y_tiled, cache_tiled = convolution.conv_forward(x, w, b, stride, pad, dilation)
    np.testing.assert_allclose(y_tiled, y, rtol=1e-12, atol=1e-12)
    for g_tiled, g in zip(convolution.conv_backward(dy, cache_tiled), grads):
        np.testing.assert_allclose(g_tiled, g, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("ndim", [1, 3])
def test_pointwise_gemm_matches_plain_path(ndim, stride, rng, monkeypatch):
    x = rng.standard_normal((3, 2) + SIZES[:ndim])
    w = rng.standard_normal((4, 3) + (1,) * ndim)
    b = rng.standard_normal(4)
    args = ((stride,) * ndim, ((0, 0),) * ndim, (1,) * ndim)
    y, cache = convolution.conv_forward(x, w, b, *args)
    dy = rng.standard_normal(y.shape)
    grads = convolution.conv_backward(dy, cache)
    np.testing.assert_allclose(y, reference.conv(x, w, b, *args), rtol=1e-12)
    monkeypatch.setattr(conv_select.pointwise, "applies", lambda w, pad: False)
    y_plain, cache_plain = convolution.conv_forward(x, w, b, *args)
    np.testing.assert_allclose(y, y_plain, rtol=1e-12, atol=1e-12)
    for g, g_plain in zip(grads, convolution.conv_backward(dy, cache_plain)):
        np.testing.assert_allclose(g, g_plain, rtol=1e-12, atol=1e-12)


def test_float32_input_keeps_float32_with_float64_weights(rng):
    x = rng.standard_normal((2, 1, 4, 4)).astype(np.float32)
    w = rng.standard_normal((3, 2, 3, 3))
    y, cache = convolution.conv_forward(x, w, np.zeros(3), (1, 1), ((1, 1), (1, 1)), (1, 1))
    grads = convolution.conv_backward(np.ones_like(y), cache)
    assert y.dtype == np.float32 and all(g.dtype == np.float32 for g in grads)


def test_channel_mismatch_names_both_shapes(rng):
    x, w = np.zeros((3, 1, 4, 4)), np.zeros((2, 5, 3, 3))
    message = r"x of shape \(3, 1, 4, 4\) and w of shape \(2, 5, 3, 3\)"
    with pytest.raises(ValueError, match=message):
        convolution.conv_forward(x, w, None, (1, 1), ((0, 0), (0, 0)), (1, 1))


def test_kernel_larger_than_padded_input_is_an_error():
    with pytest.raises(ValueError, match="smaller than the kernel"):
        convolution.conv_forward(np.zeros((1, 1, 2)), np.zeros((1, 1, 4)), None, (1,),
                                 ((0, 1),), (1,))


@pytest.mark.parametrize("dilation", [1, 2])
@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_unit_stride_dx_by_full_convolution_matches_col2im(ndim, padding, dilation, rng,
                                                           monkeypatch):
    x, w, b, stride, pad, dilation = _case(ndim, 1, padding, dilation, rng)
    assert conv_select._has_full_convolution_dx(w, stride, pad, dilation)
    y, cache = convolution.conv_forward(x, w, b, stride, pad, dilation)
    dy = rng.standard_normal(y.shape)
    dx = convolution.conv_backward(dy, cache)[0]
    monkeypatch.setattr(conv_select, "_has_full_convolution_dx", lambda *args: False)
    np.testing.assert_allclose(dx, convolution.conv_backward(dy, cache)[0], rtol=1e-12,
                               atol=1e-12)


def test_few_positions_for_many_filters_take_dx_by_col2im(rng, monkeypatch):
    """dy with fewer positions (N * prod(O) = 16) than filters: dx by col2im, not by the full
    convolution (its flipped, transposed copy of a large weight costs more than the GEMMs).
    Either way dx is the adjoint: <conv(x, w), dy> = <x, dx> (conv is linear in x)."""
    calls = []
    original = conv_select._full_convolution_dx
    monkeypatch.setattr(conv_select, "_full_convolution_dx",
                        lambda *args: calls.append(1) or original(*args))
    x = rng.standard_normal((3, 2, 2, 2, 2))
    args = ((1, 1, 1), ((1, 1),) * 3, (1, 1, 1))
    for filters, full in ((17, False), (16, True)):
        w = rng.standard_normal((filters, 3, 3, 3, 3))
        y, cache = convolution.conv_forward(x, w, None, *args)
        dy = rng.standard_normal(y.shape)
        calls.clear()
        dx = convolution.conv_backward(dy, cache, need=(True, False, False))[0]
        assert bool(calls) == full
        np.testing.assert_allclose(np.vdot(reference.conv(x, w, None, *args), dy),
                                   np.vdot(x, dx), rtol=1e-10)


def test_padding_beyond_the_kernel_extent_uses_col2im(rng):
    x, w = rng.standard_normal((2, 1, 5)), rng.standard_normal((3, 2, 2))
    args = ((1,), ((2, 0),), (1,))
    assert not conv_select._has_full_convolution_dx(w, *args)
    y, cache = convolution.conv_forward(x, w, None, *args)
    dy = rng.standard_normal(y.shape)
    dx = convolution.conv_backward(dy, cache)[0]
    check_gradients(lambda x: np.vdot(convolution.conv_forward(x, w, None, *args)[0], dy), (x,),
                    (dx,), rng)


@pytest.mark.parametrize("pieces", [1, 2, 3])
@pytest.mark.parametrize("budget", [10**3, 10**5, 10**6, 10**9])
def test_tiles_cover_everything_once_within_the_budget(budget, pieces):
    n, out, per_position = 5, (7, 6, 4), 4 * 27 * 8
    tiles = _im2col.plan_tiles(n, out, per_position, budget, pieces=pieces)
    covered = np.zeros((n, out[0]), dtype=int)
    for tile in tiles:
        covered[tile.batch, tile.rows] += 1
        size = math.prod(_im2col.tile_out_sizes(tile, out)) * per_position
        plane = math.prod(out[1:]) * per_position
        assert size <= max(budget, plane)      # one output plane is the smallest tile
    np.testing.assert_array_equal(covered, 1)
    assert (len(tiles) == 1) == (budget >= n * math.prod(out) * per_position and pieces == 1)


@pytest.mark.parametrize("n, group_fits, pieces, expected", [
    (16, 7, 2, [4, 4, 4, 4]),      # not [7, 7, 2]: two threads would get 7 and 9 observations
    (16, 7, 1, [6, 6, 4]),         # as few tiles as before, the largest smaller
    (8, 5, 2, [4, 4]),
    (3, 8, 2, [2, 1]),             # fewer observations than a multiple of pieces allows
    (5, 1, 2, [1, 1, 1, 1, 1]),
])
def test_whole_observation_tiles_are_balanced_over_the_threads(n, group_fits, pieces, expected):
    """Tiles of whole observations come in a multiple of ``pieces`` of equal size, so each tile
    thread gets the same share (an uneven split cost 12% on a 2-D 64-channel conv)."""
    out, per_position = (4, 4), 8
    budget = group_fits * math.prod(out) * per_position
    tiles = _im2col.plan_tiles(n, out, per_position, budget, pieces=pieces)
    assert [t.batch.stop - t.batch.start for t in tiles] == expected
