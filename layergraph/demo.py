"""``python -m layergraph demo`` (``make demo``): the README's first run.

1. Builds the documented networks and prints their MATLAB displays:
   ``resnet3dLayers([224 224 64 3], 10)`` (177 layers, 192 connections) and the 3-D
   ResNet-101 variant (``StackDepth=[3 4 23 3]``: 347 / 379).
2. Trains a small 3-D ResNet made by resnet3dLayers on the synthetic shapes set
   (``syntheticShapes3d``) with trainNetwork and ValidationData, printing MATLAB's verbose
   table, and reports ``Validation accuracy: NN.N%``.
3. Saves the trained network, loads it back and checks that the predictions are identical.

``python -m layergraph demo segmentation``: trains ``unet3dLayers`` on the synthetic ball/cube
segmentation set (``syntheticSegmentation3d``), segments held-out volumes with ``semanticseg``
and reports ``dice`` per class (exit status 0 when the mean Dice is at least 0.9).
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from typing import Sequence

import numpy as np

from .builders.resnet import resnet3dLayers
from .builders.unet import unet3dLayers
from .datasets import syntheticSegmentation3d, syntheticShapes3d
from .networks.segmentation import dice, jaccard, semanticseg
from .serialization.network_file import loadNetwork, saveNetwork
from .networks.dag_network import DAGNetwork
from .training.options import trainingOptions
from .rng import rng
from .training.train_network import trainNetwork

__all__: list[str] = []

VOLUME = 16
DEMO_NETWORK = dict(InitialFilterSize=3, InitialStride=2, InitialNumFilters=16,
                    BottleneckType="none", StackDepth=[1, 1], NumFilters=[16, 32])


def _matlab_text(value) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + " ".join(map(str, value)) + "]"
    return str(value)


def show_documented_networks() -> None:
    """Print the two documented resnet3dLayers networks as MATLAB displays them."""
    print(">> lgraph = resnet3dLayers([224 224 64 3], 10)   % 3-D ResNet-50\n")
    print(resnet3dLayers([224, 224, 64, 3], 10))
    print(">> lgraph = resnet3dLayers([224 224 64 3], 10, StackDepth=[3 4 23 3], "
          "NumFilters=[64 128 256 512])   % 3-D ResNet-101\n")
    print(resnet3dLayers([224, 224, 64, 3], 10, StackDepth=[3, 4, 23, 3],
                         NumFilters=[64, 128, 256, 512]))


def train_small_network(epochs: int, num_train: int,
                        seed: int) -> tuple[DAGNetwork, np.ndarray, float]:
    """Train the small 3-D ResNet on synthetic shapes.

    Returns ``(net, XV, accuracy)``: the trained network, the validation volumes
    (16 x 16 x 16 x 1 x N) and the validation accuracy in percent.
    """
    XT, YT = syntheticShapes3d(num_train, VOLUME, seed=seed)
    XV, YV = syntheticShapes3d(num_train // 4, VOLUME, seed=seed + 1)
    lgraph = resnet3dLayers([VOLUME, VOLUME, VOLUME, 1], len(YT.categories), **DEMO_NETWORK)
    print(f">> [XTrain, YTrain] = syntheticShapes3d({num_train}, {VOLUME});  "
          f"% classes: {', '.join(YT.categories)}")
    settings = ", ".join(f"{k}={_matlab_text(v)}" for k, v in DEMO_NETWORK.items())
    print(f">> lgraph = resnet3dLayers([{VOLUME} {VOLUME} {VOLUME} 1], {len(YT.categories)}, "
          f"{settings});")
    print(f"   ({len(lgraph.Layers)} layers, {len(lgraph.Connections)} connections)\n")
    options = trainingOptions("adam", InitialLearnRate=0.01, MaxEpochs=epochs,
                              MiniBatchSize=32, Shuffle="every-epoch",
                              ValidationData=(XV, YV), ValidationFrequency=20,
                              VerboseFrequency=10, LearnRateSchedule="piecewise",
                              LearnRateDropPeriod=max(epochs - 2, 1), LearnRateDropFactor=0.1)
    rng(seed)
    net, _ = trainNetwork(XT, YT, lgraph, options)
    predicted, _ = net.classify(XV)
    accuracy = 100.0 * float(np.mean(np.asarray(predicted) == np.asarray(YV)))
    return net, XV, accuracy


def check_save_and_load(net: DAGNetwork, XV: np.ndarray) -> bool:
    """Save, reload and compare predictions; prints the outcome."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "shapes3d.lgnet")
        saveNetwork(net, path)
        size = os.path.getsize(path)
        same = bool(np.array_equal(net.predict(XV), loadNetwork(path).predict(XV)))
    print(f">> saveNetwork(net, \"shapes3d.lgnet\"); net2 = loadNetwork(\"shapes3d.lgnet\");")
    print(f"Saved {size} bytes; reloaded predictions "
          f"{'identical' if same else 'DIFFER'} to the trained network's.")
    return same


def segmentation_main(argv: Sequence[str]) -> int:
    """``layergraph demo segmentation``: returns 0 when the validation mean Dice >= 0.9."""
    parser = argparse.ArgumentParser(prog="layergraph demo segmentation",
                                     description="Train unet3dLayers on synthetic ball/cube volumes.")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--num-train", type=int, default=192)
    parser.add_argument("--volume", type=int, default=16, help="edge of the cubic volumes (multiple of 4)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    for flag, value, minimum in (("--epochs", args.epochs, 1), ("--num-train", args.num_train, 4),
                                 ("--volume", args.volume, 8), ("--seed", args.seed, 0)):
        if value < minimum:
            parser.error(f"{flag} must be at least {minimum}. Received: {flag} {value}.")
    if args.volume % 4:
        parser.error(f"--volume must be a multiple of 4 (EncoderDepth 2). Received: --volume {args.volume}.")
    start, s = time.perf_counter(), args.volume
    XT, LT = syntheticSegmentation3d(args.num_train, s, seed=args.seed)
    XV, LV = syntheticSegmentation3d(16, s, seed=args.seed + 1)
    print(f">> [XTrain, LTrain] = syntheticSegmentation3d({args.num_train}, {s});  "
          "% labels: background, ball, cube")
    print(f">> lgraph = unet3dLayers([{s} {s} {s} 1], 3, EncoderDepth=2, NumFirstEncoderFilters=4)")
    lgraph = unet3dLayers([s, s, s, 1], 3, EncoderDepth=2, NumFirstEncoderFilters=4)
    print(lgraph)
    options = trainingOptions("adam", InitialLearnRate=0.01, MaxEpochs=args.epochs, MiniBatchSize=4,
                              Shuffle="every-epoch", ValidationData=(XV, LV), ValidationFrequency=48,
                              VerboseFrequency=24, LearnRateSchedule="piecewise",
                              LearnRateDropPeriod=max(args.epochs - 2, 1), LearnRateDropFactor=0.3)
    print(">> net = trainNetwork(XTrain, LTrain, lgraph, options);")
    rng(args.seed)
    net, _ = trainNetwork(XT, LT, lgraph, options)
    print("\n>> C = semanticseg(XVal, net); similarity = dice(C, LVal)")
    predicted = semanticseg(XV, net)
    scores, overlaps = dice(predicted, LV), jaccard(predicted, LV)
    for name, d, j in zip(("background", "ball", "cube"), scores, overlaps):
        print(f"   {name:<10}  Dice {d:.4f}   Jaccard {j:.4f}")
    mean = float(np.nanmean(scores))
    print(f"Mean Dice: {mean:.4f}")
    print(f"Demo finished in {time.perf_counter() - start:.0f} s.")
    return 0 if mean >= 0.9 else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo; returns 0 when accuracy >= 90% and the reload matches."""
    if argv is not None and list(argv)[:1] == ["segmentation"]:
        return segmentation_main(list(argv)[1:])
    parser = argparse.ArgumentParser(
        prog="layergraph demo",
        description="The README's first run (make demo): print the documented 3-D ResNet "
                    "displays, train a small 3-D ResNet on synthetic volumes with trainNetwork, "
                    "then save, reload and compare its predictions. 'layergraph demo segmentation': "
                    "train unet3dLayers on synthetic volumes and report Dice.")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--num-train", type=int, default=1280)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-displays", action="store_true")
    args = parser.parse_args(argv)
    for flag, value, minimum in (("--epochs", args.epochs, 1), ("--num-train", args.num_train, 32),
                                 ("--seed", args.seed, 0)):
        if value < minimum:   # checked before the displays and the data (--num-train: one mini-batch of 32)
            parser.error(f"{flag} must be at least {minimum}. Received: {flag} {value}.")
    start = time.perf_counter()
    if not args.skip_displays:
        show_documented_networks()
    net, XV, accuracy = train_small_network(args.epochs, args.num_train, args.seed)
    print(f"\nValidation accuracy: {accuracy:.1f}%")
    same = check_save_and_load(net, XV)
    print(f"Demo finished in {time.perf_counter() - start:.0f} s.")
    return 0 if accuracy >= 90.0 and same else 1
