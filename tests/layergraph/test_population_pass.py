"""The BN population pass stops at the last BN layers and still gives every BN its statistics."""
import numpy as np

from layergraph import resnet3dLayers
from layergraph.runtime import executor
from layergraph.training import setup as _train_setup
from layergraph.rng import global_generator


def test_population_pass_runs_up_to_the_last_batchnorm_layers_only():
    lgraph = resnet3dLayers([8, 8, 8, 1], 3, InitialFilterSize=3, InitialStride=1,
                            InitialNumFilters=4, BottleneckType="none", StackDepth=[1, 1],
                            NumFilters=[4, 8])
    layers = list(lgraph.Layers)
    layers[0] = layers[0].copy(Mean=np.zeros((1, 1, 1, 1), np.float32))
    lgraph = _train_setup.initialize_graph(lgraph.with_layers(layers), global_generator())
    ex = executor.Executor(lgraph, dtype=np.float64)
    bn = [layer.Name for layer in ex.layers if "TrainedMean" in layer.STATES]
    last = _train_setup._last_statistics_layers(ex, bn)
    run, _ = ex._plan(tuple(last))
    assert set(bn) <= {ex.names[i] for i in run}                      # every BN still runs
    assert ex.index["fc"] not in run and len(run) < len(ex.order)     # the head does not
    x = np.random.default_rng(0).standard_normal((1, 5, 8, 8, 8))
    full = ex.forward(x[:, :3], training=True).state_update
    _train_setup.batchnorm_population_pass(ex, x, 3)
    for name in bn:
        batch_mean, batch_var = full[(name, "BatchMean")], full[(name, "BatchVariance")]
        assert not np.allclose(ex.state[(name, "TrainedMean")], batch_mean)   # 5 obs, not 3
        first = ex.forward(x[:, :3], training=True, outputs=last).state_update
        np.testing.assert_array_equal(first[(name, "BatchMean")], batch_mean)
        np.testing.assert_array_equal(first[(name, "BatchVariance")], batch_var)
