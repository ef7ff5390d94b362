"""Property-based tests (hypothesis): transposed convolution is the adjoint of convolution for
any geometry, its size formula matches what it computes; crop/concatenation/group-norm invariants."""
import numpy as np
from hypothesis import given, settings, strategies as st

from layergraph.ops import combine, convolution, crop, group_norm
from layergraph.ops import transposed_convolution as tconv


@st.composite
def geometries(draw):
    ndim = draw(st.integers(1, 3))
    sizes = tuple(draw(st.integers(1, 4)) for _ in range(ndim))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(ndim))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(ndim))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(ndim))
    crop = []
    for n, k, s, d in zip(sizes, kernel, stride, dilation):
        full = (n - 1) * s + (k - 1) * d + 1
        before = draw(st.integers(0, min(k - 1, full - 1)))
        after = draw(st.integers(0, min(k - 1, full - 1 - before)))
        crop.append((before, after))
    return sizes, kernel, stride, tuple(crop), dilation


@settings(max_examples=40, deadline=None)
@given(geometries(), st.integers(1, 3), st.integers(1, 3), st.integers(0, 2**31 - 1))
def test_transposed_conv_is_the_adjoint_of_conv(geometry, c, f, seed):
    sizes, kernel, stride, crop_, dilation = geometry
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((c, 2) + sizes)
    w = rng.standard_normal((c, f) + kernel)
    y, cache = tconv.transposed_conv_forward(x, w, None, stride, crop_, dilation)
    assert y.shape == (f, 2) + tconv.transposed_output_sizes(sizes, kernel, stride, crop_, dilation)
    z = rng.standard_normal(y.shape)
    conv_z, _ = convolution.conv_forward(z, w, None, stride, crop_, dilation)
    assert conv_z.shape == x.shape
    np.testing.assert_allclose(np.vdot(conv_z, x), np.vdot(z, y), rtol=1e-10, atol=1e-10)
    dx, dw, _ = tconv.transposed_conv_backward(z, cache)
    np.testing.assert_allclose(dx, conv_z, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.vdot(dw, w), np.vdot(z, y), rtol=1e-10, atol=1e-10)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 6), min_size=1, max_size=3), st.data())
def test_crop_backward_is_the_adjoint_of_crop(sizes, data):
    out = [data.draw(st.integers(1, n)) for n in sizes]
    start = [data.draw(st.integers(0, n - o)) for n, o in zip(sizes, out)]
    rng = np.random.default_rng(len(sizes))
    x = rng.standard_normal((2, 1) + tuple(sizes))
    y, cache = crop.crop_forward(x, start, out)
    dy = rng.standard_normal(y.shape)
    np.testing.assert_allclose(np.vdot(crop.crop_backward(dy, cache), x), np.vdot(dy, y))


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 3), st.lists(st.integers(1, 3), min_size=2, max_size=4))
def test_concatenation_round_trips_along_any_axis(axis, extents):
    rng = np.random.default_rng(axis)
    base = [2, 3, 2, 2]
    xs = []
    for e in extents:
        shape = list(base)
        shape[axis] = e
        xs.append(rng.standard_normal(shape))
    y, cache = combine.concat_forward(xs, axis=axis)
    assert y.shape[axis] == sum(extents)
    for a, b in zip(combine.concat_backward(y, cache), xs):
        np.testing.assert_array_equal(a, b)


@settings(max_examples=30, deadline=None)
@given(st.sampled_from([1, 2, 3, 6]), st.integers(1, 3), st.integers(0, 2**31 - 1))
def test_group_norm_output_is_normalized_per_group(groups, n, seed):
    rng = np.random.default_rng(seed)
    x = 3 * rng.standard_normal((6, n, 3, 4)) + rng.standard_normal()
    y, _ = group_norm.group_norm_forward(x, np.ones(6), np.zeros(6), groups, 1e-5)
    g = y.reshape(groups, 6 // groups, n, -1)
    np.testing.assert_allclose(g.mean(axis=(1, 3)), 0, atol=1e-10)
    np.testing.assert_allclose(g.var(axis=(1, 3)), 1, rtol=1e-3)
