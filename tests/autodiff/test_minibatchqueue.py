"""minibatchqueue over array datastores: sizes, formats, partial batches, MiniBatchFcn, shuffle/reset."""
import numpy as np
import pandas as pd
import pytest

import layergraph as lg
from layergraph.layers.errors import MException


def _queue(**kw):
    X = np.arange(2 * 2 * 1 * 10, dtype=np.float64).reshape(2, 2, 1, 10)
    labels = pd.Categorical(list("abcabcabca"))
    ds = lg.combine(lg.arrayDatastore(X, IterationDimension=4), lg.arrayDatastore(labels))
    return lg.minibatchqueue(ds, **kw), X, labels


def test_batches_formats_and_partial_batch():
    mbq, X, labels = _queue(MiniBatchSize=4, MiniBatchFormat=["SSCB", ""], OutputEnvironment="cpu")
    sizes, seen = [], []
    while lg.hasdata(mbq):
        Xb, Tb = next(mbq)
        assert isinstance(Xb, lg.dlarray) and lg.dims(Xb) == "SSCB" and Xb.dtype == np.float32
        assert isinstance(Tb, pd.Categorical)
        sizes.append(Xb.shape[-1])
        seen.append(lg.extractdata(Xb))
    assert sizes == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate(seen, axis=3), X.astype(np.float32))
    with pytest.raises(MException) as err:
        mbq.next()
    assert err.value.identifier == "MATLAB:minibatchqueue:NoMoreData"
    lg.reset(mbq)
    assert lg.hasdata(mbq)


def test_discard_partial_shuffle_and_minibatchfcn():
    def preprocess(xs, ts):
        X = np.stack(xs, axis=3) / 10                      # MATLAB: cat(4, xs{:})
        return X, lg.onehotencode(pd.Categorical([str(t) for t in ts], categories=list("abc")), 1)
    mbq, X, _ = _queue(MiniBatchSize=4, PartialMiniBatch="discard", MiniBatchFcn=preprocess,
                       MiniBatchFormat=("SSCB", "CB"), OutputEnvironment="cpu")
    batches = []
    while lg.hasdata(mbq):
        batches.append(next(mbq))
    assert len(batches) == 2 and lg.dims(batches[0][1]) == "CB" and batches[0][1].shape == (3, 4)
    lg.rng(0)
    lg.shuffle(mbq)
    Xs, _ = next(mbq)
    assert not np.array_equal(lg.extractdata(Xs), lg.extractdata(batches[0][0]))


def test_numeric_array_and_bad_input():
    mbq = lg.minibatchqueue(np.ones((3, 7)), MiniBatchSize=5, OutputEnvironment="cpu")
    assert next(mbq).shape == (3, 5)
    with pytest.raises(MException):
        lg.minibatchqueue("data")
    with pytest.raises(MException):
        lg.minibatchqueue(np.ones((3, 7)), MiniBatchFormat=["CB", "CB"])
