"""dlnetwork calls on the tape: gradients w.r.t. Learnables, the input and intermediate outputs
(forward/predict), and MATLAB's custom training loop with an L2 term, all against PyTorch."""
import numpy as np
import pandas as pd
import pytest

import layergraph as lg

torch = pytest.importorskip("torch")
F = torch.nn.functional
pytestmark = pytest.mark.torch


def small_net(seed=3, normalization="none"):
    lg.rng(seed)
    stats = {} if normalization == "none" else {
        "Mean": np.array([0.5, -1.0]).reshape(1, 1, 2), "StandardDeviation": np.array([2.0, 0.5]).reshape(1, 1, 2)}
    layers = [lg.imageInputLayer([6, 5, 2], Normalization=normalization, Name="in", **stats),
              lg.convolution2dLayer(3, 4, Padding="same", Name="conv"),
              lg.batchNormalizationLayer(Name="bn"), lg.reluLayer(Name="relu"),
              lg.fullyConnectedLayer(3, Name="fc"), lg.softmaxLayer(Name="sm")]
    return lg.dlnetwork(layers)


def _value(net, layer, p):
    t = net.Learnables
    return np.asarray(t.Value[(t.Layer == layer) & (t.Parameter == p)].iloc[0], dtype=np.float64)


def torch_params(net):
    return {"w": torch.tensor(_value(net, "conv", "Weights").transpose(3, 2, 0, 1), requires_grad=True),
            "b": torch.tensor(_value(net, "conv", "Bias").ravel(), requires_grad=True),
            "off": torch.tensor(_value(net, "bn", "Offset").ravel(), requires_grad=True),
            "sc": torch.tensor(_value(net, "bn", "Scale").ravel(), requires_grad=True),
            "fw": torch.tensor(_value(net, "fc", "Weights"), requires_grad=True),
            "fb": torch.tensor(_value(net, "fc", "Bias").ravel(), requires_grad=True)}


def torch_forward(p, x, training=True, mean=None, var=None):
    """x (N, C, H, W); returns (relu output, probabilities (N, K))."""
    y = F.conv2d(F.pad(x, (1, 1, 1, 1)), p["w"], p["b"])
    y = F.batch_norm(y, mean, var, p["sc"], p["off"], training=training, eps=1e-5)
    r = F.relu(y)
    flat = r.permute(0, 1, 3, 2).reshape(x.shape[0], -1)        # MATLAB column-major per observation
    return r, torch.softmax(flat @ p["fw"].T + p["fb"], dim=1)


def test_gradients_wrt_input_intermediate_output_and_learnables_match_torch():
    net = small_net()
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 5, 2, 4)).astype(np.float32)
    T = np.eye(3, dtype=np.float32)[:, [0, 2, 1, 2]]

    def model_loss(net, X, T):
        Y, R, state = lg.forward(net, X, Outputs=["sm", "relu"])
        loss = lg.crossentropy(Y, T) + 0.5 * np.mean(R)           # R also feeds Y inside the net
        return (loss, *lg.dlgradient(loss, X, R, net.Learnables), R)

    loss, gX, gR, grads, R = lg.dlfeval(model_loss, net, lg.dlarray(X, "SSCB"), T)
    assert lg.dims(gX) == "SSCB" and lg.dims(gR) == "SSCB" and isinstance(grads, pd.DataFrame)
    p = torch_params(net)
    tx = torch.tensor(X.transpose(3, 2, 0, 1).astype(np.float64), requires_grad=True)
    r, prob = torch_forward(p, tx)
    r.retain_grad()
    tloss = -(torch.tensor(T.T.astype(np.float64)) * torch.log(prob)).sum() / 4 + 0.5 * r.mean()
    tloss.backward()
    np.testing.assert_allclose(float(loss), tloss.item(), rtol=1e-5)
    np.testing.assert_allclose(lg.extractdata(gX), tx.grad.numpy().transpose(2, 3, 1, 0), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(lg.extractdata(gR), r.grad.numpy().transpose(2, 3, 1, 0), rtol=1e-4, atol=1e-6)
    g = {(a, b): np.asarray(v) for a, b, v in zip(grads.Layer, grads.Parameter, grads.Value)}
    np.testing.assert_allclose(g[("conv", "Weights")], p["w"].grad.numpy().transpose(2, 3, 1, 0), rtol=1e-4,
                               atol=1e-6)
    np.testing.assert_allclose(g[("fc", "Weights")], p["fw"].grad.numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(g[("bn", "Scale")].ravel(), p["sc"].grad.numpy(), rtol=1e-4, atol=1e-6)


def test_predict_is_differentiable_in_inference_mode_with_zscore_input():
    net = small_net(normalization="zscore")
    rng = np.random.default_rng(1)
    X = rng.standard_normal((6, 5, 2, 3)).astype(np.float32)
    mean = np.asarray(net.Layers[0].Mean, np.float64).reshape(1, 1, 2, 1)
    std = np.asarray(net.Layers[0].StandardDeviation, np.float64).reshape(1, 1, 2, 1)

    def score(net, X):
        Y = lg.predict(net, X)
        s = np.sum(Y[1, :])
        return s, lg.dlgradient(s, X)

    s, gX = lg.dlfeval(score, net, lg.dlarray(X, "SSCB"))
    p = torch_params(net)
    state = {(a, b): np.asarray(v, np.float64).ravel() for a, b, v in zip(net.State.Layer, net.State.Parameter,
                                                                         net.State.Value)}
    tx = torch.tensor(((X - mean) / std).astype(np.float64).transpose(3, 2, 0, 1), requires_grad=True)
    _, prob = torch_forward(p, tx, False, torch.tensor(state[("bn", "TrainedMean")]),
                            torch.tensor(state[("bn", "TrainedVariance")]))
    prob[:, 1].sum().backward()
    np.testing.assert_allclose(float(s), prob[:, 1].sum().item(), rtol=1e-5)
    expected = tx.grad.numpy().transpose(2, 3, 1, 0) / std
    np.testing.assert_allclose(lg.extractdata(gX), expected, rtol=1e-4, atol=1e-6)


def test_outside_dlfeval_numpy_in_numpy_out_and_dlarray_in_dlarray_out():
    net = small_net()
    X = np.ones((6, 5, 2, 2), np.float32)
    assert isinstance(lg.predict(net, X), np.ndarray)
    Y = lg.predict(net, lg.dlarray(X, "SSCB"))
    assert isinstance(Y, lg.dlarray) and lg.dims(Y) == "CB"


def test_matlab_custom_loop_with_l2_term_equals_torch():
    """MATLAB's custom-training-loop example (modelLoss: forward, crossentropy, dlgradient; adamupdate)
    with an L2 penalty on the learnables in the loss, against the same loop in PyTorch."""
    net = small_net(seed=5)
    rng = np.random.default_rng(2)
    X = rng.standard_normal((6, 5, 2, 8)).astype(np.float32)
    T = np.eye(3, dtype=np.float32)[:, rng.integers(0, 3, 8)]
    l2 = 1e-2

    def model_loss(net, X, T):
        Y, state = lg.forward(net, X)
        loss = lg.crossentropy(Y, T)
        loss = loss + l2 * sum(np.sum(w ** 2) for w in net.Learnables.Value)
        gradients = lg.dlgradient(loss, net.Learnables)
        return loss, gradients, state

    p = torch_params(net)
    moments = {k: (torch.zeros_like(v), torch.zeros_like(v)) for k, v in p.items()}
    tx = torch.tensor(X.transpose(3, 2, 0, 1).astype(np.float64))
    tt = torch.tensor(T.T.astype(np.float64))
    avg = avg_sq = None
    for iteration in range(1, 6):
        loss, gradients, state = lg.dlfeval(model_loss, net, lg.dlarray(X, "SSCB"), T)
        net.State = state
        net, avg, avg_sq = lg.adamupdate(net, gradients, avg, avg_sq, iteration, 0.01)
        _, prob = torch_forward(p, tx)
        tloss = -(tt * torch.log(prob)).sum() / 8 + l2 * sum((v ** 2).sum() for v in p.values())
        tloss.backward()
        with torch.no_grad():                  # torch.optim.Adam's update (its import costs seconds)
            for k, v in p.items():
                m, s2 = moments[k]
                m.mul_(0.9).add_(0.1 * v.grad)
                s2.mul_(0.999).add_(0.001 * v.grad ** 2)
                v -= 0.01 * (m / (1 - 0.9 ** iteration)) / ((s2 / (1 - 0.999 ** iteration)).sqrt() + 1e-8)
                v.grad = None
        np.testing.assert_allclose(float(loss), tloss.item(), rtol=1e-4)
    # float32 network against float64 torch: Adam's m / sqrt(v) amplifies rounding of tiny gradients
    np.testing.assert_allclose(_value(net, "conv", "Weights"), p["w"].detach().numpy().transpose(2, 3, 1, 0),
                               rtol=1e-3, atol=2e-4)
    np.testing.assert_allclose(_value(net, "fc", "Bias").ravel(), p["fb"].detach().numpy(), rtol=1e-3, atol=2e-4)
