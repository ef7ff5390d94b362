"""trainNetwork on label volumes: pixel outputs, the voxel accuracy, label checks, the loss path."""
from __future__ import annotations

import numpy as np
import pytest

import layergraph as lg
from layergraph.layers.errors import MException
from layergraph.ops import _backend
from layergraph.runtime.executor import Executor
from layergraph.training import setup
from tests.helpers.gradcheck import check_gradients


def sphere_data(n: int, size: int = 8, seed: int = 0):
    """Noisy volumes (size^3 x 1 x n) with a bright sphere; labels 'background' / 'sphere'."""
    rng = np.random.default_rng(seed)
    X = (0.3 * rng.standard_normal((size, size, size, 1, n))).astype(np.float32)
    Y = np.full((size, size, size, n), "background", dtype=object)
    grid = np.indices((size, size, size))
    for i in range(n):
        centre = rng.integers(size // 3, size - size // 3, 3)
        inside = ((grid - centre[:, None, None, None]) ** 2).sum(0) <= (size // 4) ** 2
        X[..., 0, i][inside] += 1.0
        Y[..., i][inside] = "sphere"
    return X, Y


def tiny_unet(size: int = 8, classes: int = 2, **kw):
    return lg.unet3dLayers([size, size, size, 1], classes, EncoderDepth=1, NumFirstEncoderFilters=2, **kw)


def options(**kw):
    base = dict(MaxEpochs=3, MiniBatchSize=4, InitialLearnRate=0.02, Verbose=False)
    return lg.trainingOptions("adam", **{**base, **kw})


def test_training_on_label_volumes_learns_and_sets_classes():
    lg.rng(0)
    X, Y = sphere_data(8)
    net, info = lg.trainNetwork(X, Y, tiny_unet(), options(MaxEpochs=6))
    assert list(net.Layers["Segmentation-Layer"].Classes) == ["background", "sphere"]
    assert info.TrainingLoss[-1] < info.TrainingLoss[0]
    background_only = 100 * np.mean(Y == "background")            # ~94%: the trivial answer
    assert 0 <= info.TrainingAccuracy.min() and info.TrainingAccuracy[-1] > background_only
    C = lg.semanticseg(X, net)
    assert C.shape == Y.shape
    assert lg.dice(C, Y)[1] > 0.6                                    # the sphere is found


def test_verbose_table_shows_voxel_accuracy(capsys):
    lg.rng(1)
    X, Y = sphere_data(4)
    lg.trainNetwork(X, Y, tiny_unet(), options(MaxEpochs=1, Verbose=True))
    out = capsys.readouterr().out
    assert "Mini-batch  |  Mini-batch" in out and "Accuracy" in out
    row = next(line for line in out.splitlines() if line.startswith("|       1 |           1 |"))
    accuracy = float(row.split("|")[4].strip().rstrip("%"))
    assert 0 <= accuracy <= 100


def test_integer_codes_need_named_classes():
    X, Y = sphere_data(4)
    codes = (Y == "sphere").astype(np.int64)
    lgraph = tiny_unet()
    with pytest.raises(MException) as err:
        lg.trainNetwork(X, codes, lgraph, options(MaxEpochs=1))
    assert err.value.identifier == "nnet_cnn:trainNetwork:ClassesNeededForCodes"
    named = lg.replaceLayer(lgraph, "Segmentation-Layer",
                            lg.pixelClassificationLayer(Name="Segmentation-Layer", Classes=["bg", "ball"]))
    net, _ = lg.trainNetwork(X, codes, named, options(MaxEpochs=1))
    assert set(np.unique(lg.semanticseg(X, net))) <= {"bg", "ball"}


@pytest.mark.parametrize("labels,ident", [
    (lambda Y: Y[:6], "nnet_cnn:trainNetwork:WrongLabelSize"),
    (lambda Y: Y[..., :3], "nnet_cnn:trainNetwork:WrongNumberOfLabels"),
    (lambda Y: np.where(Y == "sphere", "cube", Y), "nnet_cnn:trainNetwork:UnknownLabels"),
    (lambda Y: (Y == "sphere").astype(np.float32), "nnet_cnn:trainNetwork:InvalidLabels"),
])
def test_bad_label_volumes(labels, ident):
    X, Y = sphere_data(4)
    named = lg.replaceLayer(tiny_unet(), "Segmentation-Layer",
                            lg.pixelClassificationLayer(Name="Segmentation-Layer",
                                                        Classes=["background", "sphere"]))
    with pytest.raises(MException) as err:
        lg.trainNetwork(X, labels(Y), named, options(MaxEpochs=1))
    assert err.value.identifier == ident
    assert "Received" in str(err.value)


def test_valid_padding_needs_labels_of_the_output_size():
    lgraph, out = lg.unet3dLayers([20, 20, 20, 1], 2, EncoderDepth=1, NumFirstEncoderFilters=2,
                                  ConvolutionPadding="valid", nargout=2)
    X, Y = sphere_data(4, size=20)
    crop = (20 - out[0]) // 2
    assert out == (4, 4, 4, 2)        # 20 -> 16 -> 8 -> bridge 4 -> up 8 -> 4
    with pytest.raises(MException, match="size 4x4x4x4 .* Received: size 20x20x20x4"):
        lg.trainNetwork(X, Y, lgraph, options(MaxEpochs=1))
    net, _ = lg.trainNetwork(X, Y[crop:crop + out[0], crop:crop + out[1], crop:crop + out[2]], lgraph,
                             options(MaxEpochs=1))
    assert lg.semanticseg(X, net).shape == (*out[:3], 4)


def test_undefined_voxels_are_ignored_by_accuracy_and_training():
    y = np.zeros((2, 1, 2, 2), np.float32)
    y[0, 0] = [[0.9, 0.9], [0.2, 0.2]]
    y[1] = 1 - y[0]
    t = np.zeros_like(y)
    t[0, 0, 0, 0] = 1          # right
    t[1, 0, 0, 1] = 1          # wrong
    t[1, 0, 1, 0] = 1          # right; the fourth voxel is undefined (all-zero column)
    assert setup.batch_metric(y, t, True) == pytest.approx(100 * 2 / 3)
    X, Y = sphere_data(4)
    Y[0, 0, 0, :] = None
    net, info = lg.trainNetwork(X, Y, tiny_unet(), options(MaxEpochs=1))
    assert np.isfinite(info.TrainingLoss).all()


def test_dice_pixel_classification_output_and_validation_data():
    lg.rng(2)
    X, Y = sphere_data(8)
    lgraph = lg.replaceLayer(tiny_unet(), "Segmentation-Layer",
                             lg.dicePixelClassificationLayer(Name="Segmentation-Layer"))
    net, info = lg.trainNetwork(X[..., :4], Y[..., :4], lgraph,
                                options(MaxEpochs=2, ValidationData=(X[..., 4:], Y[..., 4:]),
                                        ValidationFrequency=1))
    assert np.isfinite(info.ValidationLoss).all() and np.isfinite(info.ValidationAccuracy).all()
    assert 0 <= info.FinalValidationAccuracy <= 100


def test_validation_labels_are_checked_like_training_labels():
    X, Y = sphere_data(8)
    with pytest.raises(MException) as err:
        lg.trainNetwork(X[..., :4], Y[..., :4], tiny_unet(),
                        options(MaxEpochs=1, ValidationData=(X[..., 4:], Y[:4, :, :, 4:])))
    assert err.value.identifier == "nnet_cnn:trainNetwork:WrongLabelSize"
    assert "ValidationData labels" in str(err.value)


def test_pixel_loss_gradients_match_finite_differences(rng):
    """executor.loss_and_gradients with (K, N, *S) targets, float64, against central differences."""
    layers = [lg.image3dInputLayer([4, 4, 3, 2], Normalization="none", Name="in"),
              lg.convolution3dLayer(3, 3, Padding="same", Name="conv"),
              lg.softmaxLayer(Name="sm"),
              lg.pixelClassificationLayer(Name="out", Classes=["a", "b", "c"], ClassWeights=[1, 2, 0.5])]
    lgraph = setup.initialize_graph(lg.layerGraph(layers), rng)
    ex = Executor(lgraph, dtype=np.float64)
    x = rng.standard_normal((2, 3, 4, 4, 3))
    codes = rng.integers(-1, 3, (3, 4, 4, 3))
    t = np.zeros((3, 3, 4, 4, 3))
    for k in range(3):
        t[k][codes == k] = 1.0
    loss, scores, grads, _ = ex.loss_and_gradients(x, t)
    assert scores.shape == (3, 3, 4, 4, 3)
    w0 = ex.params[("conv", "Weights")].copy()

    def loss_of(w):
        ex.params[("conv", "Weights")] = w
        return ex.loss_and_gradients(x, t)[0]
    check_gradients(loss_of, [w0], [grads[("conv", "Weights")]], rng, eps=1e-6, rtol=1e-6)
    ex.params[("conv", "Weights")] = w0
    y = scores
    expected = -(np.array([1, 2, 0.5])[:, None, None, None, None] * t * np.log(y)).sum() / t.sum()
    assert loss == pytest.approx(expected, rel=1e-10)


@pytest.mark.gpu
@pytest.mark.skipif(not _backend.gpu_available(), reason="needs CuPy and a CUDA device")
def test_gpu_segmentation_training_matches_cpu():
    """float64: the per-voxel loss path, voxel accuracy and semanticseg on CuPy equal the CPU's."""
    X, Y = sphere_data(8)
    Y[0, 0, 0, :] = None
    infos, nets = {}, {}
    for env in ("cpu", "gpu"):
        lg.rng(3)
        nets[env], infos[env] = lg.trainNetwork(
            X, Y, tiny_unet(), options(MaxEpochs=2, ExecutionEnvironment=env,
                                       ValidationData=(X[..., :4], Y[..., :4])), dtype=np.float64)
    np.testing.assert_allclose(infos["gpu"].TrainingLoss, infos["cpu"].TrainingLoss, rtol=1e-8)
    np.testing.assert_allclose(infos["gpu"].TrainingAccuracy, infos["cpu"].TrainingAccuracy, atol=1e-9)
    assert np.array_equal(lg.semanticseg(X, nets["gpu"], ExecutionEnvironment="gpu"),
                          lg.semanticseg(X, nets["cpu"], ExecutionEnvironment="cpu"))


def test_two_d_unetlayers_with_dropout_trains_on_label_images():
    lg.rng(4)
    rng = np.random.default_rng(4)
    X = (0.3 * rng.standard_normal((16, 16, 1, 8))).astype(np.float32)
    L = np.zeros((16, 16, 8), np.int64)
    for i in range(8):
        r, c = rng.integers(3, 9, 2)
        X[r:r + 5, c:c + 5, 0, i] += 1.0
        L[r:r + 5, c:c + 5, i] = 1
    lgraph = lg.unetLayers([16, 16, 1], 2, EncoderDepth=2, NumFirstEncoderFilters=4)
    lgraph = lg.replaceLayer(lgraph, "Segmentation-Layer", lg.pixelClassificationLayer(
        Name="Segmentation-Layer", Classes=["bg", "square"], ClassWeights=[1, 3]))
    net, info = lg.trainNetwork(X, L, lgraph, options(MaxEpochs=8, MiniBatchSize=4))
    assert info.TrainingLoss[-1] < info.TrainingLoss[0]
    C, score, all_scores = lg.semanticseg(X, net, nargout=3)
    assert C.shape == (16, 16, 8) and all_scores.shape == (16, 16, 2, 8)
    assert lg.dice(C, np.array(["bg", "square"])[L])[1] > 0.5


def test_trained_segmentation_network_saves_and_loads(tmp_path):
    lg.rng(5)
    X, Y = sphere_data(4)
    net, _ = lg.trainNetwork(X, Y, tiny_unet(), options(MaxEpochs=1))
    path = str(tmp_path / "seg.lgnet")
    lg.saveNetwork(net, path)
    again = lg.loadNetwork(path)
    assert tuple(again.Layers["Segmentation-Layer"].Classes) == ("background", "sphere")
    np.testing.assert_array_equal(lg.semanticseg(X, again), lg.semanticseg(X, net))


def test_unet3d_graph_with_a_pixel_output_layer_trains():
    """The R2024a builder's graph plus an output layer trains with trainNetwork (crop/merge path)."""
    lg.rng(6)
    X, Y = sphere_data(4)
    lgraph = lg.layerGraph(lg.unet3d([8, 8, 8, 1], 2, EncoderDepth=1, NumFirstEncoderFilters=2))
    lgraph = lg.addLayers(lgraph, lg.pixelClassificationLayer(Name="pixels"))
    lgraph = lg.connectLayers(lgraph, "FinalNetworkSoftmax-Layer", "pixels")
    net, info = lg.trainNetwork(X, Y, lgraph, options(MaxEpochs=2))
    assert np.isfinite(info.TrainingLoss).all()
    assert lg.semanticseg(X, net).shape == Y.shape


def test_unet3d_in_a_custom_training_loop():
    """MATLAB's dlnetwork workflow: forward, crossentropy over 'SSSCB', dlgradient, adamupdate."""
    lg.rng(7)
    X, Y = sphere_data(4)
    T = np.stack([Y == "background", Y == "sphere"], axis=3).astype(np.float32)   # h x w x d x K x N
    net = lg.unet3d([8, 8, 8, 1], 2, EncoderDepth=1, NumFirstEncoderFilters=2)

    def model_loss(net, X, T):
        Y, state = lg.forward(net, X)
        loss = lg.crossentropy(Y, T)
        return loss, lg.dlgradient(loss, net.Learnables), state

    losses, avg, sq = [], None, None
    for it in range(1, 5):
        loss, grads, state = lg.dlfeval(model_loss, net, lg.dlarray(X, "SSSCB"), lg.dlarray(T, "SSSCB"))
        net.State = state
        net, avg, sq = lg.adamupdate(net, grads, avg, sq, it, 0.01)
        losses.append(float(lg.extractdata(loss)))
    assert losses[-1] < losses[0]
    assert lg.semanticseg(X, net, Classes=["background", "sphere"]).shape == Y.shape


def test_flattened_categorical_labels():
    """A pandas.Categorical of the label volumes flattened in C order trains like the array."""
    import pandas as pd
    X, Y = sphere_data(4)
    flat = pd.Categorical(Y.astype(str).ravel())
    lg.rng(8)
    _, info_flat = lg.trainNetwork(X, flat, tiny_unet(), options(MaxEpochs=1))
    lg.rng(8)
    _, info = lg.trainNetwork(X, Y, tiny_unet(), options(MaxEpochs=1))
    np.testing.assert_array_equal(info_flat.TrainingLoss, info.TrainingLoss)
    with pytest.raises(MException) as err:
        lg.trainNetwork(X, flat[:-4], tiny_unet(), options(MaxEpochs=1))
    assert err.value.identifier in ("nnet_cnn:trainNetwork:WrongLabelSize",
                                    "nnet_cnn:trainNetwork:WrongNumberOfLabels")
