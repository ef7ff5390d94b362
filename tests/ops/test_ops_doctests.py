"""Every ops module's docstring examples run and pass."""
import doctest
import importlib

import pytest

MODULES = ["_backend", "_shapes", "convolution", "batchnorm", "activation", "pooling", "combine",
           "fully_connected", "loss", "initializers", "convolution.plane_shifts", "_cpu.parallel",
           "transposed_convolution", "crop", "global_pooling", "segmentation_loss",
           "elementwise", "dropout", "group_norm", "_erf"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"layergraph.ops.{name}")
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
