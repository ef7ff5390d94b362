"""Three SGDM iterations of a conv + BN network through trainNetwork vs PyTorch (float64)."""
import numpy as np
import pandas as pd
import pytest

from layergraph import (batchNormalizationLayer, classificationLayer, convolution2dLayer,
                        fullyConnectedLayer, globalAveragePooling2dLayer, imageInputLayer,
                        reluLayer, softmaxLayer, trainingOptions, trainNetwork)

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch


def test_three_sgdm_steps_match_torch():
    g = np.random.default_rng(3)
    X = g.standard_normal((5, 5, 2, 12))
    Y = pd.Categorical(list("abc") * 4)
    W = g.standard_normal((3, 3, 2, 4)) * 0.3
    b = g.standard_normal((1, 1, 4)) * 0.1
    Wf = g.standard_normal((3, 4)) * 0.3
    bf = g.standard_normal((3, 1)) * 0.1
    layers = [imageInputLayer([5, 5, 2], Normalization="none"),
              convolution2dLayer(3, 4, Padding="same", Weights=W, Bias=b),
              batchNormalizationLayer(), reluLayer(), globalAveragePooling2dLayer(),
              fullyConnectedLayer(3, Weights=Wf, Bias=bf), softmaxLayer(), classificationLayer()]
    opts = trainingOptions("sgdm", MaxEpochs=1, MiniBatchSize=4, Shuffle="never",
                           InitialLearnRate=0.1, Momentum=0.9, L2Regularization=0.01,
                           Verbose=False, BatchNormalizationStatistics="moving")
    net, info = trainNetwork(X, Y, layers, opts, dtype=np.float64)

    t = torch.float64
    conv = torch.nn.Conv2d(2, 4, 3, padding=1).to(t)
    bn = torch.nn.BatchNorm2d(4, eps=1e-5, momentum=0.1).to(t)
    fc = torch.nn.Linear(4, 3).to(t)
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(W.transpose(3, 2, 0, 1)))
        conv.bias.copy_(torch.from_numpy(b.ravel()))
        fc.weight.copy_(torch.from_numpy(Wf))
        fc.bias.copy_(torch.from_numpy(bf.ravel()))
    # MATLAB L2 factors: weights 1, conv/fc bias 0, BN offset/scale 1.
    opt = torch.optim.SGD([
        {"params": [conv.weight, fc.weight, bn.weight, bn.bias], "weight_decay": 0.01},
        {"params": [conv.bias, fc.bias], "weight_decay": 0.0}], lr=0.1, momentum=0.9)
    xt = torch.from_numpy(X.transpose(3, 2, 0, 1).copy())          # (N, C, H, W)
    labels = torch.from_numpy(np.asarray(Y.codes, dtype=np.int64))
    losses = []
    for i in range(3):
        batch = slice(4 * i, 4 * i + 4)
        opt.zero_grad()
        h = torch.relu(bn(conv(xt[batch]))).mean(dim=(2, 3))
        loss = torch.nn.functional.cross_entropy(fc(h), labels[batch])
        loss.backward()
        opt.step()
        losses.append(loss.item())
    np.testing.assert_allclose(info.TrainingLoss, losses, rtol=1e-10)
    np.testing.assert_allclose(net.Layers[1].Weights,
                               conv.weight.detach().numpy().transpose(2, 3, 1, 0), rtol=1e-9)
    np.testing.assert_allclose(net.Layers[5].Weights, fc.weight.detach().numpy(), rtol=1e-9)
    np.testing.assert_allclose(net.Layers[2].Scale.ravel(), bn.weight.detach().numpy(),
                               rtol=1e-9)
    np.testing.assert_allclose(net.Layers[2].TrainedMean.ravel(), bn.running_mean.numpy(),
                               rtol=1e-9)
