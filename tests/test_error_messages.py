"""Error messages name the argument and describe the value received (issue 12)."""
import numpy as np
import pandas as pd
import pytest

from layergraph import (MException, classificationLayer, fullyConnectedLayer, imageInputLayer,
                        softmaxLayer, trainingOptions, trainNetwork)
from layergraph.layers._validation import describe


def _layers(classes="auto"):
    return [imageInputLayer([1, 1, 3], Normalization="none", Name="in"),
            fullyConnectedLayer(2, Name="fc"), softmaxLayer(Name="sm"),
            classificationLayer(Name="out", Classes=classes)]


def _data(n=8):
    X = np.random.default_rng(0).standard_normal((1, 1, 3, n))
    return X, pd.Categorical(["a", "b"] * (n // 2))


@pytest.mark.parametrize("value, text", [
    ([np.zeros((16, 16, 16, 1, 32), np.float32)],
     "a list of 1 element (a 16x16x16x1x32 float32 array)"),
    ((np.zeros((2, 2)), np.zeros(2), np.zeros(2)), "a tuple of 3 elements"),
    ("val.mat", "'val.mat'"),
    (5, "5"),
])
def test_validation_data_names_the_argument_and_describes_the_value(value, text):
    with pytest.raises(MException) as err:
        trainingOptions("sgdm", ValidationData=value)
    assert err.value.identifier == "nnet_cnn:trainingOptions:InvalidValidationData"
    assert f"Received: ValidationData={text}" in str(err.value)
    assert "ValidationData=(XValidation, YValidation)" in str(err.value)


def test_unknown_validation_labels_name_validation_data():
    X, Y = _data()
    options = trainingOptions("sgdm", MaxEpochs=1, MiniBatchSize=4, Verbose=False,
                              ValidationData=(X[..., :4], pd.Categorical(["a", "c", "d", "a"])))
    with pytest.raises(MException) as err:
        trainNetwork(X, Y, _layers(), options)
    assert err.value.identifier == "nnet_cnn:trainNetwork:UnknownClass"
    message = str(err.value)
    assert message.startswith("ValidationData labels must be among the network classes ['a', 'b']")
    assert "Received: 2 of 4 labels outside them: ['c', 'd']" in message


def test_training_labels_outside_the_output_layer_classes_name_them():
    X, Y = _data()
    with pytest.raises(MException, match=r"^Training labels \(Y\) must be among") as err:
        trainNetwork(X, Y, _layers(classes=["a", "z"]),
                     trainingOptions("sgdm", MaxEpochs=1, MiniBatchSize=4, Verbose=False))
    assert err.value.identifier == "nnet_cnn:trainNetwork:UnknownClass"


def test_describe_never_prints_contents():
    big = np.arange(10 ** 6)
    assert describe(big) == "a 1000000 int64 array"
    assert describe(pd.Categorical(["a"] * 7)) == "a categorical of 7 labels"
    assert describe([[[[1]]]]) == "a list of 1 element (a list of 1 element (a list of 1 element))"
    assert describe(object()) == "an object of type object"
