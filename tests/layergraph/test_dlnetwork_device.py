"""dlnetwork device routing: forward/predict run on the device of the data, gradients come back
on their variables' devices, updates keep the solver state on the gradients' device.

The CPU tests stand a NumPy subclass in for CuPy arrays (``_backend.is_gpu_array`` / ``to_device``
/ ``to_host`` patched; the executor factory records the requested device and builds a CPU one), so
every routing decision runs here; the ``gpu`` tests repeat the custom loop with CuPy on a GPU."""
import importlib
import sys

import numpy as np
import pytest

import layergraph as lg
from layergraph.ops import _backend
from layergraph.layers.errors import MException
from layergraph.runtime import layout

dlnetwork_module = sys.modules["layergraph.networks.dlnetwork"]


class FakeGpu(np.ndarray):
    """Stands for a cupy.ndarray in the routing tests."""


class _FakeCupyModule:
    """Stands for the cupy module: ``ndarray`` is FakeGpu, everything else is NumPy's."""
    ndarray = FakeGpu

    @staticmethod
    def ascontiguousarray(a, dtype=None):            # cupy's keeps the array on the GPU
        return np.ascontiguousarray(a, dtype).view(type(a))

    def __getattr__(self, name):
        return getattr(np, name)


FakeCupy = _FakeCupyModule()


def _small_net(seed=5):
    lg.rng(seed)
    layers = [lg.imageInputLayer([6, 5, 2], Normalization="none", Name="in"),
              lg.convolution2dLayer(3, 4, Padding="same", Name="conv"),
              lg.batchNormalizationLayer(Name="bn"), lg.reluLayer(Name="relu"),
              lg.fullyConnectedLayer(3, Name="fc"), lg.softmaxLayer(Name="sm")]
    return lg.dlnetwork(layers)


def _data(n=8, seed=2):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((6, 5, 2, n)).astype(np.float32)
    return X, np.eye(3, dtype=np.float32)[:, rng.integers(0, 3, n)]


@pytest.fixture
def fake_gpu(monkeypatch):
    """Patch the backend so FakeGpu arrays are 'GPU' arrays; returns the devices requested
    from the executor factory (each executor is really a CPU one)."""
    requested = []
    real_executor = dlnetwork_module.Executor

    def to_device(x, device):
        host = np.asarray(x).view(np.ndarray)
        return host.view(FakeGpu) if device == "gpu" else host

    def executor(lgraph, device="cpu", **kwargs):
        requested.append(device)
        return real_executor(lgraph, device="cpu", **kwargs)
    monkeypatch.setattr(_backend, "_loaded_cupy", lambda: FakeCupy)   # is_gpu_array, get_xp
    monkeypatch.setattr(_backend, "to_device", to_device)
    monkeypatch.setattr(_backend, "to_host", lambda x: np.asarray(x).view(np.ndarray))
    monkeypatch.setattr(dlnetwork_module, "Executor", executor)
    return requested


def _model_loss(net, X, T):
    Y, state = lg.forward(net, X)
    loss = lg.crossentropy(Y, T) + 1e-2 * sum(np.sum(w ** 2) for w in net.Learnables.Value)
    return (loss, *lg.dlgradient(loss, X, net.Learnables), state)


def _custom_loop(to_dev, steps=3):
    """MATLAB's custom loop (forward, crossentropy + L2, dlgradient, adamupdate) on a device."""
    net = _small_net()
    X, T = _data()
    avg = avg_sq = None
    history = []
    for iteration in range(1, steps + 1):
        loss, gX, grads, state = lg.dlfeval(_model_loss, net, lg.dlarray(to_dev(X), "SSCB"), to_dev(T))
        net.State = state
        net, avg, avg_sq = lg.adamupdate(net, grads, avg, avg_sq, iteration, 0.01)
        history.append((float(loss), gX, grads, avg))
    return net, history


def test_predict_routes_to_one_cached_executor_per_device(fake_gpu):
    net = _small_net()
    X, _ = _data(4)
    y_cpu = lg.predict(net, X)
    y_gpu = lg.predict(net, X.view(FakeGpu))
    y_gpu2 = lg.predict(net, lg.dlarray(X.view(FakeGpu), "SSCB"))
    assert fake_gpu == ["cpu", "gpu"]                       # built once per device, then cached
    assert type(y_cpu) is np.ndarray and isinstance(y_gpu, FakeGpu)
    assert isinstance(lg.extractdata(y_gpu2), FakeGpu) and lg.dims(y_gpu2) == "CB"
    np.testing.assert_array_equal(np.asarray(y_gpu), y_cpu)
    assert net.executor is net.executor_on("cpu")


def test_gpu_data_are_checked_and_converted_without_a_trip_to_the_host(fake_gpu, monkeypatch):
    to_host = _backend.to_host
    sent_home = []
    monkeypatch.setattr(_backend, "to_host", lambda x: sent_home.append(type(x)) or to_host(x))
    X, _ = _data(4)
    lg.predict(_small_net(), X.view(FakeGpu))
    assert FakeGpu not in sent_home
    internal = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    kept = layout.internal_to_matlab(internal.view(FakeGpu), keep_device=True)
    assert isinstance(kept, FakeGpu)
    np.testing.assert_array_equal(kept, layout.internal_to_matlab(internal))
    assert isinstance(layout.check_predictors(X.view(FakeGpu), (6, 5, 2), "X", "predict", keep_device=True),
                      FakeGpu)
    assert type(layout.check_predictors(X.view(FakeGpu), (6, 5, 2), "X", "predict")) is np.ndarray


def test_forward_outputs_and_intermediate_outputs_stay_on_the_device(fake_gpu):
    net = _small_net()
    X, _ = _data(4)
    y, r, state = lg.forward(net, X.view(FakeGpu), Outputs=["sm", "relu"])
    assert isinstance(y, FakeGpu) and isinstance(r, FakeGpu) and r.shape == (6, 5, 4, 4)
    assert all(type(v) is np.ndarray for v in state.Value)  # the network's values stay host-side
    assert fake_gpu == ["gpu"]


def test_custom_loop_on_the_gpu_route_equals_the_cpu_loop(fake_gpu):
    net_cpu, cpu = _custom_loop(lambda a: a)
    net_gpu, gpu = _custom_loop(lambda a: a.view(FakeGpu))
    assert set(fake_gpu) == {"cpu", "gpu"}
    for (loss_c, gx_c, grads_c, avg_c), (loss_g, gx_g, grads_g, avg_g) in zip(cpu, gpu):
        assert loss_g == loss_c
        assert isinstance(lg.extractdata(gx_g), FakeGpu)
        assert type(lg.extractdata(gx_c)) is np.ndarray
        assert all(isinstance(lg.extractdata(g), FakeGpu) for g in grads_g.Value)
        assert all(isinstance(v, FakeGpu) for v in avg_g.Value)      # solver state on the GPU
        assert not any(isinstance(v, FakeGpu) for v in avg_c.Value)
        for a, b in zip(grads_c.Value, grads_g.Value):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    for a, b in zip(net_cpu.Learnables.Value, net_gpu.Learnables.Value):
        assert type(b) is np.ndarray                                  # the net stays host-side
        np.testing.assert_array_equal(a, b)


def test_updates_reject_gradients_and_states_on_different_devices(fake_gpu):
    net = _small_net()
    grads = net.Learnables.assign(Value=[np.ones_like(v) for v in net.Learnables.Value])
    mixed = grads.assign(Value=[v.view(FakeGpu) if k == 0 else v for k, v in enumerate(grads.Value)])
    with pytest.raises(MException, match="NumPy \\(CPU\\) and CuPy \\(GPU\\)") as info:
        lg.sgdmupdate(net, mixed)
    assert info.value.identifier == "deep:update:MixedDevices"
    on_gpu = grads.assign(Value=[v.view(FakeGpu) for v in grads.Value])
    host_state = grads.assign(Value=[np.zeros_like(v) for v in grads.Value])
    with pytest.raises(MException, match="solver state") as info:
        lg.rmspropupdate(net, on_gpu, host_state)
    assert info.value.identifier == "deep:update:MixedDevices"


def test_table_updates_return_values_on_their_device_and_state_on_the_gradients(fake_gpu):
    net = _small_net()
    table = net.Learnables
    grads = table.assign(Value=[np.full_like(v, 0.5).view(FakeGpu) for v in table.Value])
    new, vel = lg.sgdmupdate(table, grads)
    assert all(type(v) is np.ndarray for v in new.Value) and all(isinstance(v, FakeGpu) for v in vel.Value)
    expected, _ = lg.sgdmupdate(table, grads.assign(Value=[np.asarray(v).view(np.ndarray) for v in grads.Value]))
    for a, b in zip(new.Value, expected.Value):
        np.testing.assert_array_equal(a, b)


def test_dlupdate_to_gpu_keeps_the_network_host_side(fake_gpu):
    net = _small_net()
    moved = lg.dlupdate(lambda v: _backend.to_device(v, "gpu"), net)
    assert isinstance(moved, lg.dlnetwork)
    for a, b in zip(net.Learnables.Value, moved.Learnables.Value):
        assert type(b) is np.ndarray
        np.testing.assert_array_equal(a, b)


# ---- on a GPU (benchmarks/device_check.sh) --------------------------------------------------
@pytest.mark.gpu
def test_custom_loop_on_cupy_matches_the_cpu_loop():
    if not _backend.gpu_available():
        pytest.skip("CuPy with a CUDA device is not available")
    cupy = importlib.import_module("cupy")
    net_cpu, cpu = _custom_loop(lambda a: a)
    net_gpu, gpu = _custom_loop(cupy.asarray)
    for (loss_c, gx_c, grads_c, _), (loss_g, gx_g, grads_g, avg_g) in zip(cpu, gpu):
        np.testing.assert_allclose(loss_g, loss_c, rtol=1e-4)
        assert isinstance(lg.extractdata(gx_g), cupy.ndarray)
        assert all(isinstance(lg.extractdata(g), cupy.ndarray) for g in grads_g.Value)
        assert all(isinstance(v, cupy.ndarray) for v in avg_g.Value)
        np.testing.assert_allclose(cupy.asnumpy(lg.extractdata(gx_g)), lg.extractdata(gx_c),
                                   rtol=1e-3, atol=1e-5)
    for a, b in zip(net_cpu.Learnables.Value, net_gpu.Learnables.Value):
        assert isinstance(b, np.ndarray)
        np.testing.assert_allclose(b, a, rtol=1e-3, atol=2e-4)


@pytest.mark.gpu
def test_predict_on_cupy_returns_cupy_equal_to_the_cpu():
    if not _backend.gpu_available():
        pytest.skip("CuPy with a CUDA device is not available")
    cupy = importlib.import_module("cupy")
    net = _small_net()
    X, _ = _data(4)
    y = lg.predict(net, cupy.asarray(X))
    assert isinstance(y, cupy.ndarray) and net.executor_on("gpu").device == "gpu"
    np.testing.assert_allclose(cupy.asnumpy(y), lg.predict(net, X), rtol=1e-4, atol=1e-6)


def test_dlarray_operators_reject_numpy_and_cupy_operands_together(fake_gpu):
    a = lg.dlarray(np.ones((2, 3), np.float32).view(FakeGpu), "CB")
    with pytest.raises(MException, match="NumPy \\(CPU\\) and CuPy \\(GPU\\)") as info:
        a + np.ones((2, 3), np.float32)
    assert info.value.identifier == "deep:dlarray:MixedDevices"
    assert isinstance(a * 2.0 + a, lg.dlarray)                  # scalars mix with any device


@pytest.mark.gpu
def test_learnables_read_before_the_gpu_call_mix_devices_on_cupy():
    if not _backend.gpu_available():
        pytest.skip("CuPy with a CUDA device is not available")
    cupy = importlib.import_module("cupy")
    X, T = _data()

    def learnables_read_before_the_gpu_call(net, X, T):
        penalty = sum(np.sum(w ** 2) for w in net.Learnables.Value)     # host copies
        Y, _ = lg.forward(net, X)
        return lg.crossentropy(Y, T) + penalty
    with pytest.raises(MException) as info:
        lg.dlfeval(learnables_read_before_the_gpu_call, _small_net(), lg.dlarray(cupy.asarray(X), "SSCB"),
                   cupy.asarray(T))
    assert info.value.identifier == "deep:dlarray:MixedDevices"
