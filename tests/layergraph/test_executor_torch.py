"""Executor on a small 3-D DAG with a skip connection against a PyTorch float64 twin."""
from __future__ import annotations

import numpy as np
import pytest

import layergraph as lg
from layergraph.runtime.executor import Executor
from layergraph.runtime.layout import matlab_to_internal, onehot
from test_executor_support import small_resnet

torch = pytest.importorskip("torch")
F = torch.nn.functional

N = 4


def t64(a, grad: bool = False):
    """A float64 torch tensor copy of a (MATLAB-layout) NumPy array."""
    return torch.tensor(np.array(a, dtype=np.float64), requires_grad=grad)


def same_pad(size: int, k: int, s: int) -> tuple[int, int]:
    total = max(0, (-(-size // s) - 1) * s + k - size)
    return total // 2, total - total // 2


def conv(x, layer):
    w = t64(layer.Weights.transpose(4, 3, 0, 1, 2), True)   # h w d C F -> F C h w d
    b = t64(layer.Bias.ravel(), True)
    s = layer.Stride[0]
    if layer.PaddingMode == "same":
        pads = [same_pad(n, k, s) for n, k in zip(x.shape[2:], layer.FilterSize)]
        x = F.pad(x, [p for pair in reversed(pads) for p in pair])
    return F.conv3d(x, w, b, stride=s), {"Weights": w, "Bias": b}


def batchnorm(x, layer):
    scale = t64(layer.Scale.ravel(), True)
    offset = t64(layer.Offset.ravel(), True)
    mean = t64(layer.TrainedMean.ravel())
    var = t64(layer.TrainedVariance.ravel())
    y = F.batch_norm(x, mean, var, scale, offset, training=True, momentum=0.1, eps=layer.Epsilon)
    return y, {"Scale": scale, "Offset": offset}, {"TrainedMean": mean, "TrainedVariance": var}


def torch_twin(g, X, T):
    """Loss, scores (K, N), {(layer, param): grad in MATLAB layout}, {(layer, state): value}."""
    L = {layer.Name: layer for layer in g.Layers}
    inp = L["in"]
    x = t64(X.transpose(4, 3, 0, 1, 2))                                    # N C h w d
    x = (x - t64(inp.Mean.reshape(1, -1, 1, 1, 1))) / t64(inp.StandardDeviation.reshape(1, -1, 1, 1, 1))
    params, states = {}, {}
    h, params["c1"] = conv(x, L["c1"])
    h, params["bn1"], states["bn1"] = batchnorm(h, L["bn1"])
    r1 = F.relu(h)
    h, params["c2"] = conv(r1, L["c2"])
    h, params["bn2"], states["bn2"] = batchnorm(h, L["bn2"])
    s, params["skip"] = conv(r1, L["skip"])
    h = F.relu(h + s).mean(dim=(2, 3, 4))
    fw = t64(L["fc"].Weights, True)
    fb = t64(L["fc"].Bias.ravel(), True)
    params["fc"] = {"Weights": fw, "Bias": fb}
    y = torch.softmax(h @ fw.T + fb, dim=1)
    loss = -(t64(T.T) * torch.log(y)).sum() / X.shape[-1]
    loss.backward()
    grads = {}
    for name, ps in params.items():
        for p, t in ps.items():
            gr = t.grad.numpy()
            if p == "Weights" and gr.ndim == 5:
                gr = gr.transpose(2, 3, 4, 1, 0)
            grads[(name, p)] = gr.reshape(np.shape(getattr(L[name], p)))
    state = {(name, k): v.numpy() for name, st in states.items() for k, v in st.items()}
    return loss.item(), y.detach().numpy().T, grads, state


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-9), (np.float32, 1e-4)])
def test_training_step_matches_torch(dtype, rtol):
    g = small_resnet()
    rng = np.random.default_rng(5)
    X = rng.standard_normal((6, 6, 5, 2, N))
    T = onehot(["k0", "k2", "k1", "k2"], ["k0", "k1", "k2"], np.float64)
    ref_loss, ref_y, ref_grads, ref_state = torch_twin(g, X, T)

    ex = Executor(g, dtype=dtype)
    loss, y, grads, update = ex.loss_and_gradients(matlab_to_internal(X, 3, dtype=dtype), T.astype(dtype))
    assert y.dtype == dtype and all(v.dtype == dtype for v in grads.values())
    np.testing.assert_allclose(loss, ref_loss, rtol=rtol)
    np.testing.assert_allclose(y, ref_y, rtol=rtol, atol=rtol * 1e-2)
    layers = {layer.Name: layer for layer in g.Layers}
    assert set(grads) == set(ref_grads)
    for key, ref in ref_grads.items():
        got = layers[key[0]].from_internal(key[1], grads[key])
        scale = max(np.abs(ref).max(), 1e-3)      # conv biases before BN have ~0 gradient
        np.testing.assert_allclose(got, ref, rtol=rtol, atol=rtol * scale, err_msg=str(key))
    for key, ref in ref_state.items():
        got = layers[key[0]].from_internal(key[1], update[key]).ravel()
        np.testing.assert_allclose(got, ref, rtol=rtol, atol=rtol * 1e-2, err_msg=str(key))


def test_inference_matches_torch_with_trained_statistics():
    g = small_resnet(seed=3)
    X = np.random.default_rng(7).standard_normal((6, 6, 5, 2, N))
    L = {layer.Name: layer for layer in g.Layers}
    ex = Executor(g, dtype=np.float64)
    y = ex.forward(matlab_to_internal(X, 3, dtype=np.float64), outputs=["bn2"]).outputs["bn2"]
    inp = L["in"]
    x = t64(X.transpose(4, 3, 0, 1, 2))
    x = (x - t64(inp.Mean.reshape(1, -1, 1, 1, 1))) / t64(inp.StandardDeviation.reshape(1, -1, 1, 1, 1))
    h = F.relu(F.batch_norm(conv(x, L["c1"])[0], t64(L["bn1"].TrainedMean.ravel()),
                            t64(L["bn1"].TrainedVariance.ravel()), t64(L["bn1"].Scale.ravel()),
                            t64(L["bn1"].Offset.ravel()), training=False, eps=1e-5))
    ref = F.batch_norm(conv(h, L["c2"])[0], t64(L["bn2"].TrainedMean.ravel()),
                       t64(L["bn2"].TrainedVariance.ravel()), t64(L["bn2"].Scale.ravel()),
                       t64(L["bn2"].Offset.ravel()), training=False, eps=1e-5)
    np.testing.assert_allclose(y, ref.detach().numpy().transpose(1, 0, 2, 3, 4), rtol=1e-10, atol=1e-12)


def test_builder_resnet_gradients_match_the_benchmarks_torch_twin(monkeypatch):
    """A whole resnet3dLayers graph (max pooling, projection and identity skips) in float64."""
    import pathlib
    monkeypatch.syspath_prepend(str(pathlib.Path(__file__).resolve().parents[2] / "benchmarks"))
    from _torch_twin import TorchTwin

    g = lg.resnet3dLayers([16, 16, 16, 2], 3, StackDepth=[2, 1], NumFilters=[2, 4], InitialNumFilters=4)
    initialised = {layer.Name: layer for layer in lg.dlnetwork(lg.removeLayers(g, "output")).Layers}
    initialised["output"] = g.Layers[-1].copy(Classes=["a", "b", "c"])
    initialised["input"] = initialised["input"].copy(Mean=np.array([0.2, -0.1]).reshape(1, 1, 1, 2))
    g = g.with_layers([initialised[layer.Name] for layer in g.Layers])
    X = np.random.default_rng(9).standard_normal((16, 16, 16, 2, 3))
    labels = [0, 2, 1]
    ex = Executor(g, dtype=np.float64)
    loss, _, grads, _ = ex.loss_and_gradients(matlab_to_internal(X, 3, dtype=np.float64),
                                              onehot(labels, [0, 1, 2], np.float64))
    twin = TorchTwin(torch, g, dtype=torch.float64)
    ref = F.cross_entropy(twin.forward(t64(X.transpose(4, 3, 0, 1, 2)), True, logits=True), torch.tensor(labels))
    ref.backward()
    assert loss == pytest.approx(ref.item(), rel=1e-10)
    checked = 0
    for key, tensor in twin.params.items():
        if tensor.grad is not None:
            scale = max(float(tensor.grad.abs().max()), 1e-3)
            np.testing.assert_allclose(grads[key], tensor.grad.numpy(), rtol=1e-8, atol=1e-9 * scale, err_msg=str(key))
            checked += 1
    assert checked == 12 + 2 * 12 + 2          # conv weights (biases frozen), BN offset+scale, fc
