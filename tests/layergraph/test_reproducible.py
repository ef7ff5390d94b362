"""What is reproducible bit for bit (docs/matlab-differences.md, "Reproducible results"): the same
network (or its saved and loaded copy), input, MiniBatchSize and thread count give the same bits
on every call, whatever BLAS thread count the process had set and however much memory is free.
What is not: another MiniBatchSize, another thread count, or an observation predicted in another
batch may change the results in float32 rounding (BLAS sums in a shape-dependent order)."""
from __future__ import annotations

import numpy as np
import pytest

import layergraph as lg
from layergraph.ops._cpu import blas_threads as _blas_threads, memory as _memory
from test_executor_support import small_resnet

needs_threads = pytest.mark.skipif(not _blas_threads.available(),
                                   reason="no OpenBLAS thread control: the ops run on one thread")


def _data(count: int = 9) -> np.ndarray:
    return np.random.default_rng(5).standard_normal((6, 6, 5, 2, count)).astype(np.float32)


@needs_threads
@pytest.mark.parametrize("threads", ["1", "2"])
def test_same_network_input_and_threads_give_the_same_bits_every_time(threads, monkeypatch,
                                                                       tmp_path):
    monkeypatch.setenv("LAYERGRAPH_NUM_THREADS", threads)
    net, X = lg.assembleNetwork(small_resnet()), _data()
    set_blas = _blas_threads._functions()["set"]
    before = _blas_threads.get_num_threads()
    first = net.predict(X)
    calls = [net.predict(X) for _ in range(3)]
    assert _blas_threads.get_num_threads() == before     # the user's setting is left as it was
    try:
        set_blas(1)                                       # another process-wide BLAS setting
        calls.append(net.predict(X))
        set_blas(3)
        calls.append(net.predict(X))
    finally:
        set_blas(before)
    largest = max(p.stop - p.start for p in net.executor.inference_batches(9, 128))
    just_enough = net.executor.activation_bytes(largest) + X[..., :largest].nbytes
    monkeypatch.setattr(_memory, "available_bytes", lambda: just_enough)  # batches one by one
    calls.append(net.predict(X))
    monkeypatch.undo()
    monkeypatch.setenv("LAYERGRAPH_NUM_THREADS", threads)
    path = tmp_path / "net.lgnet"
    lg.saveNetwork(net, str(path))
    calls += [lg.loadNetwork(str(path)).predict(X) for _ in range(2)]
    for result in calls:
        np.testing.assert_array_equal(result, first)


@needs_threads
def test_training_twice_from_the_same_seed_gives_the_same_bits(monkeypatch):
    monkeypatch.setenv("LAYERGRAPH_NUM_THREADS", "2")
    X = _data(12)
    Y = np.array(["k0", "k1", "k2"] * 4)
    layers = small_resnet()
    options = lg.trainingOptions("adam", MaxEpochs=2, MiniBatchSize=4, Verbose=False,
                                 ValidationData=(X[..., :6], Y[:6]), ValidationFrequency=2)
    runs = []
    for _ in range(2):
        lg.rng(3)
        net, info = lg.trainNetwork(X, Y, layers, options)
        runs.append((net.predict(X), info.TrainingLoss, info.ValidationLoss))
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


@needs_threads
def test_batch_and_thread_count_change_results_only_in_float32_rounding(monkeypatch):
    """Not bit-identical (documented): each within float32 rounding of the others."""
    X = _data()
    monkeypatch.setenv("LAYERGRAPH_NUM_THREADS", "1")
    net = lg.assembleNetwork(small_resnet())
    reference = net.predict(X)
    variants = {"one at a time": np.concatenate([net.predict(X[..., i]) for i in range(9)]),
                "MiniBatchSize=2": net.predict(X, MiniBatchSize=2)}
    monkeypatch.setenv("LAYERGRAPH_NUM_THREADS", "2")
    variants["two threads"] = lg.assembleNetwork(small_resnet()).predict(X)
    for name, scores in variants.items():
        np.testing.assert_allclose(scores, reference, rtol=1e-5, atol=1e-6, err_msg=name)
