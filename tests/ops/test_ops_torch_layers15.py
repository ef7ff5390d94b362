"""Differential tests against PyTorch: transposed convolution, global max pooling, pixel
cross-entropy and the generalized Dice gradient (torch autograd of the same formula)."""
import numpy as np
import pytest

from layergraph.ops import activation, global_pooling, segmentation_loss as seg
from layergraph.ops import transposed_convolution as tconv

torch = pytest.importorskip("torch")
F = torch.nn.functional
pytestmark = pytest.mark.torch

TCONV = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


def _to_torch(x):
    return torch.tensor(np.swapaxes(x, 0, 1).copy(), requires_grad=True)


@pytest.mark.parametrize("ndim", [1, 2, 3])
@pytest.mark.parametrize("stride, k, crop", [(1, 3, ((1, 0),)), (2, 2, ((0, 0),)),
                                             (2, 3, ((1, 2),)), (3, 4, ((1, 1),))])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_transposed_conv_matches_torch(ndim, stride, k, crop, dtype, rng):
    x = rng.standard_normal((3, 2) + (4, 3, 2)[:ndim]).astype(dtype)
    w = rng.standard_normal((3, 4) + (k,) * ndim).astype(dtype)
    b = rng.standard_normal(4).astype(dtype)
    crop = crop * ndim
    y, cache = tconv.transposed_conv_forward(x, w, b, (stride,) * ndim, crop)
    xt, wt, bt = _to_torch(x), torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)
    full = TCONV[ndim](xt, wt, bt, stride=stride)            # uncropped, then cropped
    index = (slice(None),) * 2 + tuple(slice(before, full.shape[2 + i] - after)
                                       for i, (before, after) in enumerate(crop))
    yt = full[index]
    rtol = 1e-10 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(y, np.swapaxes(yt.detach().numpy(), 0, 1), rtol=rtol,
                               atol=rtol * 10)
    dy = rng.standard_normal(y.shape).astype(dtype)
    yt.backward(torch.tensor(np.swapaxes(dy, 0, 1).copy()))
    dx, dw, db = tconv.transposed_conv_backward(dy, cache)
    np.testing.assert_allclose(dx, np.swapaxes(xt.grad.numpy(), 0, 1), rtol=rtol, atol=rtol * 10)
    np.testing.assert_allclose(dw, wt.grad.numpy(), rtol=rtol, atol=rtol * 100)
    np.testing.assert_allclose(db, bt.grad.numpy(), rtol=rtol, atol=rtol * 100)


@pytest.mark.parametrize("shape", [(3, 2, 5, 4), (2, 2, 3, 4, 3)])
def test_global_max_pool_matches_torch(shape, rng):
    x = rng.standard_normal(shape)
    y, cache = global_pooling.global_max_pool_forward(x)
    xt = _to_torch(x)
    yt = torch.amax(xt, dim=tuple(range(2, len(shape))), keepdim=True)
    np.testing.assert_array_equal(y, np.swapaxes(yt.detach().numpy(), 0, 1))
    yt.sum().backward()
    dx = global_pooling.global_max_pool_backward(np.ones_like(y), cache)
    np.testing.assert_array_equal(dx, np.swapaxes(xt.grad.numpy(), 0, 1))


def test_pixel_cross_entropy_matches_torch(rng):
    k, shape = 4, (3, 5, 6)
    logits = rng.standard_normal((k,) + shape)
    labels = rng.integers(0, k, size=shape)
    labels[0, 0, :3] = -1                                            # unlabelled pixels
    t = (np.arange(k).reshape(-1, 1, 1, 1) == labels).astype(float)
    weights = np.array([1.0, 0.5, 2.0, 1.5])
    y, softmax_cache = activation.softmax_forward(logits)
    loss, cache = seg.pixel_cross_entropy_forward(y, t, weights)
    dlogits = activation.softmax_backward(seg.pixel_cross_entropy_backward(cache), softmax_cache)
    lt = _to_torch(logits)
    total = F.cross_entropy(lt, torch.tensor(labels), weight=torch.tensor(weights),
                            ignore_index=-1, reduction="sum")
    lt_loss = total / int((labels >= 0).sum())
    lt_loss.backward()
    np.testing.assert_allclose(float(loss), float(lt_loss.detach()), rtol=1e-12)
    np.testing.assert_allclose(dlogits, np.swapaxes(lt.grad.numpy(), 0, 1), rtol=1e-10, atol=1e-14)


def test_generalized_dice_gradient_matches_torch_autograd(rng):
    y = activation.softmax_forward(rng.standard_normal((3, 2, 4, 5)))[0]
    t = (np.arange(3).reshape(-1, 1, 1, 1) == rng.integers(0, 3, (2, 4, 5))).astype(float)
    loss, cache = seg.generalized_dice_forward(y, t)
    yt, tt = torch.tensor(y, requires_grad=True), torch.tensor(t)
    w = 1 / torch.clamp(tt.sum(dim=(2, 3)) ** 2, min=np.finfo(float).eps)
    numer = 2 * (w * (yt * tt).sum(dim=(2, 3))).sum(dim=0) + 1e-8
    denom = (w * (yt ** 2 + tt ** 2).sum(dim=(2, 3))).sum(dim=0) + 1e-8
    lt = (1 - numer / denom).sum() / 2
    lt.backward()
    np.testing.assert_allclose(float(loss), float(lt.detach()), rtol=1e-12)
    np.testing.assert_allclose(seg.generalized_dice_backward(cache), yt.grad.numpy(), rtol=1e-10,
                               atol=1e-14)


# ---- elementwise activations and grouped normalization --------------------------------------
from layergraph.ops import elementwise as ew, group_norm  # noqa: E402

TORCH_ACTIVATIONS = {
    "leaky_relu": (ew.leaky_relu_forward, ew.leaky_relu_backward, (0.2,),
                   lambda t: F.leaky_relu(t, 0.2)),
    "clipped_relu": (ew.clipped_relu_forward, ew.clipped_relu_backward, (1.5,),
                     lambda t: F.hardtanh(t, 0.0, 1.5)),
    "elu": (ew.elu_forward, ew.elu_backward, (0.7,), lambda t: F.elu(t, 0.7)),
    "tanh": (ew.tanh_forward, ew.tanh_backward, (), torch.tanh),
    "sigmoid": (ew.sigmoid_forward, ew.sigmoid_backward, (), torch.sigmoid),
    "swish": (ew.swish_forward, ew.swish_backward, (), F.silu),
    "gelu": (ew.gelu_forward, ew.gelu_backward, ("none",), lambda t: F.gelu(t)),
    "gelu_tanh": (ew.gelu_forward, ew.gelu_backward, ("tanh",),
                  lambda t: F.gelu(t, approximate="tanh")),
}


@pytest.mark.parametrize("name", list(TORCH_ACTIVATIONS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_activations_match_torch(name, dtype, rng):
    forward, backward, args, reference = TORCH_ACTIVATIONS[name]
    x = (3 * rng.standard_normal((3, 2, 4, 5))).astype(dtype)
    x[np.abs(x) < 1e-3] = 0.5
    x[np.abs(x - 1.5) < 1e-3] = 0.5
    y, cache = forward(x, *args)
    xt = torch.tensor(x, requires_grad=True)
    yt = reference(xt)
    dy = rng.standard_normal(x.shape).astype(dtype)
    yt.backward(torch.tensor(dy))
    rtol, atol = (1e-12, 1e-14) if dtype == np.float64 else (2e-6, 5e-6)
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=rtol, atol=atol)
    np.testing.assert_allclose(backward(dy, cache), xt.grad.numpy(), rtol=rtol, atol=atol)


@pytest.mark.parametrize("kind", ["group", "instance", "layer"])
@pytest.mark.parametrize("shape", [(4, 3, 5, 6), (6, 2, 3, 4, 2)])
def test_grouped_normalization_matches_torch(kind, shape, rng):
    c = shape[0]
    groups = {"group": 2, "instance": c, "layer": 1}[kind]
    x = 2 * rng.standard_normal(shape) + 1
    scale, offset = rng.uniform(0.5, 2, c), rng.standard_normal(c)
    y, cache = group_norm.group_norm_forward(x, scale, offset, groups, 1e-5)
    xt = _to_torch(x)
    st, ot = torch.tensor(scale, requires_grad=True), torch.tensor(offset, requires_grad=True)
    if kind == "layer":      # normalized over (C, *S), per-channel affine as MATLAB's layer norm
        normalized = F.layer_norm(xt, xt.shape[1:], eps=1e-5)
        yt = normalized * st.reshape((1, -1) + (1,) * (len(shape) - 2)) + \
            ot.reshape((1, -1) + (1,) * (len(shape) - 2))
    elif kind == "instance":
        yt = F.instance_norm(xt, weight=st, bias=ot, eps=1e-5)
    else:
        yt = F.group_norm(xt, groups, st, ot, eps=1e-5)
    np.testing.assert_allclose(y, np.swapaxes(yt.detach().numpy(), 0, 1), rtol=1e-10, atol=1e-12)
    dy = rng.standard_normal(y.shape)
    yt.backward(torch.tensor(np.swapaxes(dy, 0, 1).copy()))
    dx, dscale, doffset = group_norm.group_norm_backward(dy, cache)
    np.testing.assert_allclose(dx, np.swapaxes(xt.grad.numpy(), 0, 1), rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(dscale, st.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(doffset, ot.grad.numpy(), rtol=1e-10)


def test_focal_gradient_matches_torch_autograd(rng):
    from layergraph.ops import segmentation_loss as seg_ops
    y = activation.softmax_forward(rng.standard_normal((4, 3, 5)))[0]
    t = (np.arange(4).reshape(-1, 1, 1) == rng.integers(0, 4, (3, 5))).astype(float)
    loss, cache = seg_ops.focal_cross_entropy_forward(y, t, 2.0, 0.25)
    yt = torch.tensor(y, requires_grad=True)
    lt = -(0.25 * torch.tensor(t) * (1 - yt) ** 2 * torch.log(yt)).sum() / 15
    lt.backward()
    np.testing.assert_allclose(float(loss), float(lt.detach()), rtol=1e-12)
    np.testing.assert_allclose(seg_ops.focal_cross_entropy_backward(cache), yt.grad.numpy(),
                               rtol=1e-10)
