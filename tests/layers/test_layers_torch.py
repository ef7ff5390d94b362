"""Layers in MATLAB layout against PyTorch (test-only dependency): the adapters' layout handling
(weights h x w x d x C x F, asymmetric 'same' padding, column-major flattening) is checked end to end."""
import numpy as np
import pytest

import layergraph as lg
from layergraph.layers.context import ForwardContext

torch = pytest.importorskip("torch")
F = torch.nn.functional
pytestmark = pytest.mark.torch


def _run(layer, X):
    """Forward a MATLAB-layout batch X (h, w, d, c, N) through the layer; MATLAB-layout output."""
    nd = X.ndim - 2
    layer = layer.initialize([X.shape[:-1]], np.random.default_rng(0))
    params = {n: layer.to_internal(n, getattr(layer, n), np, np.float64) for n in layer.LEARNABLES}
    x = X.transpose(nd, nd + 1, *range(nd))
    (y,), _, _ = layer.forward(params, [x], ForwardContext(False))
    return layer, y.transpose(*range(2, nd + 2), 0, 1)


def _torch(X):
    nd = X.ndim - 2
    return torch.from_numpy(np.ascontiguousarray(X.transpose(nd + 1, nd, *range(nd))))


def _from_torch(t):
    nd = t.ndim - 2
    return t.numpy().transpose(*range(2, nd + 2), 1, 0)


def test_convolution3d_same_stride_matches_torch(rng):
    X = rng.standard_normal((7, 6, 5, 3, 2))
    layer, Y = _run(lg.convolution3dLayer([3, 4, 2], 4, Stride=2, Padding="same",
                                          BiasInitializer="narrow-normal"), X)
    # out = ceil(in/2); total = (out-1)*2 + k - in: h 6+3-7=2, w 4+4-6=2, d 4+2-5=1 (extra after)
    assert layer.pads(X.shape[:3]) == ((1, 1), (1, 1), (0, 1))
    assert layer.PaddingSize == ((1, 1, 0), (1, 1, 1))
    w = torch.from_numpy(np.ascontiguousarray(layer.Weights.transpose(4, 3, 0, 1, 2))).double()
    padded = F.pad(_torch(X), (0, 1, 1, 1, 1, 1))
    expected = F.conv3d(padded, w, torch.from_numpy(layer.Bias.ravel()).double(), stride=2)
    np.testing.assert_allclose(Y, _from_torch(expected), rtol=1e-5, atol=1e-5)


def test_convolution2d_dilation_manual_padding_matches_torch(rng):
    X = rng.standard_normal((8, 7, 2, 3))
    layer, Y = _run(lg.convolution2dLayer(3, 5, DilationFactor=[2, 1], Padding=[1, 0, 2, 1]), X)
    w = torch.from_numpy(np.ascontiguousarray(layer.Weights.transpose(3, 2, 0, 1))).double()
    padded = F.pad(_torch(X), (2, 1, 1, 0))
    expected = F.conv2d(padded, w, torch.from_numpy(layer.Bias.ravel()).double(), dilation=(2, 1))
    np.testing.assert_allclose(Y, _from_torch(expected), rtol=1e-6, atol=1e-6)


def test_max_and_average_pooling_3d_match_torch(rng):
    X = rng.standard_normal((6, 5, 4, 2, 2))
    _, Y = _run(lg.maxPooling3dLayer(3, Stride=2, Padding="same"), X)
    padded = F.pad(_torch(X), (0, 1, 1, 1, 0, 1), value=-np.inf)  # extra pad after (bottom/right/back)
    np.testing.assert_allclose(Y, _from_torch(F.max_pool3d(padded, 3, 2)))
    _, Y = _run(lg.averagePooling3dLayer(2, Stride=2), X)
    np.testing.assert_allclose(Y, _from_torch(F.avg_pool3d(_torch(X), 2, 2)), rtol=1e-12)


def test_fully_connected_matches_torch_on_matlab_flattening(rng):
    X = rng.standard_normal((2, 3, 2, 4, 3))
    layer, Y = _run(lg.fullyConnectedLayer(5, BiasInitializer="narrow-normal"), X)
    flat = torch.from_numpy(X.reshape(-1, 3, order="F").T.copy())
    expected = F.linear(flat, torch.from_numpy(layer.Weights).double(), torch.from_numpy(layer.Bias.ravel()).double())
    np.testing.assert_allclose(Y.reshape(5, 3), expected.numpy().T, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", ["auto", "spatial-channel", "batch-excluded", "channel-only"])
def test_layer_normalization_operation_dimension_matches_torch(rng, mode):
    X = rng.standard_normal((4, 3, 5, 2))
    layer = lg.layerNormalizationLayer(OperationDimension=mode, Epsilon=1e-4,
                                       OffsetInitializer="narrow-normal",
                                       ScaleInitializer="narrow-normal")
    layer, Y = _run(layer, X)
    x = _torch(X)                                             # (N, C, H, W)
    scale = torch.from_numpy(layer.Scale.ravel()).reshape(1, -1, 1, 1)
    offset = torch.from_numpy(layer.Offset.ravel()).reshape(1, -1, 1, 1)
    if mode == "channel-only":                                # over C at each (n, h, w)
        normed = F.layer_norm(x.permute(0, 2, 3, 1), (5,), eps=1e-4).permute(0, 3, 1, 2)
    else:                                                     # over C, H, W of each n
        normed = F.layer_norm(x, x.shape[1:], eps=1e-4)
    np.testing.assert_allclose(Y, _from_torch(normed * scale + offset), rtol=1e-10, atol=1e-10)
