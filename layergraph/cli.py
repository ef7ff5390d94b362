"""Command line: ``layergraph demo | summary | bench`` (also ``python -m layergraph ...``).

    layergraph demo                          # displays, train a small 3-D ResNet, save/load
    layergraph demo segmentation             # train unet3dLayers on synthetic volumes, Dice
    layergraph summary                       # resnet3dLayers([224 224 64 3], 10) display
    layergraph summary --input-size 128 128 64 1 --classes 5 --stack-depth 3 4 23 3 --layers
    layergraph summary --2d --input-size 224 224 3 --classes 10
    layergraph summary net.lgnet --layers    # a saved network (saveNetwork)
    layergraph bench ...                     # benchmarks (see ``layergraph bench --help``)
"""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

from .layers.errors import MException

__all__: list[str] = []


def summary(argv: Sequence[str]) -> int:
    """Print a built or saved network's MATLAB display (and optionally its layers/analysis)."""
    from .builders import resnet as builders
    from .serialization import network_file as io
    from .graph.analysis import analyzeNetwork

    parser = argparse.ArgumentParser(prog="layergraph summary",
                                     description="Show a resnet3dLayers / resnetLayers network.")
    parser.add_argument("file", nargs="?", help="a network file written by saveNetwork")
    parser.add_argument("--2d", dest="two_d", action="store_true", help="resnetLayers (2-D)")
    parser.add_argument("--input-size", type=int, nargs="+")
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--stack-depth", type=int, nargs="+")
    parser.add_argument("--num-filters", type=int, nargs="+")
    parser.add_argument("--bottleneck", choices=["downsample-first-conv", "none"])
    parser.add_argument("--layers", action="store_true", help="also list every layer")
    parser.add_argument("--analyze", action="store_true", help="also print analyzeNetwork")
    args = parser.parse_args(argv)
    if args.file:
        net = io.loadNetwork(args.file)
    else:
        size = args.input_size or ([224, 224, 3] if args.two_d else [224, 224, 64, 3])
        options = {name: value for name, value in (("StackDepth", args.stack_depth),
                                                   ("NumFilters", args.num_filters),
                                                   ("BottleneckType", args.bottleneck))
                   if value is not None}
        build = builders.resnetLayers if args.two_d else builders.resnet3dLayers
        net = build(size, args.classes, **options)
    print(net)
    if args.layers:
        print(net.Layers)
    if args.analyze:
        print(analyzeNetwork(net))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``layergraph`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    try:
        if command == "demo":
            from . import demo
            return demo.main(rest)
        if command == "summary":
            return summary(rest)
        if command == "bench":
            from . import bench
            return bench.main(rest)
    except MException as err:
        print(f"Error: {err}", file=sys.stderr)
        return 1
    print(f"layergraph: unknown command {command!r}; use demo, summary or bench.",
          file=sys.stderr)
    return 2
