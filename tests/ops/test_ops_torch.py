"""Differential tests against PyTorch's CPU ops (torch is a test-only dependency).

Internal ``(C, N, *S)`` arrays are transposed to torch's ``(N, C, *S)``; asymmetric padding is
applied with ``F.pad`` (-inf for max pooling) before an unpadded torch op.
"""
import numpy as np
import pytest

from layergraph.ops import activation, batchnorm, convolution, fully_connected, loss, pooling

torch = pytest.importorskip("torch")
F = torch.nn.functional
pytestmark = pytest.mark.torch

CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
MAX_POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
AVG_POOL = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}
PAD = ((1, 2), (0, 1), (2, 0))


def _to_torch(x, requires_grad=True):
    """(C, N, *S) numpy -> (N, C, *S) torch leaf."""
    return torch.tensor(np.swapaxes(x, 0, 1).copy(), requires_grad=requires_grad)


def _from_torch(t):
    return np.swapaxes(t.detach().numpy(), 0, 1)


def _torch_pad(pad):
    """((b1, a1), (b2, a2), ...) -> F.pad's (b_last, a_last, ..., b1, a1)."""
    return tuple(v for before_after in reversed(pad) for v in before_after)


def _assert_close(ours, theirs, dtype):
    ours, theirs = np.asarray(ours, np.float64), np.asarray(theirs, np.float64)
    if dtype == np.float64:
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    else:
        assert np.max(np.abs(ours - theirs)) <= 1e-4 * max(np.max(np.abs(theirs)), 1e-30)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_convolution(ndim, dtype, rng):
    x = rng.standard_normal((3, 2) + (7, 6, 5)[:ndim]).astype(dtype)
    w = rng.standard_normal((4, 3) + (3, 2, 3)[:ndim]).astype(dtype)
    b = rng.standard_normal(4).astype(dtype)
    stride, dilation, pad = (2, 1, 2)[:ndim], (1, 2, 1)[:ndim], PAD[:ndim]
    y, cache = convolution.conv_forward(x, w, b, stride, pad, dilation)
    dy = rng.standard_normal(y.shape).astype(dtype)
    dx, dw, db = convolution.conv_backward(dy, cache)

    xt = _to_torch(x)
    wt, bt = torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)
    yt = CONV[ndim](F.pad(xt, _torch_pad(pad)), wt, bt, stride=stride, dilation=dilation)
    yt.backward(_to_torch(dy, requires_grad=False))
    _assert_close(y, _from_torch(yt), dtype)
    _assert_close(dx, _from_torch(xt.grad), dtype)
    _assert_close(dw, wt.grad.numpy(), dtype)
    _assert_close(db, bt.grad.numpy(), dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("ndim", [1, 2, 3])
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pooling_with_asymmetric_padding(kind, ndim, dtype, rng):
    x = rng.standard_normal((3, 2) + (7, 6, 5)[:ndim]).astype(dtype)
    pool, stride, pad = (3, 2, 3)[:ndim], (2, 1, 2)[:ndim], PAD[:ndim]
    if kind == "max":
        y, cache = pooling.max_pool_forward(x, pool, stride, pad)
    else:
        y, cache = pooling.avg_pool_forward(x, pool, stride, pad)
    dy = rng.standard_normal(y.shape).astype(dtype)
    backward = pooling.max_pool_backward if kind == "max" else pooling.avg_pool_backward
    dx = backward(dy, cache)

    xt = _to_torch(x)
    if kind == "max":
        yt = MAX_POOL[ndim](F.pad(xt, _torch_pad(pad), value=-np.inf), pool, stride)
    else:
        yt = AVG_POOL[ndim](F.pad(xt, _torch_pad(pad)), pool, stride)
    yt.backward(_to_torch(dy, requires_grad=False))
    _assert_close(y, _from_torch(yt), dtype)
    _assert_close(dx, _from_torch(xt.grad), dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("training", [True, False])
def test_batch_normalization(training, dtype, rng):
    x = (1.5 + 2 * rng.standard_normal((4, 3, 5, 4, 3))).astype(dtype)
    scale, offset = rng.uniform(0.5, 2, 4).astype(dtype), rng.standard_normal(4).astype(dtype)
    mean, var = rng.standard_normal(4).astype(dtype), rng.uniform(0.5, 2, 4).astype(dtype)
    stats = (None, None) if training else (mean, var)
    y, cache, (batch_mean, batch_var) = batchnorm.batchnorm_forward(
        x, scale, offset, 1e-5, training, *stats)
    dy = rng.standard_normal(y.shape).astype(dtype)
    dx, dscale, doffset = batchnorm.batchnorm_backward(dy, cache)

    xt = _to_torch(x)
    st, ot = torch.tensor(scale, requires_grad=True), torch.tensor(offset, requires_grad=True)
    running_mean, running_var = torch.tensor(mean), torch.tensor(var)
    yt = F.batch_norm(xt, running_mean, running_var, st, ot, training=training, momentum=1.0,
                      eps=1e-5)
    yt.backward(_to_torch(dy, requires_grad=False))
    _assert_close(y, _from_torch(yt), dtype)
    _assert_close(dx, _from_torch(xt.grad), dtype)
    _assert_close(dscale, st.grad.numpy(), dtype)
    _assert_close(doffset, ot.grad.numpy(), dtype)
    if training:   # momentum 1: torch's running mean is the batch mean (its variance is unbiased)
        _assert_close(batch_mean, running_mean.numpy(), dtype)
        m = x[0].size
        _assert_close(batch_var, running_var.numpy() * (m - 1) / m, dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fully_connected_on_a_volume(dtype, rng):
    """torch flattens (C, D1, D2, D3) row-major; MATLAB order is its full axis reversal."""
    x = rng.standard_normal((3, 2, 4, 3, 2)).astype(dtype)
    w = rng.standard_normal((5, x[:, 0].size)).astype(dtype)
    b = rng.standard_normal(5).astype(dtype)
    y, cache = fully_connected.fc_forward(x, w, b)
    dy = rng.standard_normal(y.shape).astype(dtype)
    dx, dw, db = fully_connected.fc_backward(dy, cache)

    xt = torch.tensor(x.transpose(1, 0, 4, 3, 2).copy(), requires_grad=True)  # (N, C, d, w, h)
    wt, bt = torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)
    yt = F.linear(xt.reshape(2, -1), wt, bt)
    yt.backward(torch.tensor(dy.reshape(5, 2).T.copy()))
    _assert_close(y.reshape(5, 2), yt.detach().numpy().T, dtype)
    _assert_close(dx, xt.grad.numpy().transpose(1, 0, 4, 3, 2), dtype)
    _assert_close(dw, wt.grad.numpy(), dtype)
    _assert_close(db, bt.grad.numpy(), dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_cross_entropy(dtype, rng):
    scores = (2 * rng.standard_normal((5, 6))).astype(dtype)
    labels = rng.integers(0, 5, 6)
    t = np.eye(5, dtype=dtype)[:, labels]
    y, softmax_cache = activation.softmax_forward(scores)
    value, loss_cache = loss.cross_entropy_forward(y, t)
    dscores = activation.softmax_backward(loss.cross_entropy_backward(loss_cache), softmax_cache)

    st = torch.tensor(scores.T.copy(), requires_grad=True)
    lt = F.cross_entropy(st, torch.tensor(labels))      # mean over the N observations
    lt.backward()
    _assert_close(y, F.softmax(st, dim=1).detach().numpy().T, dtype)
    _assert_close(value, lt.item(), dtype)
    _assert_close(dscores, st.grad.numpy().T, dtype)
