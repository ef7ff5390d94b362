"""dlarray: formats (MATLAB's examples), dims/finddim/stripdims/extractdata/gather, NumPy dispatch."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from layergraph.autodiff import (dims, dlarray, dlfeval, dlgradient, extractdata, finddim, gather, stripdims)
from layergraph.layers.errors import MException


def test_matlab_dims_example_sorts_the_labels():
    X = dlarray(np.arange(12.0).reshape(3, 4), "TS")          # MATLAB: dims(dlX) = 'ST'
    assert dims(X) == "ST" and X.shape == (4, 3)
    np.testing.assert_array_equal(extractdata(X), np.arange(12.0).reshape(3, 4).T)
    assert dims(stripdims(X)) == ""


def test_tcb_becomes_cbt_and_trailing_singletons_are_labelled():
    X = dlarray(np.zeros((5, 3, 2)), "TCB")
    assert dims(X) == "CBT" and X.shape == (3, 2, 5)
    Y = dlarray(np.zeros((4, 4, 3)), "SSCB")                     # a single observation
    assert Y.shape == (4, 4, 3, 1) and dims(Y) == "SSCB"
    Z = dlarray(np.zeros((4, 3, 1, 1)), "SC")                    # extra singleton dimensions drop
    assert Z.shape == (4, 3)


def test_matlab_stripdims_display_example():
    X = dlarray(np.zeros((3, 2, 1, 2)), "SSTU")
    assert repr(X).startswith("  3(S) × 2(S) × 1(T) × 2(U) dlarray")
    assert repr(stripdims(X)).startswith("  3×2×1×2 dlarray")
    assert "single dlarray" in repr(dlarray(np.zeros((2, 2), np.float32)))
    assert "logical dlarray" in repr(dlarray(np.zeros((2, 2), bool), "SS"))


@settings(max_examples=40, deadline=None)
@given(st.permutations("SSCBT"))
def test_any_label_order_sorts_and_keeps_each_value(labels):
    fmt = "".join(labels)
    data = np.random.default_rng(0).standard_normal((2, 3, 4, 5, 6))
    X = dlarray(data, fmt)
    assert dims(X) == "SSCBT"
    order = sorted(range(5), key=lambda i: ("SCBTU".index(fmt[i]), i))
    np.testing.assert_array_equal(extractdata(X), data.transpose(order))
    assert finddim(X, "S") == (0, 1) and finddim(X, "T") == (4,) and finddim(X, "U") == ()
    back = stripdims(X, fmt)
    np.testing.assert_array_equal(extractdata(back), data)


def test_relabelling_replaces_the_format():
    X = dlarray(np.zeros((3, 4)), "CB")
    Y = dlarray(X, "BC")
    assert dims(Y) == "CB" and Y.shape == (4, 3)


def test_operations_keep_the_format_and_align_labels():
    X = dlarray(np.ones((4, 4, 3, 2)), "SSCB")
    assert dims(np.exp(X) * 2 + X) == "SSCB"
    assert dims(X[1:3]) == "SSCB" and dims(X[0]) == ""
    bias = dlarray(np.arange(3.0), "C")                        # aligned by label, not position
    Y = X + bias
    assert dims(Y) == "SSCB"
    np.testing.assert_array_equal(extractdata(Y)[0, 0, :, 1], [1.0, 2.0, 3.0])
    assert dims(np.sum(X, axis=finddim(X, "S"), keepdims=True)) == "SSCB"
    assert dims(np.sum(X, axis=(0, 1))) == "CB"
    assert dims(np.sum(X)) == "" and np.sum(X).shape == ()
    assert dims(np.reshape(X, (16, 6))) == ""


def test_data_stay_numpy_and_gather_returns_host_dlarray():
    X = dlarray(np.ones((2, 2), np.float32), "CB")
    assert isinstance(extractdata(X), np.ndarray) and extractdata(X).dtype == np.float32
    G = gather(X)
    assert isinstance(G, dlarray) and dims(G) == "CB"
    assert isinstance(gather(np.ones(2)), np.ndarray)
    assert (np.asarray(X) == 1).all() and float(np.sum(X)) == 4.0


def test_queries_return_plain_values():
    X = dlarray(np.array([[1.0, 3.0], [2.0, 0.0]]), "CB")
    assert np.argmax(X, axis=0).tolist() == [1, 0]
    assert np.shape(X) == (2, 2) and np.ndim(X) == 2
    assert isinstance(np.zeros_like(X), dlarray)


@pytest.mark.parametrize("call, identifier", [
    (lambda: dlarray(np.arange(3)), "deep:dlarray:InvalidDataType"),
    (lambda: dlarray("abc"), "deep:dlarray:InvalidInput"),
    (lambda: dlarray(np.zeros((2, 3)), "CX"), "deep:dlarray:InvalidFormat"),
    (lambda: dlarray(np.zeros((2, 3)), "CC"), "deep:dlarray:InvalidFormat"),
    (lambda: dlarray(np.zeros((2, 3)), "C"), "deep:dlarray:FormatSizeMismatch"),
    (lambda: dlarray(np.zeros((2, 3)), 3), "deep:dlarray:InvalidFormat"),
    (lambda: finddim(np.zeros(2), "S"), "deep:finddim:InvalidInput"),
    (lambda: finddim(dlarray(np.zeros(2)), "SC"), "deep:finddim:InvalidLabel"),
    (lambda: stripdims(dlarray(np.zeros((2, 3)), "CB"), "SB"), "deep:stripdims:InvalidFormat"),
    (lambda: np.median(dlarray(np.zeros(3))), "deep:dlarray:UnsupportedFunction"),
    (lambda: np.add(dlarray(np.zeros(3)), 1, out=np.zeros(3)), "deep:dlarray:UnsupportedOperation"),
])
def test_bad_input_raises_mexception(call, identifier):
    with pytest.raises(MException) as err:
        call()
    assert err.value.identifier == identifier


def test_python_numbers_and_lists_are_double():
    assert dlarray([-1, 2]).dtype == np.float64
    assert dlarray(3).shape == ()


def test_dlgradient_errors_and_zero_gradients():
    with pytest.raises(MException, match="dlfeval") as err:
        dlgradient(dlarray(1.0), dlarray(1.0))
    assert err.value.identifier == "deep:dlgradient:NotTracing"

    def nonscalar(x):
        return dlgradient(x * 2, x)
    with pytest.raises(MException) as err:
        dlfeval(nonscalar, dlarray(np.ones(3)))
    assert err.value.identifier == "deep:dlgradient:NonScalarLoss"

    def untraced(x):
        return dlgradient(np.float64(1.0), x)
    with pytest.raises(MException) as err:
        dlfeval(untraced, dlarray(np.ones(3)))
    assert err.value.identifier == "deep:dlgradient:UntracedLoss"

    def bad_variable(x):
        return dlgradient(np.sum(x), "x")
    with pytest.raises(MException) as err:
        dlfeval(bad_variable, dlarray(np.ones(3)))
    assert err.value.identifier in ("deep:dlgradient:InvalidVariable", "MATLAB:dlgradient:nameValuePairs")

    def higher(x):
        return dlgradient(np.sum(x), x, EnableHigherDerivatives=True)
    with pytest.raises(MException) as err:
        dlfeval(higher, dlarray(np.ones(3)))
    assert err.value.identifier == "deep:dlgradient:HigherDerivativesNotSupported"

    def unused(x, y):
        return dlgradient(np.sum(x * x), y, "RetainData", True)
    g = dlfeval(unused, dlarray(np.ones(3)), dlarray(np.ones((2, 2)), "CB"))
    assert dims(g) == "CB" and (extractdata(g) == 0).all()


def test_dlgradient_keeps_structure_of_dicts_lists_and_tables():
    params = {"w": dlarray(np.array([1.0, 2.0])), "b": [dlarray(np.array(3.0))]}
    table = pd.DataFrame({"Layer": ["fc"], "Parameter": ["Weights"], "Value": [dlarray(np.array([4.0]))]})

    def model(p, t):
        loss = np.sum(p["w"] ** 2) + p["b"][0] * 3 + np.sum(t["Value"].iloc[0] * 5)
        return dlgradient(loss, p, t)
    g, gt = dlfeval(model, params, table)
    np.testing.assert_allclose(extractdata(g["w"]), [2.0, 4.0])
    assert float(g["b"][0]) == 3.0
    assert list(gt.columns) == ["Layer", "Parameter", "Value"] and float(gt["Value"].iloc[0][0]) == 5.0


def test_outputs_of_dlfeval_are_untraced_and_reusable():
    def model(x):
        y = x * 3
        return y, dlgradient(np.sum(y), x)
    y, _ = dlfeval(model, dlarray(np.ones(2)))

    def again(y):
        return dlgradient(np.sum(y * y), y)
    np.testing.assert_allclose(extractdata(dlfeval(again, y)), [6.0, 6.0])


@pytest.mark.parametrize("call, identifier", [
    (lambda: dlarray(np.ones((2, 3))) + dlarray(np.ones((3, 2))), "deep:dlarray:SizeMismatch"),
    (lambda: np.reshape(dlarray(np.ones((2, 3))), (4, 2)), "deep:dlarray:InvalidArguments"),
    (lambda: np.sum(dlarray(np.ones((2, 3))), axis=5), "deep:dlarray:InvalidArguments"),
    (lambda: dlarray(np.ones((2, 3)))[5], "MATLAB:badsubscript"),
])
def test_numpy_errors_become_mexceptions(call, identifier):
    with pytest.raises(MException) as err:
        call()
    assert err.value.identifier == identifier


def test_deep_learning_function_errors():
    from layergraph.autodiff import crossentropy, dlconv, fullyconnect, maxpool, softmax
    X = dlarray(np.ones((4, 4, 2, 1)), "SSCB")
    cases = [(lambda: maxpool(X, 6), "deep:maxpool:InvalidSize"),
             (lambda: dlconv(X, np.ones((3, 3, 5, 2)), 0), "deep:dlconv:InvalidWeights"),
             (lambda: dlconv(X, np.ones((3, 3, 2, 2)), np.ones(3)), "deep:dlconv:InvalidBias"),
             (lambda: dlconv(X, np.ones((3, 3, 2, 2)), 0, Padding="full"), "deep:dlconv:InvalidPadding"),
             (lambda: fullyconnect(X, np.ones((3, 5)), 0), "deep:fullyconnect:InvalidWeights"),
             (lambda: softmax(np.ones((3, 2))), "deep:softmax:UnformattedInput"),
             (lambda: crossentropy(dlarray(np.ones((3, 2)), "CB"), np.ones((2, 3))), "deep:crossentropy:SizeMismatch"),
             (lambda: crossentropy(dlarray(np.ones((3, 2)), "CB"), np.ones((3, 2)), NormalizationFactor="x"),
              "MATLAB:crossentropy:unrecognizedStringChoice")]
    for call, identifier in cases:
        with pytest.raises(MException) as err:
            call()
        assert err.value.identifier == identifier, (identifier, err.value.identifier)
