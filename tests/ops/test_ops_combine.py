"""Addition and channel concatenation."""
import numpy as np
import pytest

from helpers.gradcheck import check_gradients
from layergraph.ops import combine


def test_addition_of_three_inputs(rng):
    xs = [rng.standard_normal((2, 3, 4)) for _ in range(3)]
    originals = [x.copy() for x in xs]
    y, cache = combine.add_forward(xs)
    np.testing.assert_allclose(y, xs[0] + xs[1] + xs[2], rtol=1e-15)
    for x, original in zip(xs, originals):
        np.testing.assert_array_equal(x, original)
    dy = rng.standard_normal(y.shape)
    dxs = combine.add_backward(dy, cache)
    assert len(dxs) == 3
    for i in range(3):
        def loss(xi, i=i):
            return np.vdot(combine.add_forward(xs[:i] + [xi] + xs[i + 1:])[0], dy)
        check_gradients(loss, (xs[i],), (dxs[i],), rng)


def test_addition_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"input 1 of shape \(2, 3\).*input 2 of shape \(2, 4\)"):
        combine.add_forward([np.zeros((2, 3)), np.zeros((2, 4))])


def test_addition_dtype_mismatch_is_an_error():
    with pytest.raises(ValueError, match="float32"):
        combine.add_forward([np.zeros(2), np.zeros(2, dtype=np.float32)])


def test_concatenation_along_channels(rng):
    xs = [rng.standard_normal((c, 2, 3)) for c in (1, 3, 2)]
    y, cache = combine.concat_forward(xs)
    assert y.shape == (6, 2, 3)
    np.testing.assert_array_equal(y[1:4], xs[1])
    dy = rng.standard_normal(y.shape)
    dxs = combine.concat_backward(dy, cache)
    assert [d.shape for d in dxs] == [x.shape for x in xs]
    np.testing.assert_array_equal(np.concatenate(dxs), dy)


def test_concatenation_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(1, 2, 3\).*\(1, 2, 4\)"):
        combine.concat_forward([np.zeros((1, 2, 3)), np.zeros((1, 2, 4))])
