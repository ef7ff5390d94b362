"""Correctness sweep behind the training benchmarks: the torch twin must match layergraph.

For varied ResNets from resnet3dLayers / resnetLayers (basic and bottleneck blocks, before- and
after-add, max / average / no initial pooling, a 7x7[x7] stride-2 initial convolution whose 'same'
padding is asymmetric, non-cubic inputs, zerocenter and zscore input normalization, 2-D and 3-D),
the twin is built from the LayerGraph with our initial weights, and a training-mode forward plus
two SGDM steps must agree (``_train_setup.check_agreement``). Exit status 1 on a disagreement.
Not a benchmark and not collected by pytest; about a minute on one core.

    python benchmarks/check_twin.py [--threads N]
"""
from __future__ import annotations

import sys

import _common

SMALL_3D = dict(InitialFilterSize=3, InitialStride=1, InitialNumFilters=8)
VARIANTS = [
    ("3-D basic blocks", "3d", [16, 16, 16, 1],
     dict(SMALL_3D, BottleneckType="none", StackDepth=[1, 1], NumFilters=[8, 16])),
    ("3-D bottleneck blocks", "3d", [16, 16, 16, 1],
     dict(SMALL_3D, StackDepth=[1, 1, 1], NumFilters=[4, 8, 16])),
    ("3-D 7x7x7 stride 2, average pool, after-add, zscore, 2 channels", "3d", [16, 16, 16, 2],
     dict(InitialPoolingLayer="average", ResidualBlockType="batchnorm-after-add",
          StackDepth=[1, 2], NumFilters=[4, 8], InitialNumFilters=8, Normalization="zscore")),
    ("3-D no initial pooling, 12x16x10 input", "3d", [12, 16, 10, 1],
     dict(SMALL_3D, InitialPoolingLayer="none", BottleneckType="none", StackDepth=[1, 1],
          NumFilters=[4, 8])),
    ("2-D basic blocks", "2d", [16, 16, 1],
     dict(InitialFilterSize=3, InitialStride=1, InitialNumFilters=8, BottleneckType="none",
          StackDepth=[1, 1], NumFilters=[8, 16])),
    ("2-D 7x7 stride 2 bottleneck, 3 channels", "2d", [32, 32, 3],
     dict(StackDepth=[1, 1], NumFilters=[4, 8], InitialNumFilters=8)),
]


def main(argv=None) -> int:
    args = _common.base_parser(__doc__.splitlines()[0]).parse_args(argv)
    _common.setup(args)
    import numpy as np
    import pandas as pd
    import torch

    import _train_setup as setup
    from layergraph import resnet3dLayers, resnetLayers

    _common.pin_torch_threads(torch, args.threads)
    builders = {"3d": resnet3dLayers, "2d": resnetLayers}
    failures = 0
    for label, kind, input_size, options in VARIANTS:
        rng = np.random.default_rng(0)
        X = rng.standard_normal(tuple(input_size) + (4,), dtype=np.float32) + np.float32(0.5)
        Y = pd.Categorical(["a", "b", "c", "d"])
        lgraph = setup.initialize_graph(builders[kind](input_size, 4, **options), X, rng)
        ours = setup.OursTrainer(lgraph, X, Y, 2)
        theirs = setup.TorchTrainer(torch, lgraph, X, Y, 2)
        try:
            verdict = setup.check_agreement(ours, theirs, X)
        except SystemExit as disagreement:
            failures += 1
            verdict = str(disagreement)
        print(f"{label} ({len(lgraph.Layers)} layers):\n  {verdict}")
    print(f"{len(VARIANTS) - failures} of {len(VARIANTS)} networks agree")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
