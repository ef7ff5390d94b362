"""Bad inputs to predict / classify / activations (DAGNetwork) and dlnetwork predict / forward."""
import numpy as np
import pytest

from layergraph import (MException, activations, assembleNetwork, batchNormalizationLayer, classificationLayer, classify,
                        convolution3dLayer, dlnetwork, forward, fullyConnectedLayer, image3dInputLayer,
                        imageInputLayer, layerGraph, predict, regressionLayer, reluLayer, softmaxLayer,
                        trainNetwork, trainingOptions)

X = np.random.default_rng(0).random((3, 3, 3, 1, 4)).astype(np.float32)
BODY = [image3dInputLayer([3, 3, 3, 1], Name="in", Normalization="none"),
        convolution3dLayer(2, 2, Name="c", Weights=np.ones((2, 2, 2, 1, 2), np.float32),
                           Bias=np.zeros((1, 1, 1, 2), np.float32)),
        reluLayer(Name="r"),
        fullyConnectedLayer(3, Name="fc", Weights=np.ones((3, 16), np.float32), Bias=np.zeros((3, 1), np.float32))]
DAG = assembleNetwork(BODY + [regressionLayer(Name="out")])
DL = dlnetwork(BODY + [softmaxLayer(Name="sm")])

BAD_DATA = [
    (None, "InvalidPredictors", "NoneType"),
    ("abc", "InvalidPredictors", "str"),
    (X.astype(complex), "InvalidPredictors", "complex128"),     # imaginary part not dropped
    (X.astype(object), "InvalidPredictors", "object"),
    (X > 0.5, "InvalidPredictors", "bool"),
    (X[..., :0], "WrongInputSize", "3x3x3x1x0"),                # no observations
    (np.ones((3, 3, 1, 4)), "WrongInputSize", "3x3x1x4"),       # 2-D data to a 3-D network
    (np.ones((3, 3, 3, 2, 4)), "WrongInputSize", "3x3x3x2x4"),  # wrong channel count
    (np.ones((3, 3, 3, 1, 4, 2)), "WrongInputSize", "3x3x3x1x4x2"),
]
CALLS = {
    "predict": lambda x: predict(DAG, x),
    "activations": lambda x: activations(DAG, x, "r"),
    "dlnetwork predict": lambda x: predict(DL, x),
    "forward": lambda x: forward(DL, x),
}


@pytest.mark.parametrize("call", sorted(CALLS))
@pytest.mark.parametrize("data, reason, received", BAD_DATA)
def test_bad_predictors(call, data, reason, received):
    with pytest.raises(MException) as err:
        CALLS[call](data)
    func = call.split()[-1]
    assert err.value.identifier == f"nnet_cnn:{func}:{reason}"
    assert f"Received: {received}" in str(err.value) or received in str(err.value)


def test_good_predictors_still_work():
    assert predict(DAG, X).shape == (4, 3)
    assert predict(DAG, X[..., 0]).shape == (1, 3)                 # one observation, N dropped
    assert predict(DAG, X.astype(np.int64)).shape == (4, 3)        # integer data is numeric
    assert predict(DL, X.tolist()).shape == (3, 4)


@pytest.mark.parametrize("func", [predict, classify, lambda net, x: activations(net, x, "r")])
@pytest.mark.parametrize("net", [None, layerGraph(BODY), "net"])
def test_first_argument_must_be_a_network(func, net):
    with pytest.raises(MException) as err:
        func(net, X)
    assert err.value.identifier == "MATLAB:UndefinedFunction"


def test_classify_is_not_a_dlnetwork_function():
    with pytest.raises(MException) as err:
        classify(DL, X)
    assert err.value.identifier == "MATLAB:UndefinedFunction"


@pytest.mark.parametrize("outputs", [5, [1, 2], [], None.__class__])
def test_dlnetwork_outputs_must_be_names(outputs):
    with pytest.raises(MException) as err:
        predict(DL, X, Outputs=outputs)
    assert err.value.identifier == "deep:dlnetwork:InvalidOutputs"


def test_batchnorm_network_unaffected():
    net = dlnetwork([image3dInputLayer([3, 3, 3, 1], Name="in"), batchNormalizationLayer(Name="bn")])
    assert forward(net, X)[0].shape == X.shape


def test_activations_layer_name_must_be_one_string():
    with pytest.raises(MException) as err:
        activations(DAG, X, ["r", "fc"])
    assert err.value.identifier == "nnet_cnn:activations:InvalidLayerName"


@pytest.mark.parametrize("net", [DAG, DL], ids=["DAGNetwork", "dlnetwork"])
@pytest.mark.parametrize("name, ident", [("Layers", "MATLAB:class:SetProhibited"),
                                         ("OutputNames", "MATLAB:class:SetProhibited"),
                                         ("state", "MATLAB:noPublicFieldForClass"),        # misspelt State
                                         ("Learnable", "MATLAB:noPublicFieldForClass")])
def test_network_properties_cannot_be_set_or_invented(net, name, ident):
    with pytest.raises(MException) as err:
        setattr(net, name, [])
    assert err.value.identifier == ident
    assert not hasattr(net, "state") and not hasattr(net, "Learnable")


def test_dlnetwork_learnables_are_still_settable():
    net = dlnetwork(DL.layerGraph())
    net.Learnables = net.Learnables.assign(Value=[v * 0 for v in net.Learnables["Value"]])
    assert not np.any(net.Learnables["Value"].iloc[0])


@pytest.mark.parametrize("name, ident", [("Layers", "MATLAB:class:SetProhibited"),
                                         ("Connections", "MATLAB:class:SetProhibited"),
                                         ("layers", "MATLAB:noPublicFieldForClass")])
def test_layer_graph_properties_cannot_be_set_or_invented(name, ident):
    lgraph = layerGraph(BODY)
    with pytest.raises(MException) as err:
        setattr(lgraph, name, [])
    assert err.value.identifier == ident
    assert len(lgraph.Layers) == 4 and not hasattr(lgraph, "layers")


def test_network_arrays_cannot_be_edited_in_place():
    before = predict(DAG, X)
    layer = DAG.Layers["fc"]
    with pytest.raises(ValueError, match="read-only"):
        layer.Weights[...] = 0                 # would desynchronise Layers (and saves) from predict
    assert np.all(DAG.Layers["fc"].Weights == 1)
    np.testing.assert_array_equal(predict(DAG, X), before)
    layer.Weights = np.zeros((3, 16), np.float32)           # the copy itself may be given new values
    assert np.all(DAG.Layers["fc"].Weights == 1)


CLASSIFIER = assembleNetwork(BODY + [softmaxLayer(Name="sm"), classificationLayer(Name="out", Classes=["a", "b", "c"])])


@pytest.mark.parametrize("call, ident", [
    (lambda: predict(DAG, X, ExecutionEnvironment="gpu"), "nnet_cnn:predict:GPUNotAvailable"),
    (lambda: classify(CLASSIFIER, X, ExecutionEnvironment="gpu"), "nnet_cnn:predict:GPUNotAvailable"),
    (lambda: activations(DAG, X, "r", ExecutionEnvironment="gpu"), "nnet_cnn:activations:GPUNotAvailable"),
])
def test_gpu_requested_without_a_gpu(call, ident, monkeypatch):
    from layergraph.ops import _backend
    monkeypatch.setattr(_backend, "gpu_available", lambda: False)
    with pytest.raises(MException) as err:
        call()
    assert err.value.identifier == ident


def _rescaling_layers(low, high):
    return [imageInputLayer([2, 2, np.size(low)], Name="in", Normalization="rescale-zero-one", Min=low, Max=high),
            fullyConnectedLayer(2, Name="fc", Weights=np.ones((2, 4 * np.size(low)), np.float32),
                                Bias=np.zeros((2, 1), np.float32)),
            softmaxLayer(Name="sm")]


@pytest.mark.parametrize("low, high", [(1, 1), (2, 1), ([0, 0], [1, 0])])
def test_rescale_max_must_exceed_min(low, high):
    layers = _rescaling_layers(low, high)
    for func, call in [("dlnetwork", lambda: dlnetwork(layers)),
                       ("assembleNetwork", lambda: assembleNetwork(layers + [classificationLayer(Classes=["a", "b"])]))]:
        with pytest.raises(MException, match="Max must be greater than Min") as err:
            call()
        assert err.value.identifier == f"nnet_cnn:{func}:InvalidNormalizationRange"


def test_rescale_min_and_max_may_be_set_in_any_order():
    layer = _rescaling_layers(0, 1)[0]
    layer.Min = 5                     # momentarily above Max: fine, checked where the network is made
    layer.Max = 9
    assert dlnetwork([layer, *_rescaling_layers(0, 1)[1:]]).Initialized


def test_trainnetwork_on_constant_data_names_the_rescale_range():
    layers = [imageInputLayer([2, 2, 1], Normalization="rescale-zero-one"), fullyConnectedLayer(2),
              softmaxLayer(), classificationLayer()]
    options = trainingOptions("sgdm", MaxEpochs=1, MiniBatchSize=2, Verbose=False)
    with pytest.raises(MException) as err:
        trainNetwork(np.ones((2, 2, 1, 4), np.float32), ["a", "b"] * 2, layers, options)
    assert err.value.identifier == "nnet_cnn:trainNetwork:InvalidNormalizationRange"


def test_retraining_with_new_rescale_statistics():
    layers = [imageInputLayer([2, 2, 1], Name="in", Normalization="rescale-zero-one"), fullyConnectedLayer(2),
              softmaxLayer(), classificationLayer()]
    options = trainingOptions("sgdm", MaxEpochs=1, MiniBatchSize=2, Verbose=False)
    data = np.random.default_rng(0).random((2, 2, 1, 4)).astype(np.float32)
    net, _ = trainNetwork(data, ["a", "b"] * 2, layers, options)
    net, _ = trainNetwork(data + 10, ["a", "b"] * 2, layerGraph(net), options)   # new Min above the old Max
    assert net.Layers["in"].Min.min() >= 10
