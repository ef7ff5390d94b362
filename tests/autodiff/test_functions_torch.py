"""The deep-learning functions on dlarrays against torch.autograd in float64 (values and gradients)."""
import numpy as np
import pytest

from layergraph.autodiff import (avgpool, batchnorm, crossentropy, dlarray, dlconv, dltranspconv, dlfeval, dlgradient, extractdata,
                                 fullyconnect, gelu, groupnorm, huber, indexcrossentropy, instancenorm, l1loss,
                                 l2loss, layernorm, leakyrelu, maxpool, mse, relu, sigmoid, softmax)

torch = pytest.importorskip("torch")
F = torch.nn.functional
pytestmark = pytest.mark.torch


def _to_torch_nc(x):
    """MATLAB SS..CB (h, w[, d], c, n) -> torch (n, c, h, w[, d])."""
    d = x.ndim - 2
    return torch.tensor(x.transpose(d + 1, d, *range(d)), requires_grad=True)


def _from_torch_nc(t):
    d = t.ndim - 2
    return t.detach().numpy().transpose(*range(2, d + 2), 1, 0)


def _check(ours_fun, torch_fun, arrays, kinds, rng, out_kind="nc"):
    """Compare ``sum(r .* f(...))`` and its gradients for a random ``r``.

    kinds / out_kind say how a MATLAB-layout array maps to torch's: "nc" (SS..CB <-> N C S..),
    "cb" (C x B <-> B x C), anything else: as is.
    """
    def model(*xs):
        y = ours_fun(*xs)
        r = rng.standard_normal(y.shape)
        loss = np.sum(y * r)
        grads = dlgradient(loss, *xs)
        return loss, r, grads if len(xs) > 1 else (grads,)
    loss, r, grads = dlfeval(model, *[dlarray(a) for a in arrays])
    tins = [_to_torch(a, k) for a, k in zip(arrays, kinds)]
    tloss = (torch_fun(*tins) * _to_torch(r, out_kind).detach()).sum()
    tloss.backward()
    np.testing.assert_allclose(float(loss), tloss.item(), rtol=1e-9)
    for g, t, k in zip(grads, tins, kinds):
        np.testing.assert_allclose(extractdata(g), _from_torch(t.grad, k).reshape(g.shape), rtol=1e-7, atol=1e-10)


def _to_torch(a, kind):
    if kind == "nc":
        return _to_torch_nc(a)
    return torch.tensor(a.T if kind == "cb" else a, requires_grad=True)


def _from_torch(t, kind):
    if kind == "nc":
        return _from_torch_nc(t)
    return t.detach().numpy().T if kind == "cb" else t.detach().numpy()


@pytest.mark.parametrize("case", [
    dict(size=(7, 6, 3, 2), k=(3, 3), F=4, opts={}, tpad=(0, 0, 0, 0), stride=1, dil=1),
    dict(size=(7, 6, 3, 2), k=(3, 2), F=2, opts=dict(Stride=2, Padding="same"), tpad=(1, 1, 0, 0), stride=2, dil=1),
    dict(size=(8, 8, 2, 1), k=(3, 3), F=3, opts=dict(DilationFactor=2, Padding=[[1, 2], [0, 1]]),
         tpad=(1, 0, 2, 1), stride=1, dil=2),
    dict(size=(5, 4, 6, 2, 2), k=(2, 3, 2), F=3, opts=dict(Stride=[1, 2, 1], Padding=1), tpad=(1,) * 6,
         stride=(1, 2, 1), dil=1),
])
def test_dlconv_matches_torch(case, rng):
    d = len(case["k"])
    fmt = "S" * d + "CB"
    x = rng.standard_normal(case["size"])
    w = rng.standard_normal(case["k"] + (case["size"][d], case["F"]))
    b = rng.standard_normal(case["F"])
    conv = F.conv2d if d == 2 else F.conv3d
    # torch pads last dim first: MATLAB pad (before, after) per (h, w[, d]) reversed
    pad_pairs = case["tpad"]
    def tfun(tx, tw, tb):
        return conv(F.pad(tx, _torch_pad(pad_pairs, d)), tw.permute(d + 1, d, *range(d)), tb,
                    stride=case["stride"], dilation=case["dil"])
    _check(lambda X, W, B: dlconv(dlarray(X, fmt), W, B, **case["opts"]), tfun, [x, w, b], ["nc", "w", "b"], rng)


def _torch_pad(pairs, d):
    """pairs: (h_before, h_after, w_before, w_after, ...) -> torch's reversed order."""
    per_dim = [pairs[2 * i:2 * i + 2] for i in range(d)]
    return tuple(v for pair in reversed(per_dim) for v in pair)


@pytest.mark.parametrize("case", [
    dict(size=(4, 3, 3, 2), k=(3, 2), F=2, opts={}, crop=(0, 0, 0, 0), stride=1, dil=1),
    dict(size=(4, 3, 3, 2), k=(3, 3), F=4, opts=dict(Stride=2, Cropping="same"), crop=(0, 1, 0, 1), stride=2, dil=1),
    dict(size=(3, 3, 2, 2, 1), k=(2, 3, 2), F=2, opts=dict(Stride=[2, 1, 2], DilationFactor=[1, 2, 1],
         Cropping=[[1, 0, 0], [0, 1, 1]]), crop=(1, 0, 0, 1, 0, 1), stride=(2, 1, 2), dil=(1, 2, 1)),
])
def test_dltranspconv_matches_torch(case, rng):
    d = len(case["k"])
    fmt = "S" * d + "CB"
    x = rng.standard_normal(case["size"])
    w = rng.standard_normal(case["k"] + (case["F"], case["size"][d]))
    b = rng.standard_normal(case["F"])
    tconv = F.conv_transpose2d if d == 2 else F.conv_transpose3d

    def tfun(tx, tw, tb):
        y = tconv(tx, tw.permute(d + 1, d, *range(d)), tb, stride=case["stride"], dilation=case["dil"])
        c = case["crop"]
        index = (slice(None), slice(None)) + tuple(slice(c[2 * i], y.shape[2 + i] - c[2 * i + 1]) for i in range(d))
        return y[index]
    _check(lambda X, W, B: dltranspconv(dlarray(X, fmt), W, B, **case["opts"]), tfun, [x, w, b],
           ["nc", "w", "b"], rng)


def test_fullyconnect_flattens_column_major_and_matches_torch(rng):
    x = rng.standard_normal((3, 2, 4, 5))           # h w c n
    w, b = rng.standard_normal((6, 24)), rng.standard_normal(6)

    def tfun(tx, tw, tb):                            # MATLAB vec: h fastest, then w, then c
        return tx.permute(0, 1, 3, 2).reshape(5, -1) @ tw.T + tb
    _check(lambda X, W, B: fullyconnect(dlarray(X, "SSCB"), W, B), tfun, [x, w, b], ["nc", "w", "b"], rng,
           out_kind="cb")


@pytest.mark.parametrize("kind", ["max", "avg", "avg-mean", "global-max", "global-avg"])
def test_pooling_matches_torch(kind, rng):
    x = rng.standard_normal((7, 6, 3, 2))
    if kind == "max":
        ours = lambda X: maxpool(dlarray(X, "SSCB"), [3, 2], Stride=2, Padding=1)  # noqa: E731
        tfun = lambda t: F.max_pool2d(t, (3, 2), stride=2, padding=1)  # noqa: E731
    elif kind == "avg":
        ours = lambda X: avgpool(dlarray(X, "SSCB"), 2, Stride=[2, 1], Padding=[[1, 0], [1, 0]])  # noqa: E731
        tfun = lambda t: F.avg_pool2d(F.pad(t, (0, 0, 1, 1)), 2, stride=(2, 1))  # noqa: E731
    elif kind == "avg-mean":
        ours = lambda X: avgpool(dlarray(X, "SSCB"), 3, Stride=2, Padding=1, PaddingValue="mean")  # noqa: E731
        tfun = lambda t: F.avg_pool2d(t, 3, stride=2, padding=1, count_include_pad=False)  # noqa: E731
    elif kind == "global-max":
        ours = lambda X: maxpool(dlarray(X, "SSCB"), "global")  # noqa: E731
        tfun = lambda t: t.amax(dim=(2, 3), keepdim=True)  # noqa: E731
    else:
        ours = lambda X: avgpool(dlarray(X, "SSCB"), "global")  # noqa: E731
        tfun = lambda t: t.mean(dim=(2, 3), keepdim=True)  # noqa: E731
    _check(ours, tfun, [x], ["nc"], rng)


def test_batchnorm_training_matches_torch(rng):
    x = rng.standard_normal((4, 3, 5, 6))
    off, sc = rng.standard_normal(5), rng.standard_normal(5)
    _check(lambda X, O, S: batchnorm(dlarray(X, "SSCB"), O, S), lambda t, o, s: F.batch_norm(
        t, None, None, s, o, training=True, eps=1e-5), [x, off, sc], ["nc", "v", "v"], rng)


def test_batchnorm_inference_and_running_statistics(rng):
    x = rng.standard_normal((4, 3, 5, 6))
    off, sc = rng.standard_normal(5), rng.standard_normal(5)
    mu, var = rng.standard_normal(5), rng.random(5) + 0.5
    _check(lambda X, O, S: batchnorm(dlarray(X, "SSCB"), O, S, mu, var), lambda t, o, s: F.batch_norm(
        t, torch.tensor(mu), torch.tensor(var), s, o, training=False, eps=1e-5), [x, off, sc], ["nc", "v", "v"], rng)
    _, run_mu, run_var = batchnorm(dlarray(x, "SSCB"), off, sc, mu, var, nargout=3)
    tmu, tvar = torch.tensor(mu), torch.tensor(var)
    F.batch_norm(_to_torch_nc(x), tmu, tvar, torch.tensor(sc), torch.tensor(off), training=True, momentum=0.1)
    np.testing.assert_allclose(run_mu, tmu.numpy(), rtol=1e-12)
    np.testing.assert_allclose(run_var, tvar.numpy(), rtol=1e-12)
    _, bmu, bvar = batchnorm(dlarray(x, "SSCB"), off, sc, nargout=3)
    np.testing.assert_allclose(bmu, x.mean(axis=(0, 1, 3)), rtol=1e-12)
    np.testing.assert_allclose(bvar, x.var(axis=(0, 1, 3)), rtol=1e-12)


@pytest.mark.parametrize("which", ["group2", "group-all", "group-channel-wise", "instance", "layer"])
def test_group_instance_layer_norm_match_torch(which, rng):
    x = rng.standard_normal((4, 3, 6, 2))
    off, sc = rng.standard_normal(6), rng.standard_normal(6)
    groups = {"group2": 2, "group-all": "all-channels", "group-channel-wise": "channel-wise"}
    if which in groups:
        ng = {"group2": 2, "group-all": 1, "group-channel-wise": 6}[which]
        ours = lambda X, O, S: groupnorm(dlarray(X, "SSCB"), groups[which], O, S)  # noqa: E731
        tfun = lambda t, o, s: F.group_norm(t, ng, s, o, eps=1e-5)  # noqa: E731
    elif which == "instance":
        ours = lambda X, O, S: instancenorm(dlarray(X, "SSCB"), O, S)  # noqa: E731
        tfun = lambda t, o, s: F.instance_norm(t, weight=s, bias=o, eps=1e-5)  # noqa: E731
    else:
        ours = lambda X, O, S: layernorm(dlarray(X, "SSCB"), O, S)  # noqa: E731

        def tfun(t, o, s):
            y = F.layer_norm(t, t.shape[1:], eps=1e-5)
            return y * s.reshape(1, -1, 1, 1) + o.reshape(1, -1, 1, 1)
    _check(ours, tfun, [x, off, sc], ["nc", "v", "v"], rng)


@pytest.mark.parametrize("name", ["relu", "leakyrelu", "sigmoid", "gelu", "gelu-tanh", "softmax"])
def test_activations_match_torch(name, rng):
    x = rng.standard_normal((5, 4))
    ours = {"relu": relu, "leakyrelu": lambda X: leakyrelu(X, 0.2), "sigmoid": sigmoid, "gelu": gelu,
            "gelu-tanh": lambda X: gelu(X, Approximation="tanh"),
            "softmax": lambda X: softmax(dlarray(X, "CB"))}[name]
    theirs = {"relu": F.relu, "leakyrelu": lambda t: F.leaky_relu(t, 0.2), "sigmoid": torch.sigmoid,
              "gelu": F.gelu, "gelu-tanh": lambda t: F.gelu(t, approximate="tanh"),
              "softmax": lambda t: torch.softmax(t, dim=1)}[name]
    kind = "cb" if name == "softmax" else "as-is"
    _check(ours, theirs, [x], [kind], rng, out_kind=kind)


def _probabilities(rng, k, n):
    p = rng.random((k, n)) + 0.05
    return p / p.sum(axis=0)


def test_crossentropy_single_label_weighted_and_masked(rng):
    k, n = 4, 6
    y = _probabilities(rng, k, n)
    t = np.eye(k)[:, rng.integers(0, k, n)]
    w = rng.random(k) + 0.5
    mask = (rng.random((1, n)) > 0.3).astype(float)

    def ours(Y):
        return crossentropy(dlarray(Y, "CB"), t, w, Mask=mask, NormalizationFactor="mask-included")

    def theirs(ty):
        elem = -(torch.tensor(t.T) * torch.log(ty) * torch.tensor(w)).sum(dim=1) * torch.tensor(mask[0])
        return elem.sum() / mask.sum()
    _check(ours, theirs, [y], ["cb"], rng, out_kind="scalar")


@pytest.mark.parametrize("norm", ["batch-size", "all-elements", "none"])
def test_crossentropy_multilabel_is_binary_cross_entropy(norm, rng):
    y = rng.random((3, 5, 2)) * 0.9 + 0.05           # C x T x B? use 'CBT' -> sorted CBT
    t = (rng.random((3, 5, 2)) > 0.5).astype(float)
    divisor = {"batch-size": 5, "all-elements": y.size, "none": 1}[norm]

    def ours(Y):
        return crossentropy(dlarray(Y, "CBT"), t, ClassificationMode="multilabel", NormalizationFactor=norm)

    def theirs(ty):
        return F.binary_cross_entropy(ty, torch.tensor(t), reduction="sum") / divisor
    _check(ours, theirs, [y], ["as-is"], rng, out_kind="scalar")
    legacy = crossentropy(dlarray(y, "CBT"), t, TargetCategories="independent", NormalizationFactor=norm)
    np.testing.assert_allclose(float(legacy), float(ours(y)), rtol=1e-12)


def test_indexcrossentropy_equals_crossentropy_of_one_hot(rng):
    y = _probabilities(rng, 5, 7)
    idx = rng.integers(0, 5, 7)

    def ours(Y):
        return indexcrossentropy(dlarray(Y, "CB"), idx)

    def theirs(ty):
        return F.nll_loss(torch.log(ty), torch.tensor(idx), reduction="sum") / 7
    _check(ours, theirs, [y], ["cb"], rng, out_kind="scalar")
    masked = indexcrossentropy(dlarray(y, "CB"), np.where(idx == 2, 0, idx), MaskIndex=0,
                               NormalizationFactor="target-included")
    keep = (idx != 2) & (idx != 0)
    np.testing.assert_allclose(float(masked), -np.log(y[idx[keep], np.flatnonzero(keep)]).mean(), rtol=1e-12)


@pytest.mark.parametrize("name", ["mse", "l1loss", "l2loss", "huber"])
def test_regression_losses_match_torch(name, rng):
    y, t = rng.standard_normal((3, 8)) * 2, rng.standard_normal((3, 8))
    ours = {"mse": lambda Y: mse(dlarray(Y, "CB"), t),
            "l1loss": lambda Y: l1loss(dlarray(Y, "CB"), t),
            "l2loss": lambda Y: l2loss(dlarray(Y, "CB"), t, NormalizationFactor="all-elements"),
            "huber": lambda Y: huber(dlarray(Y, "CB"), t, TransitionPoint=0.7)}[name]
    tt = torch.tensor(t.T)
    theirs = {"mse": lambda ty: F.mse_loss(ty, tt, reduction="sum") / 16,
              "l1loss": lambda ty: F.l1_loss(ty, tt, reduction="sum") / 8,
              "l2loss": lambda ty: F.mse_loss(ty, tt, reduction="mean"),
              "huber": lambda ty: F.huber_loss(ty, tt, reduction="sum", delta=0.7) / 8}[name]
    _check(ours, theirs, [y], ["cb"], rng, out_kind="scalar")


def test_layernorm_channel_only_for_sequences_matches_torch(rng):
    x = rng.standard_normal((5, 3, 4))                 # C x B x T
    off, sc = rng.standard_normal(5), rng.standard_normal(5)

    def ours(X, O, S):
        return layernorm(dlarray(X, "CBT"), O, S)

    def theirs(t, o, s):                                # torch: (B, T, C) normalized over C
        y = F.layer_norm(t.permute(1, 2, 0), (5,), s, o, eps=1e-5)
        return y.permute(2, 0, 1)
    _check(ours, theirs, [x, off, sc], ["as-is", "v", "v"], rng, out_kind="as-is")
