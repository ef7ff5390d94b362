"""MATLAB 'same' padding and output sizes."""
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from layergraph.ops import _shapes


@pytest.mark.parametrize("size, k, s, expected", [
    (224, 7, 2, (2, 3)),      # odd pad after (bottom/right/back)
    (112, 3, 2, (0, 1)),
    (7, 3, 2, (1, 1)),
    (56, 1, 2, (0, 0)),       # 1x1 strided 'same' never pads
    (4, 2, 1, (0, 1)),        # even kernel, unit stride
])
def test_same_padding_matlab_examples(size, k, s, expected):
    assert _shapes.same_padding((size,), (k,), (s,)) == (expected,)


def test_same_padding_uses_the_dilated_kernel():
    assert _shapes.same_padding((10,), (3,), (1,), (2,)) == ((2, 2),)


@settings(max_examples=60, deadline=None)
@given(size=st.integers(1, 80), k=st.integers(1, 7), s=st.integers(1, 4), d=st.integers(1, 3))
def test_same_padding_gives_ceil_in_over_stride(size, k, s, d):
    (pad,) = _shapes.same_padding((size,), (k,), (s,), (d,))
    before, after = pad
    assert 0 <= before <= after <= before + 1
    assert _shapes.output_sizes((size,), (k,), (s,), (pad,), (d,)) == (math.ceil(size / s),)


def test_output_sizes_formula():
    assert _shapes.output_sizes((7, 8, 9), (3, 3, 3), (2, 1, 3), ((1, 1), (0, 2), (2, 0)),
                                (1, 2, 1)) == (4, 6, 3)
