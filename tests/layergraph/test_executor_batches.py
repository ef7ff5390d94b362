"""Executor.map_batches: independent mini-batches on the CPU cores, same results as one by one;
the BN statistics pass without caches; predict / population pass / validation agree with the
serial run."""
from __future__ import annotations

import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from layergraph.training import setup as _train_setup
from layergraph.runtime.executor import Executor
from layergraph.networks.dag_network import run_in_batches
import layergraph as lg
from layergraph.ops._cpu import blas_threads as _blas_threads, memory as _memory
from test_executor_support import small_resnet

needs_threads = pytest.mark.skipif(not _blas_threads.available(),
                                   reason="no per-thread BLAS control: batches run serially")


def _threads_seen(ex: Executor, count: int) -> set[int]:
    barrier = threading.Barrier(2, timeout=5)     # two batches must be in flight at once

    def task(i: int) -> int:
        if count > 1:
            barrier.wait()
        return threading.get_ident()

    return set(ex.map_batches(task, range(count)))


@needs_threads
def test_batches_run_concurrently_on_the_cpu_with_threads(monkeypatch):
    monkeypatch.setenv("LAYERGRAPH_NUM_THREADS", "2")
    ex = Executor(small_resnet())
    assert len(_threads_seen(ex, 2)) == 2          # the barrier would time out if serial
    assert ex.map_batches(lambda i: i * i, range(5)) == [0, 1, 4, 9, 16]    # in order


def test_batches_run_one_by_one_with_one_thread_or_one_batch(monkeypatch):
    ex = Executor(small_resnet())
    monkeypatch.setenv("LAYERGRAPH_NUM_THREADS", "1")
    assert _threads_seen(ex, 1) == {threading.get_ident()}
    assert ex.map_batches(lambda i: threading.get_ident(), range(3)) == [threading.get_ident()] * 3
    monkeypatch.setenv("LAYERGRAPH_NUM_THREADS", "2")
    assert ex.map_batches(lambda i: threading.get_ident(), [0]) == [threading.get_ident()]


@needs_threads
def test_batches_run_one_by_one_when_memory_or_cores_would_be_short(monkeypatch):
    """Concurrent batches each hold their activations: not above a quarter of the available
    memory, nor with unknown sizes; fewer batches than threads keep the ops' own threads."""
    monkeypatch.setenv("LAYERGRAPH_NUM_THREADS", "2")
    ex = Executor(small_resnet())
    me = threading.get_ident()

    def idents(batch_bytes, count=2):
        return set(ex.map_batches(lambda i: threading.get_ident(), range(count), batch_bytes))

    monkeypatch.setattr(_memory, "available_bytes", lambda: 4000)
    assert len(idents(1000)) == 2                    # 1000 extra bytes <= 4000 / 4: both threads
    assert idents(1001) == {me}
    assert idents(None) == {me}                      # sizes unknown
    monkeypatch.setattr(_memory, "available_bytes", lambda: None)
    assert idents(1) == {me}                         # memory unknown: only negligible batches
    assert len(idents(0)) == 2
    monkeypatch.setenv("LAYERGRAPH_NUM_THREADS", "3")
    assert idents(0) == {me}                         # 2 batches, 3 threads


def test_activation_bytes_follow_the_live_activations():
    """in (4x4x4x2 = 128 per obs) -> conv (192) -> relu (192) -> gap (3) -> fc (2) -> softmax:
    the most held at once is the conv output and the relu output (384 values per observation)."""
    layers = [lg.image3dInputLayer([4, 4, 4, 2], Normalization="none", Name="in"),
              lg.convolution3dLayer(3, 3, Padding="same", Name="conv"), lg.reluLayer(Name="relu"),
              lg.globalAveragePooling3dLayer(Name="gap"), lg.fullyConnectedLayer(2, Name="fc"),
              lg.softmaxLayer(Name="sm")]
    from test_executor_support import _initialized_graph
    ex = Executor(_initialized_graph(lg.layerGraph(layers), np.random.default_rng(0)))
    assert ex.activation_bytes(5, ["sm"]) == 384 * 5 * 4
    assert ex.activation_bytes(1, ["conv"]) == (128 + 192) * 4
    # conv output kept to the end: at gap, conv + relu + gap outputs are held
    assert ex.activation_bytes(1, ["conv", "sm"]) == (192 + 192 + 3) * 4


def test_a_failing_batch_raises(monkeypatch):
    monkeypatch.setenv("LAYERGRAPH_NUM_THREADS", "2")
    ex = Executor(small_resnet())

    def task(i):
        if i == 2:
            raise ValueError("batch 2 is bad")
        return i

    with pytest.raises(ValueError, match="batch 2 is bad"):
        ex.map_batches(task, range(4))


def test_statistics_pass_keeps_no_caches_and_the_same_statistics():
    ex = Executor(small_resnet(), dtype=np.float64)
    x = np.random.default_rng(1).standard_normal((2, 4, 6, 6, 5))
    full = ex.forward(x, training=True)
    light = ex.forward(x, training=True, keep_caches=False)
    assert full.caches and not light.caches
    assert light.state_update.keys() == full.state_update.keys()
    for key, value in full.state_update.items():
        np.testing.assert_array_equal(light.state_update[key], value)


@needs_threads
@pytest.mark.parametrize("batch", [1, 2, 3, 128])
def test_threaded_batches_give_the_serial_results(batch, monkeypatch):
    """predict (run_in_batches), validation (evaluate) and the BN population pass (batch 128:
    one MiniBatchSize chunk, cut into one share per thread for inference only)."""
    rng = np.random.default_rng(2)
    X = rng.standard_normal((6, 6, 5, 2, 7)).astype(np.float32)     # MATLAB layout, 7 obs
    Xint = np.ascontiguousarray(np.moveaxis(X, (3, 4), (0, 1)))
    T = np.eye(3, dtype=np.float32)[:, rng.integers(0, 3, 7)]
    results = {}
    for threads in ("1", "2"):
        monkeypatch.setenv("LAYERGRAPH_NUM_THREADS", threads)
        ex = Executor(small_resnet())
        scores = run_in_batches(ex, X, 3, ["sm"], batch)["sm"]
        loss_acc = _train_setup.evaluate(ex, Xint, T, batch, True)
        _train_setup.batchnorm_population_pass(ex, Xint, batch)
        results[threads] = (np.concatenate([s.reshape(3, -1) for s in scores], axis=1), loss_acc,
                            {k: v for k, v in ex.state.items() if k[1] == "TrainedMean"})
    serial, threaded = results["1"], results["2"]
    assert serial[0].shape == (3, 7)
    np.testing.assert_allclose(threaded[0], serial[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(threaded[1], serial[1], rtol=1e-5)
    assert threaded[2].keys() == serial[2].keys() and serial[2]
    for key, value in serial[2].items():
        np.testing.assert_allclose(threaded[2][key], value, rtol=1e-5, atol=1e-6)


def test_statistics_pass_runs_max_pooling_as_in_inference(monkeypatch):
    """Max pooling's training forward only adds argmax bookkeeping: a statistics pass skips it
    (the pooled values and every BN statistic are the same); BN keeps batch statistics."""
    from layergraph.layers.normalization import BatchNormalizationLayer
    from layergraph.layers.pooling import MaxPoolingLayer
    from test_executor_support import _initialized_graph

    lgraph = lg.resnet3dLayers([8, 8, 8, 1], 3, InitialFilterSize=3, InitialStride=1,
                               InitialNumFilters=4, BottleneckType="none", StackDepth=[1, 1],
                               NumFilters=[4, 8])
    ex = Executor(_initialized_graph(lgraph, np.random.default_rng(0)), dtype=np.float64)
    seen = []
    for cls in (MaxPoolingLayer, BatchNormalizationLayer):
        def spy(layer, params, xs, ctx, _original=cls.forward, **fusion):
            seen.append((type(layer).__name__, ctx.training))
            return _original(layer, params, xs, ctx, **fusion)
        monkeypatch.setattr(cls, "forward", spy)
    x = np.random.default_rng(1).standard_normal((1, 3, 8, 8, 8))
    full = ex.forward(x, training=True)
    assert ("MaxPooling3DLayer", True) in seen
    seen.clear()
    light = ex.forward(x, training=True, keep_caches=False)
    assert ("MaxPooling3DLayer", False) in seen and ("MaxPooling3DLayer", True) not in seen
    assert ("BatchNormalizationLayer", True) in seen
    for key, value in full.state_update.items():
        np.testing.assert_array_equal(light.state_update[key], value)
    for name, y in full.outputs.items():
        np.testing.assert_array_equal(light.outputs[name], y)


@pytest.mark.parametrize("threads, count, batch, expected", [
    ("2", 8, 128, [(0, 4), (4, 8)]),                    # one chunk, two threads: two shares
    ("2", 1, 128, [(0, 1)]),
    ("2", 300, 128, [(0, 128), (128, 256), (256, 300)]),  # enough chunks: MiniBatchSize order
    ("4", 130, 128, [(0, 32), (32, 65), (65, 97), (97, 130)]),
    ("1", 8, 3, [(0, 3), (3, 6), (6, 8)]),
])
def test_inference_batches(threads, count, batch, expected, monkeypatch):
    monkeypatch.setenv("LAYERGRAPH_NUM_THREADS", threads)
    monkeypatch.setattr(_blas_threads, "available", lambda: True)
    ex = Executor(small_resnet())
    assert [(p.start, p.stop) for p in ex.inference_batches(count, batch)] == expected


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 8), st.integers(1, 600), st.integers(1, 200))
def test_inference_batches_cover_the_data_in_order_within_the_batch_size(threads, count, batch):
    import os
    old = os.environ.get("LAYERGRAPH_NUM_THREADS")
    os.environ["LAYERGRAPH_NUM_THREADS"] = str(threads)
    try:
        parts = _EXECUTOR.inference_batches(count, batch)
    finally:
        if old is None:
            del os.environ["LAYERGRAPH_NUM_THREADS"]
        else:
            os.environ["LAYERGRAPH_NUM_THREADS"] = old
    assert parts[0].start == 0 and parts[-1].stop == count
    assert all(a.stop == b.start for a, b in zip(parts[:-1], parts[1:]))
    assert all(0 < p.stop - p.start <= batch for p in parts)


_EXECUTOR = Executor(small_resnet())
