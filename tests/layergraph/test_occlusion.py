"""occlusionSensitivity against a naive loop; gradCAM of a DAGNetwork and against torch Grad-CAM."""
import numpy as np
import pandas as pd
import pytest

import layergraph as lg
from layergraph import MException


def _layers(size=(8, 6, 2), conv="convolution2dLayer", pool="globalAveragePooling2dLayer", stride=1):
    return [lg.imageInputLayer(list(size), Normalization="none", Name="in") if len(size) == 3 else
            lg.image3dInputLayer(list(size), Normalization="none", Name="in"),
            getattr(lg, conv)(3, 4, Padding=1, Stride=stride, Name="conv"), lg.reluLayer(Name="relu"),
            getattr(lg, pool)(Name="gap"), lg.fullyConnectedLayer(3, Name="fc"), lg.softmaxLayer(Name="sm")]


def _naive(net, X, k, mask, stride, value, clipping):
    """Loop over mask centres (clipping) or wholly inside starts; score(X) - score(masked X)."""
    sizes = X.shape[:-1]
    score = lambda img: np.asarray(lg.predict(net, img[..., None]), np.float64)[k, 0]
    base = score(X)
    if clipping:
        ranges = [[(max(c - m // 2, 0), min(c - m // 2 + m, n)) for c in range(0, n, s)]
                  for n, m, s in zip(sizes, mask, stride)]
    else:
        ranges = [[(a, a + m) for a in range(0, n - m + 1, s)] for n, m, s in zip(sizes, mask, stride)]
    out = np.zeros([len(r) for r in ranges])
    for idx in np.ndindex(*out.shape):
        img = X.copy()
        img[tuple(slice(*ranges[d][i]) for d, i in enumerate(idx))] = value
        out[idx] = base - score(img)
    return out


@pytest.mark.parametrize("clipping", ["on", "off"])
def test_occlusion_grid_equals_a_naive_loop_2d(clipping):
    lg.rng(0)
    net = lg.dlnetwork(_layers())
    X = np.random.default_rng(1).standard_normal((8, 6, 2)).astype(np.float32)
    got = lg.occlusionSensitivity(net, X, 1, MaskSize=3, Stride=2, MaskValue=0.5, OutputUpsampling="none",
                                  MaskClipping=clipping, MiniBatchSize=5)
    np.testing.assert_allclose(got, _naive(net, X, 1, (3, 3), (2, 2), 0.5, clipping == "on"), rtol=1e-4, atol=1e-6)


def test_occlusion_3d_auto_options_and_upsampling():
    lg.rng(1)
    net = lg.dlnetwork(_layers((6, 5, 4, 1), "convolution3dLayer", "globalAveragePooling3dLayer"))
    X = np.random.default_rng(2).standard_normal((6, 5, 4, 1)).astype(np.float32)
    grid = lg.occlusionSensitivity(net, X, 2, OutputUpsampling="none")
    mask = tuple(max(1, round(0.2 * n)) for n in (6, 5, 4))          # "auto": 20 % / 10 % of the size
    expect = _naive(net, X, 2, mask, (1, 1, 1), X.mean(), True)
    np.testing.assert_allclose(grid, expect, rtol=1e-4, atol=1e-6)
    nearest = lg.occlusionSensitivity(net, X[..., 0], 2, OutputUpsampling="nearest")
    np.testing.assert_allclose(nearest, grid, rtol=1e-6)                 # stride 1: the grid is the volume
    assert lg.occlusionSensitivity(net, X, 2).shape == (6, 5, 4)


def test_bicubic_upsampling_keeps_constants_and_nearest_repeats():
    from layergraph.networks.occlusion import _resize
    np.testing.assert_allclose(_resize(np.full((2, 3), 4.0), (8, 9), cubic=True), 4.0)
    np.testing.assert_array_equal(_resize(np.array([[1.0, 2.0]]), (1, 4), cubic=False), [[1, 1, 2, 2]])


def test_dag_network_equals_its_dlnetwork_and_class_names():
    lg.rng(3)
    X = np.random.default_rng(3).standard_normal((8, 6, 2, 6)).astype(np.float32)
    Y = pd.Categorical(["a", "b", "c", "a", "b", "c"])
    opts = lg.trainingOptions("sgdm", MaxEpochs=1, MiniBatchSize=6, Verbose=False, ExecutionEnvironment="cpu")
    dag, _ = lg.trainNetwork(X, Y, _layers() + [lg.classificationLayer(Name="out")], opts)
    dl = lg.dlnetwork(lg.removeLayers(lg.layerGraph(dag), "out"))
    x = X[..., 0]
    np.testing.assert_allclose(lg.occlusionSensitivity(dag, x, "b", Stride=3),
                               lg.occlusionSensitivity(dl, x, 1, Stride=3), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(lg.gradCAM(dag, x, "c"), lg.gradCAM(dl, x, 2), rtol=1e-5, atol=1e-7)
    with pytest.raises(MException, match="label 'z' is not among"):
        lg.occlusionSensitivity(dag, x, "z")
    with pytest.raises(MException, match="MaskSize must be"):
        lg.occlusionSensitivity(dl, x, 0, MaskSize=0)
    with pytest.raises(MException, match="one observation of size 8x6x2"):
        lg.occlusionSensitivity(dl, X, 0)


@pytest.mark.torch
def test_grad_cam_equals_torch_grad_cam():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    lg.rng(5)
    layers = _layers(stride=2)
    layers.insert(3, lg.convolution2dLayer(3, 5, Padding=1, Name="conv2"))
    layers.insert(4, lg.reluLayer(Name="relu2"))
    net = lg.dlnetwork(layers)
    X = np.random.default_rng(6).standard_normal((8, 6, 2)).astype(np.float32)
    got = lg.gradCAM(net, X, 1)                                            # feature layer: relu2 (4 x 3)

    value = lambda layer, p: torch.tensor(np.asarray(net.Learnables.Value[list(zip(
        net.Learnables.Layer, net.Learnables.Parameter)).index((layer, p))], np.float64))
    conv_w = lambda name: value(name, "Weights").permute(3, 2, 0, 1)         # h x w x cin x cout -> out,in,h,w
    x = torch.tensor(X, dtype=torch.float64).permute(2, 0, 1)[None]
    a1 = F.relu(F.conv2d(x, conv_w("conv"), value("conv", "Bias").reshape(-1), stride=2, padding=1))
    A = F.relu(F.conv2d(a1, conv_w("conv2"), value("conv2", "Bias").reshape(-1), padding=1))
    A = A.detach().requires_grad_(True)                                   # d score / d activation
    z = value("fc", "Weights") @ A.mean(dim=(2, 3))[0] + value("fc", "Bias").reshape(-1)
    z[1].backward()
    weights = A.grad.mean(dim=(2, 3), keepdim=True)
    cam = F.relu((weights * A).sum(dim=1, keepdim=True))
    expect = F.interpolate(cam, size=(8, 6), mode="bilinear", align_corners=False)[0, 0].detach().numpy()
    assert got.shape == (8, 6)
    np.testing.assert_allclose(got, expect, rtol=1e-4, atol=1e-6)
