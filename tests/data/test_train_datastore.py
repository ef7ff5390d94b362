"""trainNetwork / predict / classify / activations from datastores equal the array path."""
from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest

from layergraph import (MException, arrayDatastore, batchNormalizationLayer, classify,
                        classificationLayer, combine, convolution3dLayer, fullyConnectedLayer,
                        globalAveragePooling3dLayer, image3dInputLayer, imageDatastore, predict,
                        activations, regressionLayer, reluLayer, rng, softmaxLayer, transform,
                        trainingOptions, trainNetwork)
from layergraph.data import batches as data_batches
from layergraph.layers.errors import MException as LGException
from layergraph.training import sources

N, S = 12, 6


def _volumes(seed=0):
    g = np.random.default_rng(seed)
    X = g.standard_normal((S, S, S, 1, N)).astype(np.float32)
    labels = pd.Categorical(np.where(X.reshape(-1, N).mean(axis=0) > 0, "hi", "lo"),
                            categories=["hi", "lo"])
    return X, labels


def _folder(tmp_path, X, labels, drop_channel=True):
    for i in range(N):
        folder = tmp_path / str(labels[i])
        folder.mkdir(exist_ok=True)
        np.save(folder / f"v{i:02d}.npy", X[..., 0, i] if drop_channel else X[..., i])
    imds = imageDatastore(tmp_path, IncludeSubfolders=True, LabelSource="foldernames")
    order = [int(f.split("/")[-1][1:3]) for f in imds.Files]
    return imds, order


def _layers(norm="zscore", regression=False):
    head = [regressionLayer(Name="out")] if regression else [softmaxLayer(Name="sm"),
                                                             classificationLayer(Name="out")]
    return [image3dInputLayer([S, S, S, 1], Normalization=norm, Name="in"),
            convolution3dLayer(3, 4, Padding="same", Name="conv"),
            batchNormalizationLayer(Name="bn"), reluLayer(Name="relu"),
            globalAveragePooling3dLayer(Name="gap"),
            fullyConnectedLayer(1 if regression else 2, Name="fc"), *head]


def _options(**kw):
    base = dict(MaxEpochs=2, MiniBatchSize=4, Shuffle="never", Verbose=False,
                ExecutionEnvironment="cpu", InitialLearnRate=0.05)
    base.update(kw)
    return trainingOptions("sgdm", **base)


@pytest.mark.parametrize("shuffle", ["never", "every-epoch"])
def test_datastore_training_equals_array_training_bit_for_bit(tmp_path, shuffle):
    X, labels = _volumes()
    imds, order = _folder(tmp_path, X, labels)
    Xs, Ys = X[..., order], labels[order]                 # the datastore's file order
    rng(1)
    net_a, info_a = trainNetwork(Xs, Ys, _layers(), _options(Shuffle=shuffle))
    rng(1)
    net_d, info_d = trainNetwork(imds, _layers(), _options(Shuffle=shuffle))
    np.testing.assert_array_equal(info_d.TrainingLoss, info_a.TrainingLoss)
    assert info_d.TrainingLoss.size == 2 * (N // 4)
    np.testing.assert_array_equal(net_d.Layers[0].Mean, net_a.Layers[0].Mean)
    np.testing.assert_array_equal(net_d.Layers[0].StandardDeviation,
                                  net_a.Layers[0].StandardDeviation)
    np.testing.assert_allclose(net_d.Layers[2].TrainedVariance, net_a.Layers[2].TrainedVariance,
                               rtol=1e-5)
    np.testing.assert_allclose(predict(net_d, imds), predict(net_a, Xs), rtol=1e-5, atol=1e-6)


def test_background_dispatch_gives_the_same_losses(tmp_path):
    X, labels = _volumes(2)
    imds, _ = _folder(tmp_path, X, labels)
    rng(4)
    _, fore = trainNetwork(imds, _layers(), _options(Shuffle="every-epoch"))
    rng(4)
    _, back = trainNetwork(imds, _layers(), _options(Shuffle="every-epoch",
                                                     DispatchInBackground=True))
    np.testing.assert_array_equal(back.TrainingLoss, fore.TrainingLoss)
    assert not [t for t in threading.enumerate() if t.name == "layergraph-prefetch"]


def test_streaming_statistics_equal_the_array_statistics():
    g = np.random.default_rng(5)
    X = (g.standard_normal((4, 5, 3, 2, 23)) * 7 + 100).astype(np.float32)
    for dim in ("auto", "element", "all"):
        layer = image3dInputLayer([4, 5, 3, 2], Normalization="zscore",
                                  NormalizationDimension=dim)
        from layergraph.training import setup
        want = setup.normalization_statistics(layer, X)
        got = sources.streaming_statistics(layer, (X[..., i:i + 5] for i in range(0, 23, 5)))
        for name in want:
            np.testing.assert_array_equal(got[name], want[name])
    layer = image3dInputLayer([4, 5, 3, 2], Normalization="rescale-zero-one")
    got = sources.streaming_statistics(layer, (X[..., i:i + 4] for i in range(0, 23, 4)))
    np.testing.assert_array_equal(got["Min"], X.min(axis=(0, 1, 2, 4))[None, None, None])


def test_combined_regression_validation_and_inference_from_datastores(tmp_path):
    X, _ = _volumes(3)
    responses = X.reshape(-1, N).mean(axis=0)[:, None].astype(np.float64)
    ds = combine(arrayDatastore(X, IterationDimension=5), arrayDatastore(responses))
    rng(0)
    net, info = trainNetwork(ds, _layers("zerocenter", regression=True),
                             _options(ValidationData=ds, ValidationFrequency=2))
    assert np.isfinite(info.FinalValidationLoss) and np.isfinite(info.ValidationLoss[0])
    rng(0)
    net_a, info_a = trainNetwork(X, responses, _layers("zerocenter", regression=True),
                                 _options(ValidationData=(X, responses), ValidationFrequency=2))
    np.testing.assert_array_equal(info.TrainingLoss, info_a.TrainingLoss)
    np.testing.assert_allclose(info.FinalValidationLoss, info_a.FinalValidationLoss, rtol=1e-5)
    np.testing.assert_allclose(predict(net, arrayDatastore(X, IterationDimension=5),
                                       MiniBatchSize=5), predict(net_a, X), rtol=1e-5, atol=1e-6)
    act = activations(net, arrayDatastore(X, IterationDimension=5), "gap")
    np.testing.assert_allclose(act, activations(net_a, X, "gap"), rtol=1e-5, atol=1e-6)


def test_classify_from_an_image_datastore(tmp_path):
    X, labels = _volumes(6)
    imds, order = _folder(tmp_path, X, labels, drop_channel=False)
    rng(2)
    net, _ = trainNetwork(imds, _layers(), _options(MaxEpochs=1))
    got, scores = classify(net, imds)
    want, want_scores = classify(net, X[..., order])
    assert list(got) == list(want) and scores.shape == (N, 2)


def test_bad_training_data_from_datastores(tmp_path):
    X, labels = _volumes()
    imds, _ = _folder(tmp_path, X, labels)
    with pytest.raises(MException, match="gives no labels|predictors only"):
        trainNetwork(imageDatastore(tmp_path, IncludeSubfolders=True), _layers(), _options())
    one = imageDatastore(tmp_path, IncludeSubfolders=True, Labels=["x"] * N)
    with pytest.raises(MException, match="at least two classes"):
        trainNetwork(one, _layers(), _options())
    wrong = [image3dInputLayer([S, S, S, 2], Name="in")] + _layers()[1:]
    with pytest.raises(MException, match=r"takes 6x6x6x2 \(size and channel count\)"):
        trainNetwork(imds, wrong, _options())
    (tmp_path / "hi" / "v99.npy").write_bytes(b"corrupt")
    broken = imageDatastore(tmp_path, IncludeSubfolders=True, LabelSource="foldernames")
    with pytest.raises(MException, match="v99.npy") as err:
        trainNetwork(broken, _layers(norm="none"), _options())
    assert "iteration" in str(err.value)
    with pytest.raises(MException, match="v99.npy"):
        trainNetwork(broken, _layers(norm="none"), _options(DispatchInBackground=True))
    with pytest.raises(MException, match="fourth argument"):
        trainNetwork(imds, _layers(), _options(), _options())


def test_prefetch_surfaces_errors_and_stops_on_close():
    def items():
        yield 1
        raise KeyError("boom")
    out = data_batches.prefetch(items())
    assert next(out) == 1
    with pytest.raises(LGException, match="KeyError") as err:
        next(out)
    assert isinstance(err.value.__cause__, KeyError)
    produced = []

    def endless():
        k = 0
        while True:
            produced.append(k)
            yield k
            k += 1
    gen = data_batches.prefetch(endless(), depth=2)
    assert next(gen) == 0
    gen.close()                                      # as a KeyboardInterrupt in the caller would
    count = len(produced)
    assert not [t for t in threading.enumerate() if t.name == "layergraph-prefetch"]
    assert len(produced) == count and count <= 5


def test_segmentation_from_label_volume_datastores_equals_arrays():
    import layergraph as lg
    g = np.random.default_rng(0)
    X = (0.3 * g.standard_normal((8, 8, 8, 1, 4))).astype(np.float32)
    codes = (X[..., 0, :] > 0.2).astype(np.int64)             # 0 background, 1 sphere
    classes = ["background", "sphere"]

    def unet():
        lgraph = lg.unet3dLayers([8, 8, 8, 1], 2, EncoderDepth=1, NumFirstEncoderFilters=2)
        out = next(layer for layer in lgraph.Layers if layer.IS_OUTPUT)
        return lg.replaceLayer(lgraph, out.Name, out.copy(Classes=classes))
    ds = combine(arrayDatastore(X, IterationDimension=5), arrayDatastore(codes, IterationDimension=4))
    opts = _options(MaxEpochs=1, MiniBatchSize=2, ValidationData=ds, ValidationFrequency=1)
    rng(0)
    _, info_d = trainNetwork(ds, unet(), opts)
    rng(0)
    _, info_a = trainNetwork(X, codes, unet(), _options(MaxEpochs=1, MiniBatchSize=2,
                                                        ValidationData=(X, codes),
                                                        ValidationFrequency=1))
    np.testing.assert_array_equal(info_d.TrainingLoss, info_a.TrainingLoss)
    np.testing.assert_allclose(info_d.ValidationLoss, info_a.ValidationLoss, rtol=1e-5)
    patches = lg.randomPatchExtractionDatastore(arrayDatastore(X, IterationDimension=5),
                                                arrayDatastore(codes, IterationDimension=4),
                                                [8, 8, 8], PatchesPerImage=2, MiniBatchSize=4)
    _, info_p = trainNetwork(patches, unet(), _options(MaxEpochs=1, MiniBatchSize=4))
    assert info_p.TrainingLoss.size == 2 and np.all(np.isfinite(info_p.TrainingLoss))


def test_arrays_reach_the_device_one_mini_batch_at_a_time(monkeypatch):
    from layergraph.ops import _backend
    X, labels = _volumes(7)
    seen = []
    real = _backend.to_device

    def recording(x, device):
        if np.ndim(x) >= 5:
            seen.append(np.shape(x)[1])                  # internal (C, N, *S): N observations
        return real(x, device)
    monkeypatch.setattr(_backend, "to_device", recording)
    rng(0)
    trainNetwork(X, labels, _layers(), _options(ValidationData=(X, labels), ValidationFrequency=1,
                                                MiniBatchSize=4))
    assert seen and max(seen) <= 4


@pytest.mark.gpu
def test_datastore_training_on_the_gpu_matches_the_cpu(tmp_path):
    pytest.importorskip("cupy")
    from layergraph.ops import _backend
    if not _backend.gpu_available():
        pytest.skip("needs CuPy and a CUDA device")
    X, labels = _volumes(8)
    imds, _ = _folder(tmp_path, X, labels)
    rng(3)
    _, cpu = trainNetwork(imds, _layers(), _options(Shuffle="every-epoch"))
    rng(3)
    _, gpu = trainNetwork(imds, _layers(), _options(Shuffle="every-epoch",
                                                    ExecutionEnvironment="gpu",
                                                    DispatchInBackground=True))
    np.testing.assert_allclose(gpu.TrainingLoss, cpu.TrainingLoss, rtol=1e-3, atol=1e-4)


def test_ctrl_c_during_a_prefetching_epoch_stops_the_reader(tmp_path):
    X, labels = _volumes(9)
    imds, _ = _folder(tmp_path, X, labels)

    def interrupt(info):
        if info.Iteration == 2:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        trainNetwork(imds, _layers(), _options(DispatchInBackground=True, OutputFcn=interrupt))
    assert not [t for t in threading.enumerate() if t.name == "layergraph-prefetch"]
