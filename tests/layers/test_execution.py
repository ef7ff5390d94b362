"""forward/backward through the layer adapters: shapes agree with output_sizes, gradients agree
with finite differences (float64), and state updates / normalization / losses are right."""
import numpy as np
import pytest

import layergraph as lg
from layergraph import MException
from helpers.gradcheck import check_gradients
from layergraph.layers.context import ForwardContext


def _matlab_size(y):
    """Internal (C, N, *S) -> MATLAB-ordered size without the batch: (*S, C)."""
    return (*y.shape[2:], y.shape[0])


def _internal_params(layer):
    names = layer.LEARNABLES + layer.STATES
    return {n: layer.to_internal(n, getattr(layer, n), np, np.float64) for n in names}


def check_layer(layer, xs, rng, training=False):
    """Initialise from the inputs' sizes, run forward and backward, check sizes and gradients."""
    layer = layer.initialize([_matlab_size(x) for x in xs], rng)
    params = _internal_params(layer)
    ys, cache, _ = layer.forward(params, xs, ForwardContext(training))
    expected = layer.output_sizes([_matlab_size(x) for x in xs])
    assert [_matlab_size(y) for y in ys] == expected
    assert all(y.shape[1] == xs[0].shape[1] for y in ys)
    dys = [rng.standard_normal(y.shape) for y in ys]
    dxs, grads = layer.backward(params, dys, cache)
    assert len(dxs) == len(xs) and all(dx.shape == x.shape for dx, x in zip(dxs, xs))
    assert set(grads) == set(layer.LEARNABLES)
    names = layer.LEARNABLES

    def fun(*arrays):
        p = dict(params, **dict(zip(names, arrays[len(xs):])))
        out, _, _ = layer.forward(p, list(arrays[:len(xs)]), ForwardContext(training))
        return sum(np.vdot(y, dy) for y, dy in zip(out, dys))

    check_gradients(fun, list(xs) + [params[n] for n in names], list(dxs) + [grads[n] for n in names], rng)
    return layer, ys


@pytest.mark.parametrize("layer, size", [
    (lg.convolution3dLayer([3, 2, 3], 4, Stride=[2, 1, 2], Padding="same"), (5, 4, 6, 2)),
    (lg.convolution2dLayer(3, 3, DilationFactor=2, Padding=[1, 0, 2, 1]), (7, 6, 2)),
    (lg.convolution2dLayer(2, 3, Padding=1, PaddingValue=1.5), (4, 4, 2)),
    (lg.convolution2dLayer(2, 3, Padding=[2, 1, 0, 2], PaddingValue="replicate"), (4, 3, 2)),
    (lg.convolution3dLayer(2, 2, Padding="same", Stride=2, PaddingValue="symmetric-inc"), (3, 4, 3, 2)),
    (lg.convolution2dLayer(3, 2, Padding=[2, 1, 1, 2], PaddingValue="symmetric-exclude-edge"), (4, 3, 1)),
    (lg.batchNormalizationLayer(), (3, 3, 2, 4)),
    (lg.reluLayer(), (3, 4, 3)),
    (lg.softmaxLayer(), (1, 1, 5)),
    (lg.maxPooling3dLayer(3, Stride=2, Padding="same"), (5, 5, 4, 2)),
    (lg.maxPooling2dLayer([2, 3], Stride=[2, 1]), (4, 5, 2)),
    (lg.averagePooling3dLayer(2, Stride=2, Padding=[1, 0, 1]), (3, 4, 3, 2)),
    (lg.averagePooling2dLayer(3, Stride=2, Padding="same", PaddingValue="mean"), (5, 5, 2)),
    (lg.globalAveragePooling3dLayer(), (3, 2, 4, 3)),
    (lg.fullyConnectedLayer(4), (2, 3, 2, 3)),
    (lg.fullyConnectedLayer(3), (1, 1, 5)),
], ids=lambda v: type(v).__name__ if isinstance(v, lg.Layer) else str(v))
def test_single_input_layers(layer, size, rng):
    x = rng.standard_normal((size[-1], 2, *size[:-1]))
    check_layer(layer, [x], rng)


@pytest.mark.parametrize("mode, expected", [
    ("replicate", [1, 1, 1, 2, 3, 3]), ("symmetric-include-edge", [2, 1, 1, 2, 3, 3]),
    ("symmetric-exclude-edge", [3, 2, 1, 2, 3, 2]), (7, [7, 7, 1, 2, 3, 7]),
])
def test_convolution_padding_values(mode, expected):
    layer = lg.convolution2dLayer(1, 1, Weights=np.ones((1, 1)), Bias=0, Padding=[0, 0, 2, 1], PaddingValue=mode)
    x = np.array([1.0, 2.0, 3.0]).reshape(1, 1, 1, 3)  # one row [1 2 3]
    (y,), _, _ = layer.forward(_internal_params(layer), [x], ForwardContext(False))
    assert y.ravel().tolist() == expected


def test_batchnorm_training_gradients_and_state_update(rng):
    x = rng.standard_normal((3, 4, 2, 3)) * 2 + 1
    layer, (y,) = check_layer(lg.batchNormalizationLayer(MeanDecay=0.25, VarianceDecay=0.5), [x], rng, training=True)
    params = _internal_params(layer)
    params["TrainedMean"] = np.array([1.0, 2.0, 3.0])
    params["TrainedVariance"] = np.array([4.0, 5.0, 6.0])
    _, _, update = layer.forward(params, [x], ForwardContext(True))
    flat = x.reshape(3, -1)
    np.testing.assert_allclose(update["BatchMean"], flat.mean(1))
    np.testing.assert_allclose(update["BatchVariance"], flat.var(1))
    np.testing.assert_allclose(update["TrainedMean"], 0.75 * params["TrainedMean"] + 0.25 * flat.mean(1))
    np.testing.assert_allclose(update["TrainedVariance"],
                               0.5 * params["TrainedVariance"] + 0.5 * flat.var(1, ddof=1))
    np.testing.assert_allclose(y.reshape(3, -1).mean(1), 0, atol=1e-12)  # Offset 0, Scale 1


def test_batchnorm_inference_uses_trained_statistics(rng):
    layer = lg.batchNormalizationLayer(TrainedMean=np.array([1.0, -1.0]), TrainedVariance=np.array([4.0, 1.0]),
                                       Offset=np.array([0.5, 0.0]), Scale=np.array([2.0, 1.0]))
    x = rng.standard_normal((2, 3, 2, 2))
    (y,), _, update = layer.forward(_internal_params(layer), [x], ForwardContext(False))
    assert update == {}
    expected = (x - np.array([1.0, -1.0]).reshape(2, 1, 1, 1)) / np.sqrt(np.array([4.0, 1.0]) + 1e-5).reshape(2, 1, 1, 1)
    expected = expected * np.array([2.0, 1.0]).reshape(2, 1, 1, 1) + np.array([0.5, 0.0]).reshape(2, 1, 1, 1)
    np.testing.assert_allclose(y, expected)


def test_batchnorm_inference_without_statistics_is_an_error(rng):
    layer = lg.batchNormalizationLayer(Name="bn").initialize([(2, 2, 3)], rng)
    params = {n: layer.to_internal(n, getattr(layer, n), np, np.float64) for n in layer.LEARNABLES}
    with pytest.raises(MException) as info:
        layer.forward(params, [rng.standard_normal((3, 2, 2, 2))], ForwardContext(False))
    assert info.value.identifier == "nnet_cnn:batchNormalizationLayer:StatisticsNotInitialized"
    assert "TrainedMean" in info.value.message and "'bn'" in info.value.message


@pytest.mark.parametrize("layer, sizes", [
    (lg.additionLayer(3), [(3, 2, 2)] * 3),
    (lg.depthConcatenationLayer(2), [(3, 2, 2), (3, 2, 4)]),
])
def test_multi_input_layers(layer, sizes, rng):
    xs = [rng.standard_normal((s[-1], 2, *s[:-1])) for s in sizes]
    _, (y,) = check_layer(layer, xs, rng)
    if isinstance(layer, lg.AdditionLayer):
        np.testing.assert_allclose(y, sum(xs))
    else:
        np.testing.assert_allclose(y, np.concatenate(xs, axis=0))


def test_fully_connected_flattens_column_major(rng):
    w = rng.standard_normal((2, 12))
    layer = lg.fullyConnectedLayer(2, Weights=w, Bias=np.array([[1.0], [2.0]]))
    X = rng.standard_normal((2, 3, 2, 5))  # MATLAB h x w x c x N
    x = X.transpose(2, 3, 0, 1)             # internal (c, N, h, w)
    (y,), _, _ = layer.forward(_internal_params(layer), [x], ForwardContext(False))
    expected = w @ X.reshape(12, 5, order="F") + np.array([[1.0], [2.0]])
    np.testing.assert_allclose(y.reshape(2, 5), expected)


def test_input_layer_normalizations(rng):
    x = rng.standard_normal((2, 3, 4, 4)) * 3 + 1
    mean, std = np.array([1.0, -1.0]).reshape(1, 1, 2), np.array([2.0, 4.0]).reshape(1, 1, 2)
    lo, hi = np.array([-5.0, 0.0]).reshape(1, 1, 2), np.array([5.0, 10.0]).reshape(1, 1, 2)
    b = lambda v: v.reshape(2, 1, 1, 1)  # noqa: E731
    cases = {
        "zerocenter": x - b(mean), "zscore": (x - b(mean)) / b(std),
        "rescale-symmetric": 2 * (x - b(lo)) / (b(hi) - b(lo)) - 1,
        "rescale-zero-one": (x - b(lo)) / (b(hi) - b(lo)), "none": x,
    }
    for norm, expected in cases.items():
        layer = lg.imageInputLayer([4, 4, 2], Normalization=norm, Mean=mean, StandardDeviation=std, Min=lo, Max=hi)
        (y,), _, _ = layer.forward({}, [x], ForwardContext(False))
        np.testing.assert_allclose(y, expected, err_msg=norm)
        params = {n: layer.to_internal(n, getattr(layer, n), np, np.float64) for n in layer.parameter_names()}
        (y2,), _, _ = layer.forward(params, [x], ForwardContext(False))
        np.testing.assert_allclose(y2, expected, err_msg=norm)
    assert layer.backward({}, [x], None) == ([], {})


def test_input_layer_errors(rng):
    x = rng.standard_normal((1, 2, 4, 4))
    with pytest.raises(MException) as info:
        lg.imageInputLayer([4, 4], Name="input").forward({}, [x], ForwardContext(False))
    assert info.value.identifier == "nnet_cnn:imageInputLayer:NormalizationStatisticsNotInitialized"
    assert "Mean" in info.value.message and "'input'" in info.value.message
    with pytest.raises(MException) as info:
        lg.imageInputLayer([5, 4], Normalization="none").forward({}, [x], ForwardContext(False))
    assert info.value.identifier == "nnet_cnn:imageInputLayer:WrongInputSize"


def test_classification_loss_and_gradient(rng):
    layer = lg.classificationLayer(Classes=["a", "b", "c"], ClassWeights=[1.0, 2.0, 0.5])
    y = rng.uniform(0.1, 1.0, (3, 4, 1, 1))
    t = np.eye(3)[:, rng.integers(0, 3, 4)]
    assert layer.forward({}, [y], ForwardContext(True))[0][0] is y
    loss, cache = layer.loss(y, t)
    w = np.array([1.0, 2.0, 0.5]).reshape(3, 1)
    np.testing.assert_allclose(loss, -(w * t * np.log(y.reshape(3, 4))).sum() / 4)
    dy = layer.loss_backward(cache)
    assert dy.shape == y.shape
    check_gradients(lambda v: layer.loss(v, t)[0], [y], [dy], rng)


def test_regression_loss_and_gradient(rng):
    layer = lg.regressionLayer()
    y, t = rng.standard_normal((2, 3, 2, 2)), rng.standard_normal((2, 3, 2, 2))
    loss, cache = layer.loss(y, t)
    np.testing.assert_allclose(loss, 0.5 * ((y - t) ** 2).sum() / 3)
    dy = layer.loss_backward(cache)
    check_gradients(lambda v: layer.loss(v, t)[0], [y], [dy], rng)


def test_backward_skips_dx_when_not_needed(rng):
    layer = lg.convolution2dLayer(2, 3).initialize([(3, 3, 2)], rng)
    params = _internal_params(layer)
    (y,), cache, _ = layer.forward(params, [rng.standard_normal((2, 1, 3, 3))], ForwardContext(True))
    dxs, grads = layer.backward(params, [np.ones_like(y)], cache, need_dx=False)
    assert dxs == [None] and grads["Weights"].shape == (3, 2, 2, 2)


def test_float32_forward_keeps_dtype(rng):
    layer = lg.convolution3dLayer(3, 2, Padding="same").initialize([(4, 4, 4, 1)], rng)
    params = {n: layer.to_internal(n, getattr(layer, n), np, np.float32) for n in layer.LEARNABLES}
    (y,), _, _ = layer.forward(params, [rng.standard_normal((1, 2, 4, 4, 4)).astype(np.float32)], ForwardContext(False))
    assert y.dtype == np.float32 and y.shape == (2, 2, 4, 4, 4)
