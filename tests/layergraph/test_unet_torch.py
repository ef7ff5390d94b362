"""A U-Net training step (unet3dLayers / unet3d graphs) against PyTorch autograd, float64.

The graph is run by a small PyTorch interpreter of its layers (conv, BN in training mode,
ReLU, max pooling, transposed convolution, crop, concatenation, softmax) with the executor's own
initial parameters; the pixel cross-entropy (over the labelled voxels) and every learnable's
gradient must agree.
"""
from __future__ import annotations

import numpy as np
import pytest

import layergraph as lg
from layergraph.runtime.executor import Executor
from layergraph.training import setup

torch = pytest.importorskip("torch")
F = torch.nn.functional
pytestmark = pytest.mark.torch


def _crop(x, ref):
    """MATLAB centre crop of x (N, C, *S) to ref's spatial size (offset floor((in - ref) / 2))."""
    starts = [(a - b) // 2 for a, b in zip(x.shape[2:], ref.shape[2:])]
    return x[(slice(None), slice(None)) + tuple(slice(s, s + b) for s, b in zip(starts, ref.shape[2:]))]


def _torch_forward(lgraph, params, x):
    """Output of the last non-output layer, (N, K, *S), following the graph's connections."""
    out = {}
    layers = list(lgraph.Layers)
    for i in lgraph.topological_order():
        layer, kind = layers[i], type(layers[i]).__name__
        xs = [out[src] for src in lgraph.input_sources(i)]
        p = {n: params[(layer.Name, n)] for n in layer.LEARNABLES}
        if layer.IS_INPUT:
            y = x
        elif kind.startswith("Convolution"):
            y = F.conv3d(xs[0], p["Weights"], p["Bias"], padding="same" if layer.PaddingMode == "same" else 0)
        elif kind.startswith("TransposedConvolution"):
            y = F.conv_transpose3d(xs[0], p["Weights"], p["Bias"], stride=tuple(layer.Stride))
        elif kind == "BatchNormalizationLayer":
            y = F.batch_norm(xs[0], None, None, p["Scale"], p["Offset"], training=True, eps=layer.Epsilon)
        elif kind == "ReLULayer":
            y = F.relu(xs[0])
        elif kind.startswith("MaxPooling"):
            y = F.max_pool3d(xs[0], 2, 2)
        elif kind.startswith("Crop"):
            y = _crop(xs[0], xs[1])
        elif kind == "ConcatenationLayer":
            y = torch.cat(xs, dim=1)
        elif kind == "SoftmaxLayer":
            y = F.softmax(xs[0], dim=1)
        elif layer.IS_OUTPUT:
            return xs[0]
        else:
            raise AssertionError(f"no torch rule for {kind}")
        out[(i, 0)] = y
    return y


@pytest.mark.parametrize("depth,padding,size", [(1, "same", 8), (2, "same", 8), (1, "valid", 20)])
def test_unet3dlayers_step_matches_torch(depth, padding, size):
    rng = np.random.default_rng(depth)
    lgraph = lg.unet3dLayers([size, size, size, 2], 3, EncoderDepth=depth, NumFirstEncoderFilters=2,
                             ConvolutionPadding=padding)
    lgraph = lg.replaceLayer(lgraph, "ImageInputLayer", lg.image3dInputLayer(
        [size, size, size, 2], Normalization="none", Name="ImageInputLayer"))
    lgraph = lg.replaceLayer(lgraph, "Segmentation-Layer", lg.pixelClassificationLayer(
        Name="Segmentation-Layer", Classes=["a", "b", "c"]))
    lgraph = setup.initialize_graph(lgraph, rng)
    ex = Executor(lgraph, dtype=np.float64)
    x = rng.standard_normal((2, 3, size, size, size))              # internal (C, N, *S)
    out = lg.unet3dLayers([size] * 3 + [2], 3, EncoderDepth=depth, ConvolutionPadding=padding,
                          NumFirstEncoderFilters=2, nargout=2)[1][:3]
    codes = rng.integers(-1, 3, (3, *out))                          # -1: undefined voxel
    t = np.stack([(codes == k).astype(np.float64) for k in range(3)])
    loss, _, grads, _ = ex.loss_and_gradients(x, t)

    params = {key: torch.tensor(np.asarray(v), requires_grad=True) for key, v in ex.params.items()}
    y = _torch_forward(lgraph, params, torch.tensor(x.transpose(1, 0, 2, 3, 4)))
    tt = torch.tensor(t.transpose(1, 0, 2, 3, 4))
    tloss = -(tt * torch.log(y)).sum() / tt.sum()
    tloss.backward()
    assert loss == pytest.approx(tloss.item(), rel=1e-10)
    assert set(grads) == set(params)
    for key, grad in grads.items():
        np.testing.assert_allclose(grad, params[key].grad.numpy(), rtol=1e-7, atol=1e-10, err_msg=str(key))
