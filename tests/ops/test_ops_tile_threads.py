"""_blas_threads (ctypes OpenBLAS control, fails soft, restores) and _tile_threads (conv tiles on
threads with one BLAS thread each): threaded results equal serial ones."""
import threading

import numpy as np
import pytest

from layergraph.ops import convolution
from layergraph.ops._cpu import (blas_threads as _blas_threads, parallel as _parallel,
                                 tile_threads as _tile_threads)
from layergraph.ops.convolution import plane_shifts as _plane_shifts
from layergraph.ops.convolution import select as conv_select


@pytest.fixture
def no_openblas(monkeypatch):
    monkeypatch.setattr(_blas_threads, "_STATE", {"searched": False, "get": None, "set": None,
                                                  "local": None})

    def unreadable(*args, **kwargs):
        raise OSError("no /proc here")
    monkeypatch.setattr(_blas_threads, "open", unreadable, raising=False)


def test_without_openblas_everything_is_a_no_op(no_openblas, monkeypatch):
    assert _blas_threads.get_num_threads() is None
    assert _blas_threads.available() is False
    with _blas_threads.single_threaded() as took_effect:
        assert took_effect is False
    monkeypatch.setenv("LAYERGRAPH_NUM_THREADS", "2")
    assert _tile_threads.num_threads() == 1          # tiles stay serial, BLAS as configured


needs_openblas = pytest.mark.skipif(not _blas_threads.available(),
                                    reason="NumPy's BLAS is not OpenBLAS >= 0.3.27")


@needs_openblas
def test_single_threaded_sets_one_thread_and_restores_the_users_count():
    before = _blas_threads.get_num_threads()
    with _blas_threads.single_threaded() as took_effect:
        assert took_effect and _blas_threads.get_num_threads() == 1
        with _blas_threads.single_threaded():
            assert _blas_threads.get_num_threads() == 1
        assert _blas_threads.get_num_threads() == 1
    assert _blas_threads.get_num_threads() == before
    with pytest.raises(RuntimeError):
        with _blas_threads.single_threaded():
            raise RuntimeError("restored even on errors")
    assert _blas_threads.get_num_threads() == before


@needs_openblas
def test_one_blas_thread_until_the_last_block_of_any_thread_ends():
    """OpenBLAS's count is process-wide: a block ending in one thread must not give the other
    thread's running block its BLAS threads back (the count drifted from call to call, and
    the first predict differed from later ones)."""
    set_count = _blas_threads._functions()["set"]
    set_count(2)
    entered, leave = threading.Event(), threading.Event()

    def other_block():
        with _blas_threads.single_threaded():
            entered.set()
            leave.wait(5)

    try:
        with _blas_threads.single_threaded():
            worker = threading.Thread(target=other_block)
            worker.start()
            assert entered.wait(5)
        assert _blas_threads.get_num_threads() == 1       # the other block still runs
        leave.set()
        worker.join(5)
        assert _blas_threads.get_num_threads() == 2       # the last one restored it
    finally:
        leave.set()
        set_count(2)


@needs_openblas
def test_nested_and_concurrent_blocks_make_no_library_call(monkeypatch):
    real, calls = _blas_threads._functions()["local"], []

    def counted(value):
        calls.append(value.value)
        return real(value)
    monkeypatch.setitem(_blas_threads._STATE, "local", counted)
    before = _blas_threads.get_num_threads()
    with _blas_threads.single_threaded():
        with _blas_threads.single_threaded():
            _parallel.run(lambda i: None, range(4), threads=2)     # workers hold blocks too
    assert calls == ([1, before] if before != 1 else [1])


def test_groups_are_contiguous_and_cover_every_tile():
    assert _tile_threads.groups(list(range(7)), 3) == [[0, 1], [2, 3], [4, 5, 6]]
    assert _tile_threads.groups([1], 4) == [[1]]


def test_nested_parallel_run_is_serial_instead_of_deadlocking(monkeypatch):
    monkeypatch.setenv("LAYERGRAPH_NUM_THREADS", "2")
    done = np.zeros((2, 3))

    def outer(i):
        _parallel.run(lambda j: done.__setitem__((i, j), 1), range(3))
    worker = threading.Thread(target=_parallel.run, args=(outer, range(2)), daemon=True)
    worker.start()
    worker.join(20)
    assert not worker.is_alive() and done.all()


@pytest.mark.parametrize("filters", [8, 64])          # stacked offsets / one GEMM per offset
def test_threaded_conv_tiles_match_serial(rng, monkeypatch, filters):
    """Bit for bit with stacked offsets; per-offset GEMMs may take another OpenBLAS kernel at
    one BLAS thread than at two (float32 summation order: 1e-6 of the terms' magnitude)."""
    monkeypatch.setattr(conv_select, "THREAD_ABOVE_BYTES", 0)
    monkeypatch.setattr(conv_select, "CACHE_TILE_BYTES", 20_000)     # many tiles
    x = rng.standard_normal((4, 5, 9, 7, 6)).astype(np.float32)
    w = rng.standard_normal((filters, 4, 3, 3, 3)).astype(np.float32)
    dy = rng.standard_normal((filters, 5, 9, 7, 6)).astype(np.float32)
    pad = ((1, 1),) * 3

    def run():
        y, cache = convolution.conv_forward(x, w, None, (1, 1, 1), pad, (1, 1, 1))
        return [y, convolution.conv_backward(dy, cache)[0]]
    monkeypatch.setenv("LAYERGRAPH_NUM_THREADS", "1")
    serial = run()
    monkeypatch.setenv("LAYERGRAPH_NUM_THREADS", "3")
    threaded = run()
    for a, b in zip(serial, threaded):
        if filters < _plane_shifts.STACK_BELOW_FILTERS:
            np.testing.assert_array_equal(a, b)
        else:
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-6 * np.abs(a).max() * 27 * 4)
    np.testing.assert_allclose(serial[0][:, 0, 4, 3, 2],
                               np.einsum("fcijk,cijk->f", w, x[:, 0, 3:6, 2:5, 1:4]), rtol=1e-4)


def test_docstring_examples():
    import doctest

    result = doctest.testmod(_tile_threads)
    assert result.attempted > 0 and result.failed == 0


def _conv_run(x, w, dy, stride, pad):
    y, cache = convolution.conv_forward(x, w, None, stride, pad, (1,) * (x.ndim - 2))
    return [y, *convolution.conv_backward(dy, cache, (True, True, False))[:2]]


@pytest.mark.parametrize("case", [
    # (C, F, kernel, stride, pad): the full-im2col path (1 input channel, as a first conv),
    # the col2im dx of a strided 3x3x3, and 1x1 convolutions (plain and strided GEMMs)
    (1, 8, 3, 1, 1), (4, 6, 3, 2, 1), (6, 5, 1, 1, 0), (6, 5, 1, 2, 0)])
def test_every_threaded_conv_path_matches_serial(rng, monkeypatch, case):
    """Forward, dx and dW with 3 threads (tiles / column ranges per thread, dW partial sums
    added) against 1 thread; dW differs only by float32 summation order."""
    from layergraph.ops.convolution import pointwise as _pointwise_conv

    c, f, k, s, p = case
    monkeypatch.setattr(conv_select, "THREAD_ABOVE_BYTES", 0)
    monkeypatch.setattr(conv_select, "CACHE_TILE_BYTES", 6_000)      # many tiles
    monkeypatch.setattr(_pointwise_conv, "SPLIT_ABOVE_BYTES", 0)
    x = rng.standard_normal((c, 5, 9, 7, 6)).astype(np.float32)
    w = rng.standard_normal((f, c, k, k, k)).astype(np.float32)
    out = [(n + 2 * p - k) // s + 1 for n in x.shape[2:]]
    dy = rng.standard_normal((f, 5, *out)).astype(np.float32)
    pad, stride = ((p, p),) * 3, (s,) * 3
    monkeypatch.setenv("LAYERGRAPH_NUM_THREADS", "1")
    serial = _conv_run(x, w, dy, stride, pad)
    monkeypatch.setenv("LAYERGRAPH_NUM_THREADS", "3")
    calls = []
    original = _parallel.run
    monkeypatch.setattr(_parallel, "run", lambda *a, **kw: calls.append(1) or original(*a, **kw))
    threaded = _conv_run(x, w, dy, stride, pad)
    assert calls, "the threaded paths were not taken"
    for a, b in zip(serial, threaded):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-5 * np.abs(a).max())
    ref = np.einsum("fcijk,cijk->f", w, np.pad(x, ((0, 0), (0, 0)) + ((p, p),) * 3)[:, 0, :k, :k, :k])
    np.testing.assert_allclose(threaded[0][:, 0, 0, 0, 0], ref, rtol=1e-4, atol=1e-5)


def test_blas_runs_single_threaded_inside_a_threaded_conv(monkeypatch):
    """With more than one thread the conv's calling thread holds one BLAS thread (OpenBLAS's own
    pool would compete with ours), and the setting is restored afterwards."""
    seen = []
    monkeypatch.setenv("LAYERGRAPH_NUM_THREADS", "2")
    real = _blas_threads.single_threaded

    def spy():
        seen.append(1)
        return real()
    monkeypatch.setattr(_blas_threads, "single_threaded", spy)
    x = np.ones((2, 1, 4, 4, 4), np.float32)
    convolution.conv_forward(x, np.ones((3, 2, 1, 1, 1), np.float32), None, (1,) * 3,
                             ((0, 0),) * 3, (1,) * 3)
    assert seen and seen[0] == 1
    seen.clear()
    monkeypatch.setenv("LAYERGRAPH_NUM_THREADS", "1")
    convolution.conv_forward(x, np.ones((3, 2, 1, 1, 1), np.float32), None, (1,) * 3,
                             ((0, 0),) * 3, (1,) * 3)
    assert not seen


def test_many_threads_get_no_sliver_work(monkeypatch):
    """On a many-core machine each thread gets at least THREAD_ABOVE_BYTES of columns (tiles no
    smaller), each elementwise range at least MIN_SPLIT_ELEMENTS."""
    monkeypatch.setenv("LAYERGRAPH_NUM_THREADS", "64")
    monkeypatch.setattr(_blas_threads, "available", lambda: True)
    x = np.zeros((16, 8, 16, 16, 16), np.float32)
    mib = 2**20
    assert conv_select.tile_thread_count(x, 5 * mib) == 5
    assert conv_select.tile_thread_count(x, mib) == 1
    assert conv_select.tile_thread_count(x, 200 * mib) == 64
    threads = conv_select.tile_thread_count(x, 40 * mib)
    assert threads == 40 and conv_select.tile_budget(40 * mib, threads) >= mib
    assert conv_select.tile_budget(40 * mib, 2) == conv_select.CACHE_TILE_BYTES // 2
    assert len(_parallel.split(5 * _parallel.MIN_SPLIT_ELEMENTS)) == 5
    assert len(_parallel.split(500 * _parallel.MIN_SPLIT_ELEMENTS)) == 64


def test_small_layers_stay_on_the_calling_thread(rng, monkeypatch):
    """A small network's ops must not pay a thread hand-off per kernel offset: below the byte
    thresholds no work item reaches the pool (this once made a tiny network's step 3x slower)."""
    monkeypatch.setenv("LAYERGRAPH_NUM_THREADS", "2")
    dispatched = []
    original = _parallel._as_worker
    monkeypatch.setattr(_parallel, "_as_worker",
                        lambda task, item: dispatched.append(item) or original(task, item))
    x = rng.standard_normal((4, 2, 8, 8, 8)).astype(np.float32)
    for c in (4, 1):                                  # plane-shift and full-im2col paths
        w = rng.standard_normal((8, c, 3, 3, 3)).astype(np.float32)
        y, cache = convolution.conv_forward(x[:c], w, None, (1,) * 3, ((1, 1),) * 3, (1,) * 3)
        convolution.conv_backward(y, cache)
    assert not dispatched


@pytest.mark.parametrize("case", [
    # (spatial sizes, C, F, kernel, stride, dilation, pad): 1-D, 2-D and 3-D geometries through
    # every threaded path, float64, with every threshold at zero so each one threads
    ((11,), 3, 4, (3,), (1,), (2,), ((2, 2),)),
    ((9, 8), 5, 3, (3, 2), (2, 1), (1, 1), ((1, 0), (0, 1))),
    ((6, 7, 5), 4, 5, (3, 3, 3), (1, 2, 1), (1, 1, 2), ((1, 1), (0, 2), (2, 2))),
    ((6, 5, 4), 1, 3, (2, 3, 3), (1, 1, 1), (1, 1, 1), ((0, 1), (1, 1), (1, 1))),
    ((5, 6, 4), 3, 6, (1, 1, 1), (2, 1, 2), (1, 1, 1), ((0, 0), (0, 0), (0, 0)))])
def test_threaded_convolutions_match_the_float64_reference(rng, monkeypatch, case):
    """The default CPU path is threaded: with 3 threads and no size thresholds, forward, dx and
    dW of varied geometries (dilation, asymmetric padding, strides, 1x1) match the loop oracle
    and central differences in float64."""
    from helpers import reference
    from helpers.gradcheck import check_gradients
    from layergraph.ops.convolution import im2col as _im2col, pointwise as _pointwise_conv

    sizes, c, f, kernel, stride, dilation, pad = case
    monkeypatch.setenv("LAYERGRAPH_NUM_THREADS", "3")
    monkeypatch.setattr(conv_select, "THREAD_ABOVE_BYTES", 0)
    monkeypatch.setattr(conv_select, "CACHE_TILE_BYTES", 2_000)
    monkeypatch.setattr(_pointwise_conv, "SPLIT_ABOVE_BYTES", 0)
    monkeypatch.setattr(_im2col, "PARALLEL_COPY_BYTES", 0)
    monkeypatch.setattr(_parallel, "MIN_SPLIT_ELEMENTS", 1)
    dispatched = []
    original = _parallel._as_worker
    monkeypatch.setattr(_parallel, "_as_worker",
                        lambda task, item: dispatched.append(item) or original(task, item))
    x = rng.standard_normal((c, 4) + sizes)
    w = rng.standard_normal((f, c) + kernel)
    b = rng.standard_normal(f)
    y, cache = convolution.conv_forward(x, w, b, stride, pad, dilation)
    assert dispatched, "the forward did not reach the thread pool"
    np.testing.assert_allclose(y, reference.conv(x, w, b, stride, pad, dilation), rtol=1e-10,
                               atol=1e-10)
    dy = rng.standard_normal(y.shape)
    grads = convolution.conv_backward(dy, cache)
    check_gradients(lambda *a: np.vdot(convolution.conv_forward(*a, stride, pad, dilation)[0], dy),
                    (x, w, b), grads, rng)


needs_blas_local = pytest.mark.skipif(not _blas_threads.available(),
                                      reason="NumPy's BLAS is not OpenBLAS >= 0.3.27")


@needs_blas_local
def test_in_pair_runs_both_halves_at_once_on_two_threads(monkeypatch):
    monkeypatch.setenv("LAYERGRAPH_NUM_THREADS", "2")
    barrier = threading.Barrier(2, timeout=5)      # times out unless both run concurrently

    def half(name):
        barrier.wait()
        return name, threading.get_ident()

    (a, ta), (b, tb) = _tile_threads.in_pair(lambda: half("dx"), lambda: half("dw"))
    assert (a, b) == ("dx", "dw") and ta != tb       # the calling thread may be one of them
    with pytest.raises(ValueError, match="second half failed"):
        _tile_threads.in_pair(lambda: 1, lambda: (_ for _ in ()).throw(
            ValueError("second half failed")))


@pytest.mark.parametrize("threads", ["1", "3"])
def test_in_pair_is_serial_unless_there_are_exactly_two_threads(threads, monkeypatch):
    monkeypatch.setenv("LAYERGRAPH_NUM_THREADS", threads)
    me = threading.get_ident()
    assert _tile_threads.in_pair(lambda: threading.get_ident(),
                                 lambda: threading.get_ident()) == (me, me)


@needs_blas_local
@pytest.mark.parametrize("ndim", [2, 3])
def test_convolution_backward_pairs_dx_and_dw_on_two_threads(ndim, rng, monkeypatch):
    """Big enough and both gradients wanted: dx and dW as one half each on its own thread (a
    measured 9-13% on the 'medium' 3-D step); results match the one-thread run (up to
    float32 summation order). One gradient alone, one thread, or a small layer: the calling thread."""
    calls = []
    original = conv_select._weight_and_input_gradients

    def recorded(*args):
        calls.append((args[-2], args[-1], threading.get_ident()))
        return original(*args)

    monkeypatch.setattr(conv_select, "_weight_and_input_gradients", recorded)
    me = threading.get_ident()
    sizes = (32, 16) if ndim == 2 else (16, 16, 8)         # columns above 1 MiB: paired
    x = rng.standard_normal((16, 4) + sizes).astype(np.float32)
    w = rng.standard_normal((16, 16) + (3,) * ndim).astype(np.float32)
    args = ((1,) * ndim, ((1, 1),) * ndim, (1,) * ndim)
    results = {}
    for threads in ("1", "2"):
        monkeypatch.setenv("LAYERGRAPH_NUM_THREADS", threads)
        y, cache = convolution.conv_forward(x, w, None, *args)
        dy = np.ascontiguousarray(y[::-1])
        calls.clear()
        results[threads] = convolution.conv_backward(dy, cache, need=(True, True, False))[:2]
        if threads == "1":
            assert [c[2] for c in calls] == [me] * len(calls)
            continue
        assert sorted(c[:2] for c in calls) == [(False, True), (True, False)]
        assert len({c[2] for c in calls}) == 2      # one thread each (in_pair's own test: at once)
        calls.clear()
        convolution.conv_backward(dy, cache, need=(False, True, False))
        y_small, small = convolution.conv_forward(x[:, :1, :4, :4], w, None, *args)
        convolution.conv_backward(y_small, small, need=(True, True, False))
        assert [c[2] for c in calls] == [me, me]
    for got, expected in zip(results["2"], results["1"]):    # float32 summation order only
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5 * np.abs(expected).max())
