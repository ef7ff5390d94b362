"""Out of memory as an MException (an estimate before allocating, and a MemoryError that happens
anyway), and trainNetwork's refusals of an unconnected layer output and of non-finite
ValidationData (issue 12)."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

import layergraph as lg
from layergraph.layers.convolution import Convolution3DLayer
from layergraph.ops._cpu import memory as _memory
from layergraph.runtime import resources
from layergraph.runtime.executor import Executor
from test_executor_support import small_resnet

X = np.random.default_rng(4).standard_normal((6, 6, 5, 2, 9)).astype(np.float32)
Y = np.array(["k0", "k1", "k2"] * 3)


def _options(**kw):
    return lg.trainingOptions("sgdm", MaxEpochs=1, MiniBatchSize=3, Verbose=False, **kw)


def test_predict_refuses_a_batch_whose_activations_exceed_the_available_memory(monkeypatch):
    monkeypatch.setenv("LAYERGRAPH_NUM_THREADS", "1")        # one batch of 9, not a share each
    net = lg.assembleNetwork(small_resnet())
    ex = Executor(small_resnet())
    one = ex.activation_bytes(1) + X[..., 0].nbytes           # one observation and its input
    monkeypatch.setattr(_memory, "available_bytes", lambda: 3 * one)
    with pytest.raises(lg.MException) as error:
        net.predict(X)                                        # 9 observations in one batch
    assert error.value.identifier == "nnet_cnn:predict:OutOfMemory"
    message = str(error.value)
    for fragment in ("mini-batch of 9 observations", f"at least {resources.size_text(9 * one)}",
                     f"may use {resources.size_text(3 * one)}", "Reduce MiniBatchSize",
                     "RLIMIT_AS"):
        assert fragment in message
    with pytest.raises(lg.MException, match="OutOfMemory"):
        net.classify(X)
    with pytest.raises(lg.MException, match="activations:OutOfMemory"):
        net.activations(X, "c1")
    scores = net.predict(X, MiniBatchSize=3)                  # the remedy works
    monkeypatch.setattr(_memory, "available_bytes", lambda: None)
    np.testing.assert_allclose(scores, net.predict(X), rtol=1e-5, atol=1e-6)


def test_train_network_refuses_a_mini_batch_that_cannot_fit_before_training(monkeypatch):
    monkeypatch.setattr(_memory, "available_bytes", lambda: 10_000)
    iterations = []
    options = _options(OutputFcn=lambda info: iterations.append(info.Iteration))
    with pytest.raises(lg.MException) as error:
        lg.trainNetwork(X, Y, small_resnet(), options)
    assert error.value.identifier == "nnet_cnn:trainNetwork:OutOfMemory"
    assert "training pass over a mini-batch of 3 observations" in str(error.value)
    assert not iterations


@pytest.mark.parametrize("call", ["predict", "trainNetwork"])
def test_a_memory_error_inside_becomes_an_mexception(call, monkeypatch):
    def exhausted(*args, **kwargs):
        raise MemoryError("Unable to allocate 4.00 GiB for an array")
    monkeypatch.setattr(Convolution3DLayer, "forward", exhausted)
    with pytest.raises(lg.MException) as error:
        if call == "predict":
            lg.assembleNetwork(small_resnet()).predict(X)
        else:
            lg.trainNetwork(X, Y, small_resnet(), _options())
    assert error.value.identifier == f"nnet_cnn:{call}:OutOfMemory"
    assert "Unable to allocate 4.00 GiB" in str(error.value) and "MiniBatchSize" in str(error.value)
    assert isinstance(error.value.__cause__, MemoryError)


@pytest.mark.slow
def test_predict_of_a_512_cubed_volume_under_a_6_gib_address_space_limit(tmp_path):
    """The reported case, in a subprocess under RLIMIT_AS: an MException, no MemoryError."""
    script = textwrap.dedent("""
        import resource, numpy as np, layergraph as lg
        from layergraph.training import setup
        lgraph = lg.resnet3dLayers([512, 512, 512, 1], 2)
        layers = list(lgraph.Layers)
        layers[0] = layers[0].copy(Mean=np.zeros((1, 1, 1, 1), np.float32))
        layers[-1] = layers[-1].copy(Classes=["a", "b"])
        lgraph = setup.initialize_graph(lgraph.with_layers(layers), np.random.default_rng(0))
        net = lg.assembleNetwork(lgraph)
        resource.setrlimit(resource.RLIMIT_AS, (6 * 2**30, resource.RLIM_INFINITY))
        try:
            net.predict(np.zeros((512, 512, 512, 1), np.float32))
        except lg.MException as error:
            print(error.identifier)
            print(error)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=600)
    lines = done.stdout.splitlines()
    assert lines and lines[0] == "nnet_cnn:predict:OutOfMemory", done.stderr[-2000:]
    assert "needs at least 8." in lines[1] and "smaller input" in lines[1]   # 8.5 GiB, 1 volume


def _with_dangling_layer(lgraph):
    return lg.connectLayers(lgraph.addLayers([lg.reluLayer(Name="dangling")]), "r1", "dangling")


def test_train_network_refuses_an_unconnected_layer_output_as_analyze_network_does():
    lgraph = _with_dangling_layer(small_resnet())
    report = lg.analyzeNetwork(lgraph)
    issues = report.Issues if hasattr(report, "Issues") else report
    assert "dangling" in str(issues)
    with pytest.raises(lg.MException) as error:
        lg.trainNetwork(X, Y, lgraph, _options())
    assert error.value.identifier == "nnet_cnn:trainNetwork:UnconnectedOutput"
    assert "Layer 'dangling': Unused output" in str(error.value)
    assert "dangling/out" in str(error.value)
    with pytest.raises(lg.MException, match="assembleNetwork:UnconnectedOutput"):
        lg.assembleNetwork(lgraph)
    lg.dlnetwork(_with_dangling_layer(small_resnet(output=False)))   # free outputs are outputs


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_validation_data_must_be_finite_like_the_predictors(bad):
    XV = X[..., :3].copy()
    XV[1, 2, 3, 0, 1] = bad
    with pytest.raises(lg.MException) as error:
        lg.trainNetwork(X, Y, small_resnet(), _options(ValidationData=(XV, Y[:3])))
    assert error.value.identifier == "nnet_cnn:trainNetwork:NonFinitePredictors"
    assert "ValidationData" in str(error.value) and "1 NaN or Inf" in str(error.value)
    regression = small_resnet(classes=1).removeLayers("sm").removeLayers("out").addLayers(
        [lg.regressionLayer(Name="out")])
    regression = lg.connectLayers(regression, "fc", "out")
    responses = np.ones((3, 1))
    responses[2] = bad
    with pytest.raises(lg.MException, match="NonFiniteResponses"):
        lg.trainNetwork(X, np.ones((9, 1)), regression,
                        _options(ValidationData=(X[..., :3], responses)))


def test_dlnetwork_predict_and_forward_refuse_what_cannot_fit(monkeypatch):
    net = lg.dlnetwork(small_resnet(output=False))
    monkeypatch.setattr(_memory, "available_bytes", lambda: 10_000)
    with pytest.raises(lg.MException, match="nnet_cnn:predict:OutOfMemory"):
        lg.predict(net, X)
    with pytest.raises(lg.MException, match="nnet_cnn:forward:OutOfMemory"):
        lg.forward(net, X)
    monkeypatch.setattr(_memory, "available_bytes", lambda: None)

    def exhausted(*args, **kwargs):
        raise MemoryError("Unable to allocate 4.00 GiB for an array")
    monkeypatch.setattr(Convolution3DLayer, "forward", exhausted)
    with pytest.raises(lg.MException, match="predict:OutOfMemory") as error:
        lg.predict(net, X)
    assert isinstance(error.value.__cause__, MemoryError)
