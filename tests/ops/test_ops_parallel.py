"""_parallel: thread count, work split, errors; threaded ops give bit-identical results."""
import os
import threading
import time

import numpy as np
import pytest

from layergraph.ops import activation, batchnorm, pooling
from layergraph.ops._cpu import blas_threads as _blas_threads, parallel as _parallel


def test_thread_count_setting_and_default(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    monkeypatch.setenv("LAYERGRAPH_NUM_THREADS", "5")
    assert _parallel.num_threads() == 5
    for value in ("junk", "0", "-2", "1.5"):
        monkeypatch.setenv("LAYERGRAPH_NUM_THREADS", value)
        with pytest.raises(ValueError, match=r"LAYERGRAPH_NUM_THREADS must be a positive "
                                             r"integer.*Received: LAYERGRAPH_NUM_THREADS='"):
            _parallel.num_threads()
    monkeypatch.setenv("LAYERGRAPH_NUM_THREADS", " 2 ")
    assert _parallel.num_threads() == 2
    monkeypatch.delenv("LAYERGRAPH_NUM_THREADS")
    monkeypatch.setattr(_parallel.os, "sched_getaffinity", lambda pid: set(range(8)))
    monkeypatch.setattr(_parallel, "cgroup_cpu_quota", lambda: None)      # no container quota
    monkeypatch.setattr(_blas_threads, "available", lambda: True)
    _parallel._default_threads.cache_clear()
    assert _parallel.num_threads() == 3                      # the cores, capped by OMP
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    assert _parallel.num_threads() == 2                      # ... and by OpenBLAS's variable
    monkeypatch.delenv("OMP_NUM_THREADS")
    monkeypatch.delenv("OPENBLAS_NUM_THREADS")
    assert _parallel.num_threads() == 8                      # every usable core
    monkeypatch.setattr(_blas_threads, "available", lambda: False)
    _parallel._default_threads.cache_clear()
    assert _parallel.num_threads() == 1      # no per-thread BLAS control: BLAS threads alone
    _parallel._default_threads.cache_clear()


def test_split_covers_every_index_once(monkeypatch):
    monkeypatch.setenv("LAYERGRAPH_NUM_THREADS", "3")
    parts = _parallel.split(200_001)
    assert len(parts) == 3 and parts[0].start == 0 and parts[-1].stop == 200_001
    assert all(a.stop == b.start for a, b in zip(parts[:-1], parts[1:]))
    assert _parallel.split(100) == [slice(0, 100)]


def test_run_does_every_item_and_reraises(monkeypatch):
    monkeypatch.setenv("LAYERGRAPH_NUM_THREADS", "4")
    done = np.zeros(10)
    _parallel.run(lambda i: done.__setitem__(i, i + 1), range(10))
    np.testing.assert_array_equal(done, np.arange(1, 11))

    def fail(i):
        if i == 3:
            raise ValueError("item 3")
    with pytest.raises(ValueError, match="item 3"):
        _parallel.run(fail, range(6))


def test_the_calling_thread_works_beside_the_pool(monkeypatch):
    monkeypatch.setenv("LAYERGRAPH_NUM_THREADS", "2")
    barrier = threading.Barrier(2, timeout=5)        # times out unless both items run at once

    def item(i):
        barrier.wait()
        return threading.get_ident()
    first, second = _parallel.run(item, [0, 1])
    assert first == threading.get_ident() and second != first


def test_no_item_starts_after_a_failure(monkeypatch):
    """Item 0 (the calling thread's) fails once item 1 runs on the pool; the items nobody had
    claimed yet never start, and run returns only after item 1 has finished."""
    monkeypatch.setenv("LAYERGRAPH_NUM_THREADS", "2")
    started, finished, second_started = [], [], threading.Event()

    def item(i):
        started.append(i)
        if i == 0:
            assert second_started.wait(5)
            raise ValueError("item 0 failed")
        second_started.set()
        time.sleep(0.2)
        finished.append(i)
    with pytest.raises(ValueError, match="item 0 failed"):
        _parallel.run(item, range(8))
    assert sorted(started) == [0, 1] and finished == [1]


def _ops(x, dy_pool, dy):
    y, cache = pooling.max_pool_forward(x, (3, 3, 3), (2, 2, 2), ((0, 1),) * 3)
    results = [y, pooling.max_pool_backward(dy_pool, cache)]
    yb, cache_b, stats = batchnorm.batchnorm_forward(x, np.full(4, 1.5, np.float32),
                                                     np.full(4, 0.5, np.float32), 1e-5, True)
    results += [yb, *stats, *batchnorm.batchnorm_backward(dy, cache_b)]
    yi, cache_i, _ = batchnorm.batchnorm_forward(x, np.full(4, 1.5, np.float32),
                                                 np.full(4, 0.5, np.float32), 1e-5, False,
                                                 stats[0], stats[1])
    results += [yi, *batchnorm.batchnorm_backward(dy, cache_i)]
    results.append(pooling.max_pool_forward(x, (3, 3, 3), (2, 2, 2), ((0, 1),) * 3,
                                            keep_argmax=False)[0])
    yr, cache_r = activation.relu_forward(x - 0.5)
    return results + [yr, activation.relu_backward(dy, cache_r)]


def test_threaded_ops_match_single_threaded_bit_for_bit(rng, monkeypatch):
    monkeypatch.setattr(_parallel, "MIN_SPLIT_ELEMENTS", 1000)
    monkeypatch.setattr(pooling, "BLOCK_BYTES", 4096)
    monkeypatch.setattr(batchnorm, "BLOCK_BYTES", 4096)
    x = rng.random((4, 3, 9, 10, 8)).astype(np.float32)
    dy_pool = rng.random((4, 3, 4, 5, 4)).astype(np.float32)
    dy = rng.random(x.shape).astype(np.float32)
    monkeypatch.setenv("LAYERGRAPH_NUM_THREADS", "1")
    serial = _ops(x, dy_pool, dy)
    monkeypatch.setenv("LAYERGRAPH_NUM_THREADS", "3")
    threaded = _ops(x, dy_pool, dy)
    for a, b in zip(serial, threaded):
        np.testing.assert_array_equal(a, b)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork (POSIX)")
def test_a_forked_child_gets_a_working_pool(monkeypatch):
    """After a fork (multiprocessing's default on Linux) the parent's pool threads do not exist
    in the child; the child must start its own pool instead of waiting on dead threads."""
    import multiprocessing

    monkeypatch.setenv("LAYERGRAPH_NUM_THREADS", "2")
    done = np.zeros(4)
    _parallel.run(lambda i: done.__setitem__(i, 1), range(4))      # the parent's pool exists
    assert done.all()
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_child_runs_pool, args=(queue,))
    child.start()
    child.join(30)
    alive = child.is_alive()
    if alive:
        child.kill()
    assert not alive and queue.get(timeout=5) == [0, 1, 4, 9]


def _child_runs_pool(queue):
    out = [0] * 4
    _parallel.run(lambda i: out.__setitem__(i, i * i), range(4))
    queue.put(out)


def test_a_container_cpu_quota_caps_the_default(tmp_path, monkeypatch):
    """cgroup v2 ``cpu.max`` and v1 ``cfs_quota_us``/``cfs_period_us``: a quota of 1.5 CPUs
    allows 2 threads; "max" / -1 means no quota; the default takes the smaller of cores and
    quota."""
    v2 = tmp_path / "cpu.max"
    monkeypatch.setattr(_parallel, "_CGROUP_FILES", (str(v2),))
    for text, expected in (("150000 100000\n", 2), ("200000 100000", 2), ("50000 100000", 1),
                           ("max 100000", None), ("junk", None)):
        v2.write_text(text)
        assert _parallel.cgroup_cpu_quota() == expected, text
    v1 = tmp_path / "cpu.cfs_quota_us"
    (tmp_path / "cpu.cfs_period_us").write_text("100000\n")
    monkeypatch.setattr(_parallel, "_CGROUP_FILES", (str(tmp_path / "absent"), str(v1)))
    v1.write_text("300000\n")
    assert _parallel.cgroup_cpu_quota() == 3
    v1.write_text("-1\n")
    assert _parallel.cgroup_cpu_quota() is None
    v1.write_text("300000\n")
    monkeypatch.delenv("LAYERGRAPH_NUM_THREADS", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    monkeypatch.setattr(_parallel.os, "sched_getaffinity", lambda pid: set(range(64)))
    monkeypatch.setattr(_blas_threads, "available", lambda: True)
    _parallel._default_threads.cache_clear()
    assert _parallel.num_threads() == 3
    _parallel._default_threads.cache_clear()
