"""Plane-shifted GEMM path of conv_forward / conv_backward against full im2col and the oracle."""
import numpy as np
import pytest

from helpers import reference
from layergraph.ops import _shapes, convolution

SIZES, KERNELS = (6, 5, 5), (3, 2, 3)


def _force_shifts(monkeypatch, on: bool) -> None:
    monkeypatch.setattr(convolution, "_uses_plane_shifts",
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
    monkeypatch.setattr(convolution, "STACK_BELOW_FILTERS", stack_below)
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
        monkeypatch.setattr(convolution, "COLUMN_BUDGET_BYTES", budget)
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
    assert convolution._uses_plane_shifts(x, w, (1, 2, 2))
    assert convolution._uses_plane_shifts(x, w, (2, 1, 1))
    assert not convolution._uses_plane_shifts(x, w[:, :, :1], (1, 1, 1))
    assert not convolution._uses_plane_shifts(np.zeros((1, 1, 8, 8, 8)), w[:, :1], (1, 1, 1))


def test_one_and_two_dimensional_convolutions_use_full_im2col():
    """Plane shifts only in 3-D (in 1-D and 2-D full im2col measured faster)."""
    x2, w2 = np.zeros((64, 1, 8, 8)), np.zeros((4, 64, 3, 3))
    x1, w1 = np.zeros((64, 1, 8)), np.zeros((4, 64, 3))
    assert not convolution._uses_plane_shifts(x2, w2, (1, 1))
    assert not convolution._uses_plane_shifts(x1, w1, (1,))
    assert convolution._uses_plane_shifts(np.zeros((64, 1, 8, 8, 8)), np.zeros((4, 64, 3, 3, 3)),
                                          (1, 1, 1))
