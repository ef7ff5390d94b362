"""Plane-shifted GEMM path of conv_forward / conv_backward against full im2col and the oracle."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import reference
from layergraph.ops import _shapes, convolution
from layergraph.ops.convolution import plane_shifts as _plane_shifts
from layergraph.ops.convolution import select as conv_select

SIZES, KERNELS = (6, 5, 5), (3, 2, 3)


def _force_shifts(monkeypatch, on: bool) -> None:
    monkeypatch.setattr(_plane_shifts, "uses_plane_shifts",
                        lambda x, w, stride: on and w.shape[2] > 1)


def _run(x, w, b, args, dy):
    y, cache = convolution.conv_forward(x, w, b, *args)
    return (y,) + convolution.conv_backward(dy, cache)


@pytest.mark.parametrize("first_stride", [1, 2, 3])
@pytest.mark.parametrize("stack_below", [0, 1000])
@pytest.mark.parametrize("budget", [None, 1])
@pytest.mark.parametrize("dilation", [1, 2])
@pytest.mark.parametrize("padding", ["none", "same", "asymmetric"])
@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_plane_shifts_match_full_im2col(ndim, padding, dilation, budget, stack_below,
                                        first_stride, rng, monkeypatch):
    """Forward, dx, dw and db agree with full im2col; strides > 1 on the trailing axes;
    first-axis stride 1, 2 (two phases) or 3 (one offset per phase); offsets stacked into one
    GEMM per phase (stack_below 1000) or one GEMM per offset (0)."""
    monkeypatch.setattr(_plane_shifts, "STACK_BELOW_FILTERS", stack_below)
    kernel, sizes = KERNELS[:ndim], SIZES[:ndim]
    stride = (first_stride,) + (2,) * (ndim - 1)
    dil = (dilation,) * ndim
    pad = {"none": ((0, 0),) * ndim, "asymmetric": ((0, 2), (1, 0), (2, 1))[:ndim],
           "same": _shapes.same_padding(sizes, kernel, stride, dil)}[padding]
    x = rng.standard_normal((3, 3) + sizes)
    w = rng.standard_normal((4, 3) + kernel)
    b = rng.standard_normal(4)
    args = (stride, pad, dil)
    if budget is not None:
        monkeypatch.setattr(conv_select, "COLUMN_BUDGET_BYTES", budget)
    _force_shifts(monkeypatch, False)
    y0 = convolution.conv_forward(x, w, b, *args)[0]
    dy = rng.standard_normal(y0.shape)
    plain = _run(x, w, b, args, dy)
    _force_shifts(monkeypatch, True)
    shifted = _run(x, w, b, args, dy)
    np.testing.assert_allclose(shifted[0], reference.conv(x, w, b, *args), rtol=1e-10,
                               atol=1e-10)
    for got, expected in zip(shifted, plain):
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


def test_dw_only_backward_uses_shifts_and_matches(rng, monkeypatch):
    x = rng.standard_normal((2, 2, 5, 5, 5)).astype(np.float32)
    w = rng.standard_normal((3, 2, 3, 3, 3)).astype(np.float32)
    args = ((1, 1, 1), ((1, 1),) * 3, (1, 1, 1))
    y, cache = convolution.conv_forward(x, w, None, *args)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    _force_shifts(monkeypatch, True)
    dx, dw, db = convolution.conv_backward(dy, cache, need=(False, True, False))
    _force_shifts(monkeypatch, False)
    expected = convolution.conv_backward(dy, cache, need=(False, True, False))[1]
    assert dx is None and db is None and dw.dtype == np.float32
    np.testing.assert_allclose(dw, expected, rtol=1e-4, atol=1e-4)


def test_shift_choice_needs_a_first_axis_kernel_and_depth():
    x, w = np.zeros((16, 1, 8, 8, 8)), np.zeros((4, 16, 3, 3, 3))
    assert _plane_shifts.uses_plane_shifts(x, w, (1, 1, 1))
    # strided 3-D layers use full im2col on the CPU (measured faster; the GPU keeps the
    # plane path, whose strided phases the agreement tests above force on)
    assert not _plane_shifts.uses_plane_shifts(x, w, (1, 2, 2))
    assert not _plane_shifts.uses_plane_shifts(x, w, (2, 1, 1))
    assert not _plane_shifts.uses_plane_shifts(x, w[:, :, :1], (1, 1, 1))
    assert not _plane_shifts.uses_plane_shifts(np.zeros((1, 1, 8, 8, 8)), w[:, :1], (1, 1, 1))
    assert not _plane_shifts.uses_plane_shifts(np.zeros((16, 1, 2, 2, 2)), w, (1, 1, 1))  # 2^3
    assert _plane_shifts.uses_plane_shifts(np.zeros((16, 1, 4, 4, 4)), w, (1, 1, 1))
    big_weight = np.zeros((128, 16, 3, 3, 3))        # more filters than the 64 positions
    assert not _plane_shifts.uses_plane_shifts(np.zeros((16, 1, 4, 4, 4)), big_weight, (1, 1, 1))
    assert _plane_shifts.uses_plane_shifts(np.zeros((16, 2, 4, 4, 4)), big_weight, (1, 1, 1))


def test_one_dimensional_and_small_or_strided_two_dimensional_convolutions_use_full_im2col():
    """Plane shifts in 3-D; in 2-D only at unit stride on 256+ positions per observation
    (measured: faster there, slower on 8^2 or at stride 2); never in 1-D."""
    x2, w2 = np.zeros((64, 1, 8, 8)), np.zeros((4, 64, 3, 3))
    x1, w1 = np.zeros((64, 1, 8)), np.zeros((4, 64, 3))
    assert not _plane_shifts.uses_plane_shifts(x2, w2, (1, 1))
    assert not _plane_shifts.uses_plane_shifts(x1, w1, (1,))
    big = np.zeros((64, 1, 16, 16))
    assert _plane_shifts.uses_plane_shifts(big, w2, (1, 1))
    assert not _plane_shifts.uses_plane_shifts(big, w2, (2, 2))
    assert not _plane_shifts.uses_plane_shifts(big, w2, (1, 2))
    assert _plane_shifts.uses_plane_shifts(np.zeros((64, 1, 8, 8, 8)), np.zeros((4, 64, 3, 3, 3)),
                                            (1, 1, 1))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 4), min_size=1, max_size=4, unique=True).map(sorted),
       st.integers(1, 12))
def test_segments_cover_exactly_the_planes_each_offset_reads(shifts, planes):
    """Every (column plane, offset) pair an output reads is computed once, and no other: offset
    i reads planes shifts[i] .. shifts[i] + planes - 1 of the phase's planes + halo columns."""
    cuts = _plane_shifts.segments(shifts, planes)
    computed = [(e, i) for begin, end, i0, i1 in cuts for e in range(begin, end)
                for i in range(i0, i1)]
    needed = {(e, i) for i, q in enumerate(shifts) for e in range(q, q + planes)}
    assert len(computed) == len(set(computed)) and set(computed) == needed
    assert all(a[1] <= b[0] for a, b in zip(cuts[:-1], cuts[1:]))     # in order (planes no
    # offset reads, with shifts far apart and few planes, are skipped)


def test_segmented_stacked_gemms_match_one_stacked_gemm(rng, monkeypatch):
    """Single-observation tiles of a few planes (the halo a large part of them): the segmented
    forward and dW are taken (spied) and agree with the unsegmented ones."""
    x = rng.standard_normal((8, 2, 12, 5, 6)).astype(np.float32)
    w = rng.standard_normal((6, 8, 3, 3, 3)).astype(np.float32)
    args = ((1, 1, 1), ((1, 1),) * 3, (1, 1, 1))
    dy = rng.standard_normal((6, 2, 12, 5, 6)).astype(np.float32)
    monkeypatch.setattr(conv_select, "COLUMN_BUDGET_BYTES", 8 * 9 * 30 * 4 * 6)  # 4-plane tiles
    calls = []
    original = _plane_shifts.segments
    monkeypatch.setattr(_plane_shifts, "segments", lambda *a: calls.append(a) or original(*a))
    results = {}
    for waste in (1e9, 1 / 8):
        monkeypatch.setattr(_plane_shifts, "SEGMENT_WASTE", waste)
        calls.clear()
        y, cache = convolution.conv_forward(x, w, None, *args)
        results[waste] = (y, convolution.conv_backward(dy, cache, need=(False, True, False))[1])
        assert bool(calls) == (waste < 1) and all(planes == 4 for _, planes in calls)
    for segmented, whole in zip(results[1 / 8], results[1e9]):
        np.testing.assert_allclose(segmented, whole, rtol=1e-5, atol=1e-5 * np.abs(whole).max())


def test_plane_tiles_cover_at_least_eight_output_planes_within_the_cap(monkeypatch):
    """A 64^3 layer of 32 channels: one output plane's columns (32*9*64*64*4 bytes, 4.7 MB) are
    above the cache-sized budget, yet tiles get 8 planes; with two threads each tile stays
    within half of the hard cap (7 column planes: 5 output planes + 2 halo); the cap wins."""
    x, w = np.zeros((32, 1, 64, 64, 64), np.float32), np.zeros((32, 32, 3, 3, 3), np.float32)
    args = ((1, 1, 1), ((1, 1),) * 3, (1, 1, 1), (64, 64, 64))

    def tile_planes(threads):
        plan = _plane_shifts.PlaneTiling(
            x, w, *args, lambda total, least: conv_select.tile_budget(total, threads, least),
            threads)
        return {t.rows.stop - t.rows.start for t in plan.tiles}
    assert tile_planes(1) == {8}
    assert max(tile_planes(2)) == 5 and min(tile_planes(2)) >= 4
    monkeypatch.setattr(conv_select, "COLUMN_BUDGET_BYTES", 2**20)
    assert tile_planes(2) == {1}
