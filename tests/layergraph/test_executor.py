"""Executor: graph logic on exact fake layers (fan-out sums, freeing, need_dx, state, errors),
finite differences of a small real DAG, and ResNet memory use."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import layergraph as lg
from layergraph.runtime.executor import Executor, learn_rate_factor
from layergraph.runtime.layout import internal_to_matlab, matlab_to_internal, onehot
from layergraph.graph import LayerGraph, connectLayers, layerGraph
from layergraph.layers.errors import MException
from test_executor_support import Add, Counter, FakeInput, Scale, small_resnet


def diamond(wa=3.0, wb=5.0, pre_factor=1.0) -> LayerGraph:
    """x -> pre -> {a, b} -> add (a into in1, b into in2)."""
    g = layerGraph([FakeInput("x"), Scale("pre", [2.0], pre_factor), Scale("a", [wa]), Add("add")])
    g = g.addLayers([Scale("b", [wb])])
    g = connectLayers(g, "pre", "b")
    return connectLayers(g, "b", "add/in2")


def test_diamond_gradient_is_the_sum_of_both_paths():
    ex = Executor(diamond(), dtype=np.float64)
    x = np.array([[1.0, 2.0, 3.0]])                       # (C=1, N=3)
    fp = ex.forward({"x": x}, training=True, outputs=["add"])
    np.testing.assert_allclose(fp.outputs["add"], (3 + 5) * 2 * x)
    grads = ex.backward(fp, {"add": np.ones_like(x)})
    # d/dpre sum(a*pre*x + b*pre*x) = (a + b) * sum(x): both paths, summed
    np.testing.assert_allclose(grads[("pre", "Weights")], [(3 + 5) * 6.0])
    np.testing.assert_allclose(grads[("a", "Weights")], [2 * 6.0])
    np.testing.assert_allclose(grads[("b", "Weights")], [2 * 6.0])


def test_one_output_feeding_both_inputs_of_a_layer_accumulates():
    g = connectLayers(layerGraph([FakeInput("x"), Scale("s", [4.0]), Add("add")]), "s", "add/in2")
    ex = Executor(g, dtype=np.float64)
    x = np.array([[1.0, -2.0]])
    fp = ex.forward(x, training=True, outputs=["add"])
    np.testing.assert_allclose(fp.outputs["add"], 8 * x)
    grads = ex.backward(fp, {"add": np.ones_like(x)})
    np.testing.assert_allclose(grads[("s", "Weights")], [2 * x.sum()])


def test_inference_keeps_only_live_activations():
    names = [f"s{k}" for k in range(12)]
    chain = Executor(layerGraph([FakeInput("x")] + [Scale(n, [1.0]) for n in names]))
    fp = chain.forward(np.ones((1, 2), np.float32), outputs=["s11"])
    assert fp.peak_live == 1
    fp = Executor(diamond()).forward(np.ones((1, 2), np.float32), outputs=["add"])
    assert fp.peak_live == 2            # a and pre (still needed by b) live together, never more


def test_training_pass_frees_activations_but_keeps_caches():
    fp = Executor(diamond()).forward(np.ones((1, 2), np.float32), training=True, outputs=["add"])
    assert fp.peak_live == 2
    assert sorted(fp.caches) == [0, 1, 2, 3, 4]


def test_frozen_prefix_gets_no_dx_but_later_layers_do():
    g = layerGraph([FakeInput("x"), Scale("frozen", [2.0], factor=0.0), Scale("s", [3.0]), Scale("t", [1.0])])
    ex = Executor(g, dtype=np.float64)
    Scale.CALLS.clear()
    grads = ex.backward(ex.forward(np.ones((1, 2)), training=True, outputs=["t"]), {"t": np.ones((1, 2))})
    assert Scale.CALLS == [("t", True), ("s", False)]       # frozen never runs, s needs no dx
    assert ("frozen", "Weights") not in grads
    Scale.CALLS.clear()
    ex_all = Executor(g, dtype=np.float64, all_gradients=True)
    grads = ex_all.backward(ex_all.forward(np.ones((1, 2)), training=True, outputs=["t"]),
                            {"t": np.ones((1, 2))})
    assert Scale.CALLS == [("t", True), ("s", True), ("frozen", False)]
    np.testing.assert_allclose(grads[("frozen", "Weights")], [3.0 * 2])


def test_float32_stays_float32_and_float64_on_request():
    x = np.ones((1, 2))
    fp = Executor(diamond()).forward(x.astype(np.float32), training=True, outputs=["add"])
    assert fp.outputs["add"].dtype == np.float32
    assert Executor(diamond()).params[("a", "Weights")].dtype == np.float32
    assert Executor(diamond(), dtype=np.float64).params[("a", "Weights")].dtype == np.float64


def test_state_updates_apply_only_declared_states_and_write_back():
    g = layerGraph([FakeInput("x"), Counter("c"), Scale("s", [1.0])])
    ex = Executor(g, dtype=np.float64)
    fp = ex.forward(np.ones((1, 1)), training=True, outputs=["s"])
    assert set(fp.state_update) == {("c", "Count"), ("c", "Scratch")}
    ex.apply_state(fp.state_update)
    assert set(ex.state) == {("c", "Count")}
    ex.params[("s", "Weights")] = np.array([7.0])
    layers = ex.to_layers()
    assert layers[1].Count.tolist() == [1.0] and layers[2].Weights.tolist() == [7.0]
    assert g.Layers[2].Weights.tolist() == [1.0]            # the graph's layers are untouched


def test_errors_name_the_problem():
    with pytest.raises(MException, match="Weights") as err:
        Executor(layerGraph([FakeInput("x"), Scale("s", np.zeros(0))]))
    assert err.value.identifier == "nnet_cnn:executor:UnsetParameter"
    with pytest.raises(MException, match="add/in2"):
        Executor(layerGraph([FakeInput("x"), Add("add")]))
    ex = Executor(diamond())
    with pytest.raises(MException, match="nope"):
        ex.forward(np.ones((1, 1)), outputs=["nope"])
    with pytest.raises(MException, match="training=True"):
        ex.backward(ex.forward(np.ones((1, 1)), outputs=["add"]), {"add": np.ones((1, 1))})


def test_matlab_layout_round_trip():
    X = np.arange(2 * 3 * 4 * 5 * 6, dtype=np.float64).reshape(2, 3, 4, 5, 6)   # h w d c N
    x = matlab_to_internal(X, 3, dtype=np.float64)
    assert x.shape == (5, 6, 2, 3, 4)
    assert x[4, 5, 1, 2, 3] == X[1, 2, 3, 4, 5]
    np.testing.assert_array_equal(internal_to_matlab(x), X)
    assert matlab_to_internal(X[..., 0], 3).shape == (5, 1, 2, 3, 4)      # MATLAB drops N = 1
    with pytest.raises(MException, match="2x3"):
        matlab_to_internal(np.zeros((2, 3)), 3)


def test_onehot_follows_the_classes_order():
    labels = pd.Categorical(["dog", "cat", "dog"], categories=["cat", "dog"])
    np.testing.assert_array_equal(onehot(labels, ["dog", "cat"]), [[1, 0, 1], [0, 1, 0]])
    with pytest.raises(MException, match="cow"):
        onehot(["cow"], ["cat", "dog"])


def test_learn_rate_factor_reads_matlab_property_names():
    assert learn_rate_factor(Scale("s", [1.0], factor=0.5), "Weights") == 0.5


def test_whole_graph_gradient_matches_central_differences_in_float64():
    ex = Executor(small_resnet(seed=11), dtype=np.float64)
    rng = np.random.default_rng(3)
    x = matlab_to_internal(rng.standard_normal((6, 6, 5, 2, 3)), 3, dtype=np.float64)
    t = onehot(["k1", "k0", "k2"], ["k0", "k1", "k2"], np.float64)
    _, _, grads, _ = ex.loss_and_gradients(x, t)
    assert set(grads) == set(ex.params)
    base = dict(ex.params)
    direction = {k: rng.standard_normal(v.shape) for k, v in base.items()}

    def loss_at(eps):
        ex.params.update({k: base[k] + eps * direction[k] for k in base})
        return ex.loss_and_gradients(x, t)[0]

    eps = 1e-5
    numeric = (loss_at(eps) - loss_at(-eps)) / (2 * eps)
    analytic = sum(float((grads[k] * direction[k]).sum()) for k in base)
    assert numeric == pytest.approx(analytic, rel=1e-6)


@pytest.mark.gpu
def test_gpu_executor_matches_the_cpu_one():
    from layergraph.ops import _backend
    if not _backend.gpu_available():
        pytest.skip("CuPy with a CUDA device is not available")
    import cupy
    from layergraph.networks.dag_network import DAGNetwork

    g = small_resnet(seed=5)
    X = np.random.default_rng(2).standard_normal((6, 6, 5, 2, 3)).astype(np.float32)
    t = onehot(["k1", "k0", "k2"], ["k0", "k1", "k2"])
    cpu = Executor(g).loss_and_gradients(matlab_to_internal(X, 3), t)
    ex = Executor(g, device="gpu")
    loss, y, grads, update = ex.loss_and_gradients(matlab_to_internal(X, 3, cupy), cupy.asarray(t))
    assert isinstance(y, cupy.ndarray) and y.dtype == np.float32
    assert loss == pytest.approx(cpu[0], rel=1e-5)
    for key, value in cpu[2].items():
        np.testing.assert_allclose(cupy.asnumpy(grads[key]), value, rtol=1e-4, atol=1e-6, err_msg=str(key))
    net = DAGNetwork(g, executor=ex)
    assert net.executor is ex
    np.testing.assert_allclose(net.predict(X), net.predict(X, ExecutionEnvironment="cpu"), rtol=1e-4, atol=1e-6)


def test_resnet_inference_holds_at_most_two_activations():
    g = lg.resnet3dLayers([16, 16, 16, 1], 3, StackDepth=[1, 2], NumFilters=[2, 4], InitialNumFilters=4,
                          Normalization="zscore")
    net = lg.dlnetwork(lg.removeLayers(g, "output"))
    fp = net.executor.forward(np.ones((1, 2, 16, 16, 16), np.float32), outputs=["softmax"])
    assert fp.peak_live == 2                  # the block input and the branch being computed
    np.testing.assert_allclose(fp.outputs["softmax"].sum(axis=0), 1, rtol=1e-5)


def test_default_outputs_and_contiguous_inputs():
    x = matlab_to_internal(np.ones((4, 3, 2, 5)), 2)
    assert x.flags.c_contiguous and x.shape == (2, 5, 4, 3)
    g = lg.removeLayers(small_resnet(), "out")
    assert Executor(g).output_layers == ["sm"]                 # no output layer: the free outputs
    assert Executor(small_resnet()).output_layers == ["out"]
