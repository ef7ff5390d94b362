"""Checks every case of the layer-case table (tests/layers/layer_cases.py): the class is
exported and registered; output_sizes are the stated ones and agree with forward in inference
and training; backward gives input-shaped and learnable-shaped gradients that match central
finite differences; the display facts; properties survive a JSON round trip and a
saveNetwork / loadNetwork of a LayerGraph holding the layer."""
import inspect
import json

import numpy as np
import pytest

import layergraph as lg
from layergraph.layers.base import Layer, registered_layer
from layergraph.layers.context import ForwardContext
from helpers.layer_check import check_layer, internal_params, matlab_size
from layer_cases import CASES

RUN = [c for c in CASES if c.inputs is not None]


def _exported_layer_classes():
    return sorted(name for name in lg.layers.__all__
                  if inspect.isclass(getattr(lg.layers, name))
                  and issubclass(getattr(lg.layers, name), Layer) and name != "Layer")


def test_every_exported_layer_class_has_a_case():
    covered = {type(c.make()).__name__ for c in RUN}
    assert sorted(covered) == _exported_layer_classes()


def test_case_names_are_unique():
    names = [c.name for c in CASES]
    assert len(names) == len(set(names))


def _inputs(layer, sizes, rng):
    if layer.IS_INPUT:
        size = tuple(layer.InputSize)
        return [rng.standard_normal((size[-1], 2, *size[:-1]))]
    return [rng.standard_normal((s[-1], 2, *s[:-1])) for s in sizes]


def _small(sizes):
    return all(np.prod(s) <= 4096 for s in sizes)


@pytest.mark.parametrize("case", RUN, ids=lambda c: c.name)
def test_sizes_forward_and_backward(case, rng):
    layer = case.make()
    name = type(layer).__name__
    assert registered_layer(name) is type(layer)
    expected = layer.output_sizes(case.inputs)
    if case.outputs is not None:
        assert expected == case.outputs
    if not _small(case.inputs):
        return
    layer = layer.initialize(case.inputs, rng)
    params = internal_params(layer)
    xs = _inputs(layer, case.inputs, rng)
    for training in (False, True):
        ys, cache, _ = layer.forward(params, xs, ForwardContext.for_batch(training, 3))
        if layer.IS_OUTPUT:
            assert expected == [] and ys[0].shape == xs[0].shape
            continue
        assert [matlab_size(y) if y.ndim > 2 else (y.shape[0],) for y in ys] == expected
    if not (layer.IS_INPUT or layer.IS_OUTPUT):
        dxs, grads = layer.backward(params, [np.ones_like(y) for y in ys], cache)
        assert [dx.shape for dx in dxs if dx is not None] == \
            [x.shape for x, dx in zip(xs, dxs) if dx is not None]
        assert {k: v.shape for k, v in grads.items()} == \
            {k: params[k].shape for k in layer.LEARNABLES}


@pytest.mark.parametrize("case", [c for c in RUN if c.gradients and c.inputs and _small(c.inputs)],
                         ids=lambda c: c.name)
def test_gradients_match_finite_differences(case, rng):
    check_layer(case.make(), _inputs(case.make(), case.inputs, rng), rng)


@pytest.mark.parametrize("case", [c for c in CASES if c.type is not None], ids=lambda c: c.name)
def test_display_facts(case):
    layer = case.make()
    assert layer.Type == case.type
    assert layer.description() == case.description
    assert repr(layer).splitlines()[0] == f"  {type(layer).__name__} with properties:"


def _json_roundtrip(props):
    """What a save/load by JSON + raw arrays gives back: arrays kept, everything else via JSON."""
    arrays = {k: v for k, v in props.items() if isinstance(v, np.ndarray)}
    rest = json.loads(json.dumps({k: v for k, v in props.items() if k not in arrays}))
    return {**rest, **arrays}


def _same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        if isinstance(a[k], np.ndarray):
            assert isinstance(b[k], np.ndarray) and a[k].dtype == b[k].dtype
            np.testing.assert_array_equal(a[k], b[k])
        else:
            assert a[k] == b[k] and type(a[k]) is type(b[k]), (k, a[k], b[k])


def _built_and_initialized(case, rng):
    layer = case.make()
    yield layer
    if case.inputs is not None and _small(case.inputs):
        yield layer.initialize(case.inputs, rng)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_properties_round_trip(case, rng):
    for layer in _built_and_initialized(case, rng):
        props = layer.properties()
        back = type(layer).from_properties(_json_roundtrip(props))
        _same(back.properties(), props)
        assert repr(back) == repr(layer) and back.description() == layer.description()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_save_and_load(case, rng, tmp_path):
    for k, layer in enumerate(_built_and_initialized(case, rng)):
        if not layer.Name:
            layer = layer.copy(Name="layer")
        lg.saveNetwork(lg.layerGraph(layer), tmp_path / f"{k}.lgnet")
        back = lg.loadNetwork(tmp_path / f"{k}.lgnet").Layers[0]
        assert type(back) is type(layer)
        _same(back.properties(), layer.properties())
