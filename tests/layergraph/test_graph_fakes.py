"""Tiny layer classes for the LayerGraph tests (no tests here; imported by test_graph*.py).

They follow layers/base.py (Name, ports, TYPE, DEFAULT_NAME, IS_INPUT/IS_OUTPUT, description)
and nothing else, so the graph is tested independently of the real layer implementations.
"""
from __future__ import annotations

from layergraph.layers.base import Layer


class FakeLayer(Layer):
    """A single-input, single-output layer."""

    TYPE = "ReLU"
    DEFAULT_NAME = "relu"

    def __init__(self, Name: str = "", description: str = "ReLU"):
        self.Name = Name
        self._description = description

    def description(self) -> str:
        return self._description


class FakeInput(FakeLayer):
    """An input layer (no inputs)."""

    TYPE = "Image Input"
    DEFAULT_NAME = "imageinput"
    IS_INPUT = True


class FakeConv(FakeLayer):
    TYPE = "2-D Convolution"
    DEFAULT_NAME = "conv"


class FakeOutput(FakeLayer):
    """An output layer (no outputs)."""

    TYPE = "Classification Output"
    DEFAULT_NAME = "classoutput"
    IS_OUTPUT = True


class FakeAdd(FakeLayer):
    """An addition layer with inputs in1..inN."""

    TYPE = "Addition"
    DEFAULT_NAME = "addition"

    def __init__(self, num_inputs: int = 2, Name: str = ""):
        super().__init__(Name, f"Element-wise addition of {num_inputs} inputs")
        self._num_inputs = num_inputs

    @property
    def InputNames(self) -> tuple[str, ...]:
        return tuple(f"in{k}" for k in range(1, self._num_inputs + 1))


class FakeUnpoolingMaxPool(FakeLayer):
    """A max-pooling layer with HasUnpoolingOutputs: outputs out, indices, size."""

    TYPE = "2-D Max Pooling"
    DEFAULT_NAME = "maxpool"
    OutputNames = ("out", "indices", "size")


class FakeUnpool(FakeLayer):
    """A max-unpooling layer: inputs in, indices, size."""

    TYPE = "2-D Max Unpooling"
    DEFAULT_NAME = "maxunpool"
    InputNames = ("in", "indices", "size")


def chain(*names: str) -> list[Layer]:
    """Input layer, then one FakeLayer per further name."""
    return [FakeInput(names[0])] + [FakeLayer(n) for n in names[1:]]
