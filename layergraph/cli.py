"""Command line: ``layergraph demo | summary | bench`` (also ``python -m layergraph ...``).

``layergraph --help`` prints :data:`USAGE` (plain text).
"""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

import numpy as np

from .layers.errors import MException

__all__: list[str] = []

USAGE = """\
usage: layergraph <command> [options]

commands:
  demo       print the documented ResNet displays, train a small 3-D ResNet on synthetic
             volumes, save and reload it (make demo)
  summary    show a network built by resnet3dLayers / resnetLayers, or saved in a file
  bench      benchmarks against PyTorch

examples:
  layergraph demo
  layergraph demo segmentation             # train unet3dLayers on synthetic volumes, Dice
  layergraph summary                       # resnet3dLayers([224 224 64 3], 10)
  layergraph summary --input-size 128 128 64 1 --classes 5 --stack-depth 3 4 23 3 --layers
  layergraph summary --2d --input-size 224 224 3 --classes 10
  layergraph summary net.lgnet             # a saved network: inputs, classes, learnables
  layergraph <command> --help              # the command's options
"""


def summary(argv: Sequence[str]) -> int:
    """Print a built or saved network's MATLAB display (and optionally its layers/analysis)."""
    from .builders import resnet as builders
    from .serialization import network_file as io
    from .graph.analysis import analyzeNetwork

    parser = argparse.ArgumentParser(
        prog="layergraph summary",
        description="Show a network: its MATLAB display, inputs and input sizes, output classes "
                    "and learnable count. Without FILE, the network resnet3dLayers (or "
                    "resnetLayers with --2d) builds from the options.")
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
    print(overview(net))
    if args.layers:
        print(net.Layers)
    if args.analyze:
        print(analyzeNetwork(net))
    return 0


def overview(net) -> str:
    """Inputs (name, InputSize), outputs (classes or responses) and the number of learnables."""
    from .graph.analysis import analyzeNetwork

    lines = []
    for layer in net.Layers:
        if layer.IS_INPUT:
            size = " ".join(str(n) for n in getattr(layer, "InputSize", ()))
            lines.append(f"Input:       {layer.Name}, InputSize [{size}]")
    outputs = [layer for layer in net.Layers if layer.IS_OUTPUT]
    for layer in outputs:
        classes = getattr(layer, "Classes", None)
        if classes is None:
            text = f"{layer.Type} (numeric responses)"
        elif isinstance(classes, str):
            text = f"Classes '{classes}' (set from the training labels by trainNetwork)"
        else:
            names = [str(c) for c in classes]
            text = (f"{len(names)} classes: {', '.join(names[:20])}"
                    f"{', ...' if len(names) > 20 else ''}")
        lines.append(f"Output:      {layer.Name}, {text}")
    if not outputs:
        lines.append(f"Outputs:     {', '.join(getattr(net, 'OutputNames', []) or ['none'])}")
    total = analyzeNetwork(net).TotalLearnables
    stored = sum(int(np.size(getattr(layer, n))) for layer in net.Layers
                 for n in layer.LEARNABLES if getattr(layer, n) is not None)
    lines.append(f"Learnables:  {total:,}" if total == total else
                 f"Learnables:  {stored:,} stored (the network has errors: see --analyze)")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``layergraph`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE, end="", file=sys.stdout if argv else sys.stderr)
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
