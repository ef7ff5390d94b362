"""Property-based checks: output_sizes agrees with the forward pass for random geometries, and the
backend (NumPy / CuPy) does not change a layer's results."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import layergraph as lg
from layergraph.ops import _backend
from layergraph.layers.context import ForwardContext

small = st.integers(1, 3)


@settings(max_examples=25, deadline=None)
@given(nd=st.sampled_from([2, 3]), k=small, s=small, d=st.integers(1, 2), extra=st.integers(0, 3),
       same=st.booleans(), pad=st.integers(0, 2), seed=st.integers(0, 2**16))
def test_convolution_and_pooling_sizes_match_forward(nd, k, s, d, extra, same, pad, seed):
    rng = np.random.default_rng(seed)
    size = tuple(int(n) for n in rng.integers((k - 1) * d + 1, (k - 1) * d + 2 + extra, nd)) + (2,)
    padding = "same" if same else pad
    conv = (lg.convolution2dLayer if nd == 2 else lg.convolution3dLayer)(k, 3, Stride=s, DilationFactor=d, Padding=padding)
    pool_padding = "same" if same else min(pad, k - 1)  # MATLAB: padding < pool size
    pool = (lg.maxPooling2dLayer if nd == 2 else lg.maxPooling3dLayer)(k, Stride=s, Padding=pool_padding)
    x = rng.standard_normal((2, 1, *size[:-1]))
    for layer in (conv, pool):
        layer = layer.initialize([size], rng)
        params = {n: layer.to_internal(n, getattr(layer, n), np, np.float64) for n in layer.LEARNABLES}
        (y,), _, _ = layer.forward(params, [x], ForwardContext(False))
        assert layer.output_sizes([size]) == [(*y.shape[2:], y.shape[0])]
        if same:
            assert y.shape[2:] == tuple(-(-n // s) for n in size[:-1])


def test_layers_give_the_same_results_on_every_backend(xp, rng):
    layers = [lg.convolution3dLayer(3, 4, Stride=2, Padding="same"), lg.batchNormalizationLayer(),
              lg.maxPooling3dLayer(2, Stride=2), lg.fullyConnectedLayer(3)]
    x = rng.standard_normal((2, 3, 5, 4, 4)).astype(np.float32)
    size = (5, 4, 4, 2)
    for layer in layers:
        layer = layer.initialize([size], rng)
        outs = []
        for mod in (np, xp):
            params = {n: layer.to_internal(n, getattr(layer, n), mod, np.float32)
                      for n in layer.LEARNABLES + layer.STATES}
            (y,), cache, _ = layer.forward(params, [mod.asarray(x)], ForwardContext(True))
            (dx,), grads = layer.backward(params, [mod.ones_like(y)], cache)
            outs.append([_backend.to_host(a) for a in (y, dx, *grads.values())])
            assert all(layer.from_internal(n, params[n]).shape == getattr(layer, n).shape for n in params)
        for a, b in zip(*outs):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)
        x, size = outs[0][0], layer.output_sizes([size])[0]
