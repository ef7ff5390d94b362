"""Metric objects against naive loop formulas; trainingOptions Metrics / ObjectiveMetricName /
OutputNetwork "best-validation" in trainnet and trainNetwork."""
import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

import layergraph as lg
from layergraph import (MException, accuracyMetric, aucMetric, fScoreMetric, precisionMetric,
                        recallMetric, rmseMetric)


def _onehot(labels, k):
    t = np.zeros((k, len(labels)))
    t[labels, np.arange(len(labels))] = 1
    return t


def _naive_counts(pred, true, k):
    tp = [sum(1 for p, t in zip(pred, true) if p == c and t == c) for c in range(k)]
    fp = [sum(1 for p, t in zip(pred, true) if p == c and t != c) for c in range(k)]
    fn = [sum(1 for p, t in zip(pred, true) if p != c and t == c) for c in range(k)]
    return tp, fp, fn


def _div(a, b):
    return a / b if b else 0.0


def _naive(kind, average, scores, true, k):
    pred = [max(range(k), key=lambda c: (scores[c][n], -c)) for n in range(len(true))]
    tp, fp, fn = _naive_counts(pred, true, k)
    per = {"precision": [_div(tp[c], tp[c] + fp[c]) for c in range(k)],
           "recall": [_div(tp[c], tp[c] + fn[c]) for c in range(k)],
           "fscore": [_div(2 * tp[c], 2 * tp[c] + fp[c] + fn[c]) for c in range(k)]}[kind]
    if average == "micro":
        T, F, N = sum(tp), sum(fp), sum(fn)
        return {"precision": _div(T, T + F), "recall": _div(T, T + N), "fscore": _div(2 * T, 2 * T + F + N)}[kind]
    if average == "macro":
        return sum(per) / k
    support = [true.count(c) for c in range(k)]
    return sum(p * s for p, s in zip(per, support)) / sum(support)


def _naive_auc(scores, labels):
    pos = [s for s, y in zip(scores, labels) if y]
    neg = [s for s, y in zip(scores, labels) if not y]
    if not pos or not neg:
        return math.nan
    return sum((p > q) + 0.5 * (p == q) for p, q in itertools.product(pos, neg)) / (len(pos) * len(neg))


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 4), st.integers(1, 12), st.integers(0, 10_000),
       st.sampled_from(["micro", "macro", "weighted"]))
def test_precision_recall_fscore_against_naive_counts(k, n, seed, average):
    g = np.random.default_rng(seed)
    scores = g.integers(0, 4, (k, n)).astype(float)           # ties: the first class wins (argmax)
    true = list(g.integers(0, k, n))
    T = _onehot(true, k)
    for kind, cls in (("precision", precisionMetric), ("recall", recallMetric), ("fscore", fScoreMetric)):
        got = cls(AverageType=average).evaluate(scores, T)
        assert got == pytest.approx(_naive(kind, average, scores.tolist(), true, k), abs=1e-12), kind


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 4), st.integers(2, 12), st.integers(0, 10_000),
       st.sampled_from(["micro", "macro", "weighted"]))
def test_auc_against_pairwise_counting(k, n, seed, average):
    g = np.random.default_rng(seed)
    scores = g.integers(0, 5, (k, n)) / 4.0
    true = list(g.integers(0, k, n))
    T = _onehot(true, k)
    got = aucMetric(AverageType=average).evaluate(scores, T)
    if average == "micro":
        expect = _naive_auc(scores.ravel().tolist(), T.ravel().tolist())
    else:
        per = [_naive_auc(scores[c].tolist(), T[c].tolist()) for c in range(k)]
        ok = [c for c in range(k) if not math.isnan(per[c])]
        w = [1.0 if average == "macro" else true.count(c) for c in ok]
        expect = sum(per[c] * wi for c, wi in zip(ok, w)) / sum(w) if ok else math.nan
    assert got == pytest.approx(expect, abs=1e-12, nan_ok=True)


def test_accuracy_top_k_and_rmse():
    scores = np.array([[0.1, 0.5, 0.2], [0.3, 0.4, 0.7], [0.6, 0.1, 0.1]])
    T = _onehot([0, 1, 2], 3)
    assert accuracyMetric().evaluate(scores, T) == 0                      # argmax 2, 0, 1 vs 0, 1, 2
    assert accuracyMetric().evaluate(scores, _onehot([2, 0, 0], 3)) == pytest.approx(200 / 3)
    top2 = [sorted(range(3), key=lambda c: -scores[c, n])[:2] for n in range(3)]
    expect = 100 * np.mean([t in top for t, top in zip([0, 1, 2], top2)])
    assert accuracyMetric(NumTopKClasses=2).evaluate(scores, T) == pytest.approx(expect)
    Y, R = np.array([[1.0, 2.0], [3.0, 5.0]]), np.array([[1.5, 2.0], [2.0, 5.0]])
    assert rmseMetric().evaluate(Y, R) == pytest.approx(math.sqrt((0.25 + 1.0) / 4))
    assert not rmseMetric().Maximize and fScoreMetric().Maximize


def test_properties_defaults_validation_and_display():
    f = fScoreMetric()
    assert (f.Name, f.AverageType, f.ClassificationMode, f.NetworkOutput) == ("FScore", "micro", "single-label", None)
    assert (accuracyMetric().Name, aucMetric().Name, rmseMetric().Name) == ("Accuracy", "AUC", "RMSE")
    assert fScoreMetric(AverageType="mac").AverageType == "macro"
    assert "AverageType: \"micro\"" in repr(f) and "Maximize: true" in repr(f)
    with pytest.raises(MException, match="AverageType"):
        fScoreMetric(AverageType="median")
    with pytest.raises(MException, match="NumTopKClasses must be a positive integer"):
        accuracyMetric(NumTopKClasses=0)
    with pytest.raises(MException, match="Metrics must be empty, a metric name"):
        lg.trainingOptions("adam", Metrics=[3])
    o = lg.trainingOptions("adam", Metrics=["fscore", aucMetric(AverageType="macro")], ObjectiveMetricName="AUC")
    assert o.Metrics[0] == "fscore" and o.ObjectiveMetricName == "AUC"
    assert lg.trainingOptions("adam", OutputNetwork="best-validation", ValidationData=(np.zeros((1, 1, 1, 1)), [1])
                              ).OutputNetwork == "best-validation"
    with pytest.raises(MException, match="requires ValidationData"):
        lg.trainingOptions("adam", OutputNetwork="best-validation")


CLASSES = ["a", "b", "c"]


def _layers():
    return [lg.imageInputLayer([4, 4, 1], Normalization="none"), lg.convolution2dLayer(3, 3, Padding="same"),
            lg.reluLayer(), lg.globalAveragePooling2dLayer(), lg.fullyConnectedLayer(3), lg.softmaxLayer()]


def _data(n, seed):
    g = np.random.default_rng(seed)
    X = g.standard_normal((4, 4, 1, n)).astype(np.float32)
    return X, pd.Categorical(np.array(CLASSES)[g.integers(0, 3, n)], categories=CLASSES)


def test_trainnet_metrics_columns_objective_and_best_validation():
    X, Y = _data(24, 0)
    XV, YV = _data(12, 1)
    opts = lg.trainingOptions("sgdm", MaxEpochs=3, MiniBatchSize=6, Shuffle="never", Verbose=False,
                              InitialLearnRate=0.2, ValidationData=(XV, YV), ValidationFrequency=2,
                              Metrics=["fscore", "auc", precisionMetric(Name="P"), "recall"],
                              ObjectiveMetricName="auc", OutputNetwork="best-validation",
                              ExecutionEnvironment="cpu")
    lg.rng(3)
    net, info = lg.trainnet(X, Y, _layers(), "crossentropy", opts)
    cols = list(info.ValidationHistory.columns)
    assert cols == ["Iteration", "Loss", "ValidationFScore", "ValidationAUC", "ValidationP", "ValidationRecall"]
    hist = info.ValidationHistory[info.ValidationHistory.Iteration > 0]
    best = hist.Iteration[hist.ValidationAUC.idxmax()]
    assert info.OutputNetworkIteration == best
    # the returned network is the one of that iteration: its validation AUC is the best one
    scores = np.asarray(net.predict(XV))
    T = _onehot([CLASSES.index(c) for c in YV], 3)
    assert aucMetric().evaluate(scores, T) == pytest.approx(hist.ValidationAUC.max(), abs=1e-6)
    assert lg.testnet(net, XV, YV, ["auc", fScoreMetric()])[0] == pytest.approx(hist.ValidationAUC.max(), abs=1e-6)
    with pytest.raises(MException, match="ObjectiveMetricName must be"):
        lg.trainnet(X, Y, _layers(), "crossentropy", lg.trainingOptions("sgdm", Metrics="fscore",
                                                                        ObjectiveMetricName="accuracy"))


def test_trainnetwork_accepts_best_validation():
    X, Y = _data(12, 2)
    layers = _layers() + [lg.classificationLayer()]
    opts = lg.trainingOptions("sgdm", MaxEpochs=2, MiniBatchSize=6, Shuffle="never", Verbose=False,
                              ValidationData=(X, Y), ValidationFrequency=1, OutputNetwork="best-validation",
                              ExecutionEnvironment="cpu")
    lg.rng(1)
    _, info = lg.trainNetwork(X, Y, layers, opts)
    assert info.OutputNetworkIteration == int(np.nanargmin(info.ValidationLoss)) + 1
