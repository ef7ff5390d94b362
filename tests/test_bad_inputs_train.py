"""Bad inputs to trainNetwork: clear MExceptions, never a silent coercion or a raw error."""
import numpy as np
import pandas as pd
import pytest

from layergraph import (MException, classificationLayer, convolution3dLayer, fullyConnectedLayer,
                        image3dInputLayer, regressionLayer, reluLayer, softmaxLayer, trainNetwork,
                        trainingOptions)

N = 8


def _layers(output):
    return [image3dInputLayer([3, 3, 3, 1], Name="in"), convolution3dLayer(2, 2, Name="c"),
            reluLayer(Name="r"), fullyConnectedLayer(3, Name="fc")] + output


CLASSIFY = _layers([softmaxLayer(Name="sm"), classificationLayer(Name="out")])
REGRESS = _layers([regressionLayer(Name="reg")])
X = np.random.default_rng(0).random((3, 3, 3, 1, N)).astype(np.float32)
LABELS = pd.Categorical(["a", "b", "c", "a"] * 2)


def _options(**kw):
    return trainingOptions("sgdm", MaxEpochs=1, MiniBatchSize=4, Verbose=False, **kw)


def _raises(ident, *args, **kw):
    with pytest.raises(MException) as err:
        trainNetwork(*args, **kw)
    assert err.value.identifier == ident
    assert "Received" in str(err.value)
    return str(err.value)


@pytest.mark.parametrize("Y, fragment", [
    (np.random.default_rng(1).random((N, 3)) + 1j, "complex128"),    # imaginary part not dropped
    (LABELS, "Categorical"),
    (np.array([["a"] * 3] * N), "<U1"),
])
def test_regression_responses_must_be_real_numeric(Y, fragment):
    msg = _raises("nnet_cnn:trainNetwork:InvalidResponses", X, Y, REGRESS, _options())
    assert fragment in msg


@pytest.mark.parametrize("Y", [np.ones((N, 2)), np.ones(N), np.ones((N, 4))])
def test_regression_response_count_must_match_the_network_output(Y):
    msg = _raises("nnet_cnn:trainNetwork:WrongNumberOfResponses", X, Y, REGRESS, _options())
    assert "N x 3" in msg and f"Received: {Y.reshape(N, -1).shape[1]}" in msg


def test_validation_response_count_must_match_training():
    options = _options(ValidationData=(X, np.ones((N, 2))))
    msg = _raises("nnet_cnn:trainNetwork:WrongNumberOfResponses", X, np.ones((N, 3)), REGRESS, options)
    assert "N x 3" in msg


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_predictors_cannot_give_normalization_statistics(bad):
    Xb = X.copy()
    Xb[0, 0, 0, 0, 3] = bad
    msg = _raises("nnet_cnn:trainNetwork:NonFinitePredictors", Xb, LABELS, CLASSIFY, _options())
    assert "1 NaN or Inf" in msg and "zerocenter" in msg


def test_no_observations():
    msg = _raises("nnet_cnn:trainNetwork:WrongInputSize", X[..., :0], LABELS[:0], CLASSIFY, _options())
    assert "3x3x3x1x0" in msg


@pytest.mark.parametrize("Xb", [None, "abc", X.astype(complex), X > 0.5, X.astype(object)])
def test_predictors_must_be_real_numeric(Xb):
    _raises("nnet_cnn:trainNetwork:InvalidPredictors", Xb, LABELS, CLASSIFY, _options())


@pytest.mark.parametrize("dtype", [None, np.int32, "float16", np.float16, "abc"])
def test_dtype_must_be_single_or_double(dtype):
    msg = _raises("nnet_cnn:trainNetwork:InvalidDtype", X, LABELS, CLASSIFY, _options(), dtype=dtype)
    assert repr(dtype) in msg


def test_dtype_accepts_numpy_spellings_of_double():
    net, _ = trainNetwork(X, LABELS, CLASSIFY, _options(), dtype="float64")
    assert net.Layers["fc"].Weights.dtype == np.float64


def test_checkpoint_path_that_is_a_file(tmp_path):
    file = tmp_path / "notes.txt"
    file.write_text("x")
    with pytest.raises(MException, match="which is a file") as err:
        trainingOptions("sgdm", CheckpointPath=str(file))
    assert err.value.identifier == "nnet_cnn:trainingOptions:InvalidCheckpointPath"
    with pytest.raises(MException, match="does not exist"):
        trainingOptions("sgdm", CheckpointPath=str(tmp_path / "missing"))


def test_classification_layer_needs_one_score_per_class():
    layers = [image3dInputLayer([3, 3, 3, 1], Name="in"), convolution3dLayer(1, 3, Name="c"),
              softmaxLayer(Name="sm"), classificationLayer(Name="out")]          # 3x3x3x3 scores
    msg = _raises("nnet_cnn:trainNetwork:WrongOutputSize", X, LABELS, layers, _options())
    assert "1x1x1x3" in msg and "3x3x3x3" in msg


@pytest.mark.parametrize("result", [np.array([True, False]), "stop", 2])
def test_output_function_must_return_a_logical(result):
    options = _options(OutputFcn=lambda info: result)
    msg = _raises("nnet_cnn:trainNetwork:InvalidOutputFcnResult", X, LABELS, CLASSIFY, options)
    assert "<lambda>" in msg


def test_output_function_may_return_none_or_logicals():
    calls = []
    options = _options(OutputFcn=[lambda info: calls.append(info.Iteration), lambda info: np.bool_(False)])
    trainNetwork(X, LABELS, CLASSIFY, options)
    assert calls == [1, 2]
