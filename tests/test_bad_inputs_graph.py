"""Random editing sessions on a LayerGraph (names, ports, junk arguments): every call either
returns a graph or raises MException, and analyzeNetwork / display always work on the result."""
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import layergraph as lg
from layergraph import MException

_NAMES = st.sampled_from(["a", "b", "c", "in", "out", "a/in2", "b/out", "c/in1", "x/y", "", "zz", "a/"])
_JUNK = st.one_of(_NAMES, st.none(), st.integers(-2, 5), st.lists(_NAMES, max_size=3), st.builds(object))


def _layer(kind: int, name: str):
    return [lambda: lg.reluLayer(Name=name), lambda: lg.additionLayer(2, Name=name),
            lambda: lg.depthConcatenationLayer(3, Name=name), lambda: lg.imageInputLayer([4, 4, 1], Name=name),
            lambda: lg.classificationLayer(Name=name), lambda: lg.fullyConnectedLayer(2, Name=name)][kind]()


_LAYERS = st.lists(st.builds(_layer, st.integers(0, 5), st.sampled_from(["a", "b", "c", "", "d"])),
                   min_size=1, max_size=3)
_EDITS = st.one_of(
    st.tuples(st.just(lg.addLayers), _LAYERS | _JUNK),
    st.tuples(st.just(lg.removeLayers), _JUNK),
    st.tuples(st.just(lg.connectLayers), _JUNK, _JUNK),
    st.tuples(st.just(lg.disconnectLayers), _JUNK, _JUNK),
    st.tuples(st.just(lg.replaceLayer), _JUNK, _LAYERS | _JUNK),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits=st.lists(_EDITS, min_size=1, max_size=8))
def test_fuzz_graph_editing_raises_only_mexception(edits):
    lgraph = lg.layerGraph()
    for func, *args in edits:
        try:
            lgraph = func(lgraph, *args)
        except MException:
            pass
    info = lg.analyzeNetwork(lgraph)
    assert len(info.LayerInfo) == len(lgraph.Layers)
    assert str(lgraph).startswith("  LayerGraph with properties:")
    assert len(lgraph.Connections) == len(lgraph.edges)
    assert np.isnan(info.TotalLearnables) or info.TotalLearnables >= 0
