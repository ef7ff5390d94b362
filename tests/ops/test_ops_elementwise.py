"""Elementwise activations, dropout and grouped normalization: float64 oracles written with
math per element, finite differences, properties."""
import math

import numpy as np
import pytest

from helpers.gradcheck import check_gradients, tolerance
from layergraph.ops import _backend, _erf, dropout, elementwise as ew, group_norm


def _scalar_oracle(f):
    return np.vectorize(f, otypes=[float])


def _gelu_exact(v):
    return 0.5 * v * (1 + math.erf(v / math.sqrt(2)))


def _gelu_tanh(v):
    return 0.5 * v * (1 + math.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v ** 3)))


ACTIVATIONS = {  # name: (forward, backward, extra args, oracle)
    "leaky_relu": (ew.leaky_relu_forward, ew.leaky_relu_backward, (0.2,),
                   lambda v: v if v > 0 else 0.2 * v),
    "clipped_relu": (ew.clipped_relu_forward, ew.clipped_relu_backward, (1.5,),
                     lambda v: min(max(v, 0.0), 1.5)),
    "elu": (ew.elu_forward, ew.elu_backward, (0.7,), lambda v: v if v >= 0 else 0.7 * math.expm1(v)),
    "tanh": (ew.tanh_forward, ew.tanh_backward, (), math.tanh),
    "sigmoid": (ew.sigmoid_forward, ew.sigmoid_backward, (), lambda v: 1 / (1 + math.exp(-v))),
    "swish": (ew.swish_forward, ew.swish_backward, (), lambda v: v / (1 + math.exp(-v))),
    "gelu": (ew.gelu_forward, ew.gelu_backward, ("none",), _gelu_exact),
    "gelu_tanh": (ew.gelu_forward, ew.gelu_backward, ("tanh",), _gelu_tanh),
}


@pytest.mark.parametrize("name", list(ACTIVATIONS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_activation_oracle(name, dtype, rng, xp):
    forward, _, args, oracle = ACTIVATIONS[name]
    x = (3 * rng.standard_normal((3, 2, 4, 5))).astype(dtype)
    y, _ = forward(xp.asarray(x), *args)
    assert y.dtype == dtype and y.shape == x.shape
    tol = tolerance(dtype) if dtype == np.float64 else {"rtol": 2e-6, "atol": 1e-6}
    np.testing.assert_allclose(_backend.to_host(y), _scalar_oracle(oracle)(x.astype(float)), **tol)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_gradient(name, rng):
    forward, backward, args, _ = ACTIVATIONS[name]
    x = 3 * rng.standard_normal((2, 3, 4))
    x[np.abs(x) < 1e-3] = 0.5                   # keep kinks out of the difference quotient
    x[np.abs(x - 1.5) < 1e-3] = 0.5
    y, cache = forward(x, *args)
    dy = rng.standard_normal(y.shape)
    check_gradients(lambda x: np.vdot(forward(x, *args)[0], dy), (x,), (backward(dy, cache),), rng)


def test_sigmoid_and_elu_are_stable_for_large_inputs():
    x = np.array([-1000.0, 1000.0], np.float32)
    assert np.all(np.isfinite(ew.sigmoid_forward(x)[0]))
    assert np.all(np.isfinite(ew.elu_forward(x)[0])) and np.all(np.isfinite(ew.swish_forward(x)[0]))
    with pytest.raises(ValueError, match="approximation"):
        ew.gelu_forward(x, "erf")


def test_erf_against_math(rng):
    x = np.concatenate([np.linspace(-7, 7, 2001), rng.standard_normal(100) * 3])
    np.testing.assert_allclose(_erf.erf(x), [math.erf(v) for v in x], rtol=0, atol=3e-15)
    np.testing.assert_allclose(_erf.erf(x.astype(np.float32)), [math.erf(v) for v in x], atol=1e-6)


# ---- dropout ---------------------------------------------------------------------------------
def test_dropout_mask_statistics_and_reproducibility(xp):
    x = xp.ones((4, 8, 32, 32), dtype=np.float32)
    y, mask = dropout.dropout_forward(x, 0.3, np.random.default_rng(7))
    y2, _ = dropout.dropout_forward(x, 0.3, np.random.default_rng(7))
    y, y2 = _backend.to_host(y), _backend.to_host(y2)
    np.testing.assert_array_equal(y, y2)
    kept = y != 0
    assert abs(kept.mean() - 0.7) < 0.02
    np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-6)
    dx = _backend.to_host(dropout.dropout_backward(xp.asarray(np.full(y.shape, 2.0, np.float32)), mask))
    np.testing.assert_allclose(dx, 2 * y)


def test_dropout_probability_zero_and_bad_probability():
    x = np.arange(6.0).reshape(2, 3)
    y, _ = dropout.dropout_forward(x, 0.0, np.random.default_rng(0))
    np.testing.assert_array_equal(y, x)
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        dropout.dropout_forward(x, 1.0, np.random.default_rng(0))


# ---- grouped normalization ------------------------------------------------------------------
def naive_group_norm(x, scale, offset, groups, eps):
    c, n = x.shape[:2]
    y = np.empty_like(x, dtype=float)
    per = c // groups
    for i in range(n):
        for g in range(groups):
            block = x[g * per:(g + 1) * per, i].astype(float)
            mu, var = block.mean(), ((block - block.mean()) ** 2).mean()
            for j in range(per):
                ch = g * per + j
                y[ch, i] = scale[ch] * (x[ch, i] - mu) / math.sqrt(var + eps) + offset[ch]
    return y


@pytest.mark.parametrize("shape, groups", [((4, 2, 5), 2), ((6, 3, 2, 3), 1), ((6, 2, 2, 3), 6),
                                           ((4, 2, 2, 2, 3), 2)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_group_norm_oracle(shape, groups, dtype, rng, xp):
    x = (2 * rng.standard_normal(shape) + 1).astype(dtype)
    scale, offset = rng.uniform(0.5, 2, shape[0]), rng.standard_normal(shape[0])
    y, _ = group_norm.group_norm_forward(xp.asarray(x), xp.asarray(scale.astype(dtype)),
                                         xp.asarray(offset.astype(dtype)), groups, 1e-5)
    assert y.dtype == dtype
    tol = tolerance(dtype) if dtype == np.float64 else {"rtol": 1e-4, "atol": 1e-5}
    np.testing.assert_allclose(_backend.to_host(y), naive_group_norm(x, scale, offset, groups, 1e-5),
                               **tol)


@pytest.mark.parametrize("shape, groups", [((4, 2, 5), 2), ((6, 3, 2, 3), 1), ((3, 2, 2, 3), 3)])
def test_group_norm_gradient(shape, groups, rng):
    x = rng.standard_normal(shape)
    scale, offset = rng.uniform(0.5, 2, shape[0]), rng.standard_normal(shape[0])
    y, cache = group_norm.group_norm_forward(x, scale, offset, groups, 1e-5)
    dy = rng.standard_normal(y.shape)
    grads = group_norm.group_norm_backward(dy, cache)

    def f(x, scale, offset):
        return np.vdot(group_norm.group_norm_forward(x, scale, offset, groups, 1e-5)[0], dy)

    check_gradients(f, (x, scale, offset), grads, rng)
    assert group_norm.group_norm_backward(dy, cache, need=(False, True, False))[0::2] == (None, None)


def test_group_norm_bad_groups():
    with pytest.raises(ValueError, match="divide"):
        group_norm.group_norm_forward(np.ones((6, 1, 2)), np.ones(6), np.zeros(6), 4)
    with pytest.raises(ValueError, match="scale and offset"):
        group_norm.group_norm_forward(np.ones((6, 1, 2)), np.ones(3), np.zeros(6), 3)


@pytest.mark.parametrize("scale", [-0.5, 0.0, 1.0, 2.5])
def test_leaky_relu_any_scale(scale, rng):
    x = rng.standard_normal((3, 4, 5))
    x[np.abs(x) < 1e-3] = 0.5
    y, cache = ew.leaky_relu_forward(x, scale)
    np.testing.assert_array_equal(y, np.where(x > 0, x, scale * x))
    dy = rng.standard_normal(x.shape)
    np.testing.assert_allclose(ew.leaky_relu_backward(dy, cache), np.where(x > 0, dy, scale * dy),
                               rtol=1e-15)
