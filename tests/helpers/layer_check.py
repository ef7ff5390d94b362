"""Shared by the layer tests: internal parameters, MATLAB sizes, and a forward/backward check."""
import numpy as np

from helpers.gradcheck import check_gradients
from layergraph.layers.context import ForwardContext


def matlab_size(y):
    """Internal (C, N, *S) -> MATLAB-ordered size without the batch: (*S, C)."""
    return (*y.shape[2:], y.shape[0])


def internal_params(layer):
    names = layer.LEARNABLES + layer.STATES
    return {n: layer.to_internal(n, getattr(layer, n), np, np.float64) for n in names}


def check_layer(layer, xs, rng, training=False):
    """Initialise from the inputs' sizes, run forward and backward, check sizes and gradients."""
    layer = layer.initialize([matlab_size(x) for x in xs], rng)
    params = internal_params(layer)
    ys, cache, _ = layer.forward(params, xs, ForwardContext(training))
    assert [matlab_size(y) for y in ys] == layer.output_sizes([matlab_size(x) for x in xs])
    dys = [rng.standard_normal(y.shape) for y in ys]
    dxs, grads = layer.backward(params, dys, cache)
    assert len(dxs) == len(xs) and all(dx.shape == x.shape for dx, x in zip(dxs, xs))
    assert set(grads) == set(layer.LEARNABLES)
    names = layer.LEARNABLES

    def fun(*arrays):
        p = dict(params, **dict(zip(names, arrays[len(xs):])))
        out, _, _ = layer.forward(p, list(arrays[:len(xs)]), ForwardContext(training))
        return sum(np.vdot(y, dy) for y, dy in zip(out, dys))

    check_gradients(fun, list(xs) + [params[n] for n in names],
                    list(dxs) + [grads[n] for n in names], rng)
    return layer, ys
