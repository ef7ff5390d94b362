"""NumPy/CuPy parity of every op, forward and backward (needs CuPy and a GPU)."""
import importlib

import numpy as np
import pytest

from layergraph.ops import (_backend, activation, batchnorm, combine, convolution,
                            fully_connected, loss, pooling)
from layergraph.ops.convolution import select as conv_select

pytestmark = pytest.mark.gpu


@pytest.fixture
def cp():
    if not _backend.gpu_available():
        pytest.skip("CuPy with a CUDA device is not available")
    return importlib.import_module("cupy")


def _both(cp, fn, *arrays, **kwargs):
    """Run ``fn`` on NumPy and on CuPy copies of ``arrays``; return (numpy result, cupy result)."""
    on_gpu = [cp.asarray(a) if isinstance(a, np.ndarray) else a for a in arrays]
    return fn(*arrays, **kwargs), fn(*on_gpu, **kwargs)


def _assert_same(host, device, dtype):
    rtol = 1e-10 if dtype == np.float64 else 2e-5
    for h, d in zip(host, device):
        if h is None:
            assert d is None
            continue
        assert _backend.is_gpu_array(d)
        np.testing.assert_allclose(_backend.to_host(d), h, rtol=rtol, atol=rtol)


def _conv_round_trip(x, w, b, dy, stride, pad, dilation):
    y, cache = convolution.conv_forward(x, w, b, stride, pad, dilation)
    return (y, *convolution.conv_backward(dy, cache))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kernel", [(3, 2, 3), (1, 1, 1)])
@pytest.mark.parametrize("budget", [conv_select.COLUMN_BUDGET_BYTES, 1])
@pytest.mark.parametrize("stride", [(2, 1, 2), (1, 1, 1)])
@pytest.mark.parametrize("channels", [(3, 4), (6, 4), (6, 64)])  # (C, F): plain, plane-shift, F >= 64
def test_convolution(stride, kernel, budget, dtype, channels, cp, rng, monkeypatch):
    monkeypatch.setattr(conv_select, "COLUMN_BUDGET_BYTES", budget)
    c, f = channels
    x = rng.standard_normal((c, 2, 7, 6, 5)).astype(dtype)
    w = rng.standard_normal((f, c) + kernel).astype(dtype)
    b = rng.standard_normal(f).astype(dtype)
    pad = ((1, 2), (0, 1), (1, 0)) if kernel[0] > 1 else ((0, 0),) * 3
    args = (stride, pad, (1, 2, 1))
    dy = convolution.conv_forward(x, w, b, *args)[0] * 0 + 1
    host, device = _both(cp, _conv_round_trip, x, w, b, dy, *args)
    _assert_same(host, device, dtype)


def _pool_round_trip(x, dy, kind):
    if kind == "max":
        y, cache = pooling.max_pool_forward(x, (3, 2, 3), (2, 1, 2), ((1, 2), (0, 1), (1, 0)))
        return y, pooling.max_pool_backward(dy, cache)
    if kind == "global":
        y, cache = pooling.global_avg_pool_forward(x)
        return y, pooling.global_avg_pool_backward(dy, cache)
    y, cache = pooling.avg_pool_forward(x, (3, 2, 3), (2, 1, 2), ((1, 2), (0, 1), (1, 0)), kind)
    return y, pooling.avg_pool_backward(dy, cache)


@pytest.mark.parametrize("kind", ["max", 0, "mean", "global"])
def test_pooling(kind, cp, rng):
    x = rng.standard_normal((3, 2, 7, 6, 5)).astype(np.float32)
    y_shape = (3, 2, 1, 1, 1) if kind == "global" else (3, 2, 4, 6, 2)
    dy = rng.standard_normal(y_shape).astype(np.float32)
    host, device = _both(cp, _pool_round_trip, x, dy, kind=kind)
    _assert_same(host, device, np.float32)


@pytest.mark.parametrize("training", [True, False])
def test_batchnorm(training, cp, rng):
    x = rng.standard_normal((4, 3, 5, 4, 3)).astype(np.float32)
    vectors = [rng.uniform(0.5, 2, 4).astype(np.float32) for _ in range(4)]
    dy = rng.standard_normal(x.shape).astype(np.float32)

    def round_trip(x, scale, offset, mean, var, dy):
        stats = (None, None) if training else (mean, var)
        y, cache, (m, v) = batchnorm.batchnorm_forward(x, scale, offset, 1e-5, training, *stats)
        return (y, m, v, *batchnorm.batchnorm_backward(dy, cache))
    host, device = _both(cp, round_trip, x, *vectors, dy)
    _assert_same(host, device, np.float32)


def test_activation_fc_combine_and_losses(cp, rng):
    x = rng.standard_normal((3, 2, 4, 3, 2)).astype(np.float32)
    w = rng.standard_normal((5, x[:, 0].size)).astype(np.float32)
    b = rng.standard_normal(5).astype(np.float32)
    t = np.eye(5, dtype=np.float32)[:, [1, 4]]

    def round_trip(x, w, b, t):
        r, relu_cache = activation.relu_forward(x)
        s, add_cache = combine.add_forward([r, x])
        z, fc_cache = fully_connected.fc_forward(s, w, b)
        y, softmax_cache = activation.softmax_forward(z.reshape(5, 2))
        ce, ce_cache = loss.cross_entropy_forward(y, t)
        se, se_cache = loss.mse_forward(y, t)
        dy = loss.cross_entropy_backward(ce_cache) + loss.mse_backward(se_cache)
        dz = activation.softmax_backward(dy, softmax_cache).reshape(z.shape)
        ds, dw, db = fully_connected.fc_backward(dz, fc_cache)
        dr, dx_skip = combine.add_backward(ds, add_cache)
        return ce, se, y, dw, db, activation.relu_backward(dr, relu_cache) + dx_skip
    host, device = _both(cp, round_trip, x, w, b, t)
    _assert_same(host, device, np.float32)
