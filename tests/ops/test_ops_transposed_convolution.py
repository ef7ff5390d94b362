"""Transposed convolution: naive scatter oracle, finite differences, sizes, bad operands."""
import itertools

import numpy as np
import pytest

from helpers.gradcheck import check_gradients, tolerance
from layergraph.ops import _backend
from layergraph.ops import transposed_convolution as tconv


def naive_transposed_conv(x, w, b, stride, crop, dilation):
    """``y[f, n, i s + j d - before] += w[c, f, j] x[c, n, i]`` by loops (float64)."""
    x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
    k = w.shape[2:]
    full = tuple((n - 1) * s + (kk - 1) * d + 1 for n, kk, s, d in zip(x.shape[2:], k, stride,
                                                                           dilation))
    y = np.zeros((w.shape[1], x.shape[1]) + full)
    for n in range(x.shape[1]):
        for i in itertools.product(*(range(m) for m in x.shape[2:])):
            for j in itertools.product(*(range(m) for m in k)):
                pos = tuple(ii * s + jj * d for ii, jj, s, d in zip(i, j, stride, dilation))
                y[(slice(None), n) + pos] += w[(slice(None), slice(None)) + j].T @ x[
                    (slice(None), n) + i]
    index = tuple(slice(b_, m - a_) for m, (b_, a_) in zip(full, crop))
    y = y[(slice(None), slice(None)) + index]
    if b is not None:
        y += np.asarray(b, np.float64).reshape((-1,) + (1,) * (y.ndim - 1))
    return y


CASES = [  # (spatial sizes, kernel, stride, crop, dilation)
    ((5,), (3,), (1,), ((0, 0),), (1,)),
    ((4,), (2,), (2,), ((0, 0),), (1,)),
    ((4, 3), (3, 2), (2, 3), ((1, 0), (0, 1)), (1, 1)),
    ((3, 4), (1, 1), (2, 2), ((0, 0), (0, 0)), (1, 1)),      # 1x1 strided: pointwise path
    ((3, 3), (3, 3), (1, 1), ((1, 1), (1, 1)), (2, 1)),      # dilation
    ((3, 2, 3), (2, 2, 2), (2, 2, 2), ((0, 0),) * 3, (1, 1, 1)),
    ((2, 3, 2), (3, 3, 3), (2, 1, 3), ((1, 2), (1, 1), (0, 1)), (1, 1, 1)),
]


@pytest.mark.parametrize("sizes, k, stride, crop, dilation", CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_forward_matches_oracle(sizes, k, stride, crop, dilation, dtype, rng, xp):
    x = rng.standard_normal((3, 2) + sizes).astype(dtype)
    w = rng.standard_normal((3, 4) + k).astype(dtype)
    b = rng.standard_normal(4).astype(dtype)
    y, _ = tconv.transposed_conv_forward(xp.asarray(x), xp.asarray(w), xp.asarray(b), stride,
                                         crop, dilation)
    assert y.dtype == dtype
    assert y.shape[2:] == tconv.transposed_output_sizes(sizes, k, stride, crop, dilation)
    np.testing.assert_allclose(_backend.to_host(y), naive_transposed_conv(x, w, b, stride, crop,
                                                                          dilation),
                               **tolerance(dtype))


@pytest.mark.parametrize("sizes, k, stride, crop, dilation", CASES)
def test_gradients(sizes, k, stride, crop, dilation, rng):
    x = rng.standard_normal((2, 2) + sizes)
    w = rng.standard_normal((2, 3) + k)
    b = rng.standard_normal(3)
    y, cache = tconv.transposed_conv_forward(x, w, b, stride, crop, dilation)
    dy = rng.standard_normal(y.shape)
    dx, dw, db = tconv.transposed_conv_backward(dy, cache)

    def f(x, w, b):
        return np.vdot(tconv.transposed_conv_forward(x, w, b, stride, crop, dilation)[0], dy)

    check_gradients(f, (x, w, b), (dx, dw, db), rng)


def test_backward_need_flags_and_no_bias(rng):
    x, w = rng.standard_normal((2, 1, 3, 3)), rng.standard_normal((2, 3, 2, 2))
    y, cache = tconv.transposed_conv_forward(x, w, None, (2, 2), ((0, 0), (0, 0)))
    dx, dw, db = tconv.transposed_conv_backward(np.ones_like(y), cache, need=(False, True, True))
    assert dx is None and db is None and dw.shape == w.shape


def test_output_sizes_and_errors(rng):
    assert tconv.transposed_output_sizes((16,), (2,), (2,), ((0, 0),)) == (32,)
    assert tconv.transposed_output_sizes((16,), (4,), (2,), ((1, 1),)) == (32,)
    with pytest.raises(ValueError, match="removes the whole output"):
        tconv.transposed_output_sizes((1,), (2,), (1,), ((1, 1),))
    with pytest.raises(ValueError, match="matching C"):
        tconv.transposed_conv_forward(np.ones((2, 1, 3)), np.ones((3, 1, 2)), None, (1,),
                                      ((0, 0),))
    with pytest.raises(ValueError, match="bias of shape"):
        tconv.transposed_conv_forward(np.ones((2, 1, 3)), np.ones((2, 4, 2)), np.ones(2), (1,),
                                      ((0, 0),))


def test_is_the_adjoint_of_convolution(rng):
    """<conv(y), x> == <y, tconv(x)> for the same weight, stride and padding = cropping."""
    from layergraph.ops import convolution
    x = rng.standard_normal((3, 2, 4, 5))
    w = rng.standard_normal((3, 2, 3, 3))
    crop = ((1, 0), (1, 1))
    y, _ = tconv.transposed_conv_forward(x, w, None, (2, 2), crop)
    z = rng.standard_normal(y.shape)
    conv_z, _ = convolution.conv_forward(z, w, None, (2, 2), crop, (1, 1))
    assert conv_z.shape == x.shape
    np.testing.assert_allclose(np.vdot(conv_z, x), np.vdot(z, y), rtol=1e-12)
