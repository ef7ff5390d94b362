"""Layers with several named inputs or outputs, which the real layer set does not have
(MATLAB's max pooling with unpooling outputs and max unpooling). No tests here; imported by
test_graph*.py. They use only layers/base.py's port API."""
from __future__ import annotations

from layergraph.layers.base import Layer


class _FakeLayer(Layer):
    def __init__(self, Name: str = ""):
        self.Name = Name

    def description(self) -> str:
        return self.TYPE


class FakeUnpoolingMaxPool(_FakeLayer):
    """A max-pooling layer with HasUnpoolingOutputs: outputs out, indices, size."""

    TYPE = "2-D Max Pooling"
    DEFAULT_NAME = "maxpool"
    OutputNames = ("out", "indices", "size")


class FakeUnpool(_FakeLayer):
    """A max-unpooling layer: inputs in, indices, size."""

    TYPE = "2-D Max Unpooling"
    DEFAULT_NAME = "maxunpool"
    InputNames = ("in", "indices", "size")
