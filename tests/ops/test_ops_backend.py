"""Backend selection follows the data; CPU users never import cupy."""
import subprocess
import sys
import textwrap
import types

import numpy as np
import pytest

from layergraph.ops import _backend


def test_numpy_arrays_select_numpy_and_ignore_none_and_scalars():
    assert _backend.get_xp(np.zeros(2), None, 3, 2.5, np.float32(1)) is np
    assert _backend.get_xp() is np


def test_non_array_argument_is_a_type_error():
    with pytest.raises(TypeError, match="builtins.list"):
        _backend.get_xp(np.zeros(2), [1.0, 2.0])


@pytest.fixture
def fake_cupy(monkeypatch):
    """A stand-in 'cupy' module in sys.modules, with an ndarray type."""
    module = types.ModuleType("cupy")

    class ndarray:  # noqa: N801 - mirrors cupy's class name
        shape = (2, 3)

    module.ndarray = ndarray
    monkeypatch.setitem(sys.modules, "cupy", module)
    return module


def test_mixing_numpy_and_cupy_names_both(fake_cupy):
    gpu = fake_cupy.ndarray()
    assert _backend.is_gpu_array(gpu) and not _backend.is_gpu_array(np.zeros(1))
    assert _backend.get_xp(gpu, None) is fake_cupy
    with pytest.raises(TypeError, match=r"numpy.ndarray of shape \(4,\) and cupy.ndarray"):
        _backend.get_xp(np.zeros(4), gpu)


def test_to_device_cpu_and_to_host():
    x = np.arange(3.0)
    assert _backend.to_device(x, "cpu") is x
    np.testing.assert_array_equal(_backend.to_host([1, 2]), [1, 2])
    with pytest.raises(ValueError, match="Received: device='tpu'"):
        _backend.to_device(x, "tpu")


def test_to_device_gpu_without_a_gpu_says_so(monkeypatch):
    monkeypatch.setattr(_backend, "gpu_available", lambda: False)
    with pytest.raises(RuntimeError, match="CuPy"):
        _backend.to_device(np.zeros(2), "gpu")


def test_running_ops_on_the_cpu_never_imports_cupy(tmp_path):
    """A cupy package that fails on import is first on the path: the ops must not touch it."""
    (tmp_path / "cupy").mkdir()
    (tmp_path / "cupy" / "__init__.py").write_text("raise ImportError('cupy was imported')\n")
    script = textwrap.dedent("""
        import sys
        sys.path.insert(0, sys.argv[1])
        import numpy as np
        from layergraph.ops import convolution, pooling, batchnorm, _backend
        x = np.ones((2, 1, 4, 4), np.float32)
        y, cache = convolution.conv_forward(x, np.ones((3, 2, 3, 3), np.float32), None,
                                            (1, 1), ((1, 1), (1, 1)), (1, 1))
        convolution.conv_backward(y, cache)
        pooling.max_pool_forward(y, (2, 2), (2, 2), ((0, 0), (0, 0)))
        batchnorm.batchnorm_forward(y, np.ones(3), np.zeros(3), 1e-5, True)
        assert _backend.get_xp(y) is np
        assert "cupy" not in sys.modules, "cupy was imported"
    """)
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
