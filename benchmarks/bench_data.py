"""Benchmark: one training epoch from a folder of .npy volumes vs the same epoch from memory.

Prints the epoch time from memory (the reference), from the folder with and without
DispatchInBackground, and with a 3-D augmentation transform (randomAffine3d + imwarp) read in
the background, each with its ratio to memory; then, in a fresh process, the peak resident
memory growth while training from the folder, next to the folder's size and a mini-batch's.
Not a timed test. Run: ``python benchmarks/bench_data.py [--volumes 96 --size 32 --batch 8]``.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from layergraph import (batchNormalizationLayer, classificationLayer, convolution3dLayer,
                        fullyConnectedLayer, globalAveragePooling3dLayer, image3dInputLayer,
                        imageDatastore, imwarp, randomAffine3d, reluLayer, rng, softmaxLayer,
                        trainingOptions, trainNetwork, transform)


def layers(size: int):
    return [image3dInputLayer([size, size, size, 1], Normalization="none", Name="in"),
            convolution3dLayer(3, 8, Padding="same", Name="c1"), batchNormalizationLayer(Name="b1"),
            reluLayer(Name="r1"), convolution3dLayer(3, 8, Padding="same", Stride=2, Name="c2"),
            batchNormalizationLayer(Name="b2"), reluLayer(Name="r2"),
            globalAveragePooling3dLayer(Name="gap"), fullyConnectedLayer(2, Name="fc"),
            softmaxLayer(Name="sm"), classificationLayer(Name="out")]


def write_folder(root: str, n: int, size: int) -> tuple[np.ndarray, list[str]]:
    g = np.random.default_rng(0)
    X = g.standard_normal((size, size, size, 1, n)).astype(np.float32)
    labels = ["hi" if X[..., i].mean() > 0 else "lo" for i in range(n)]
    for i, label in enumerate(labels):
        os.makedirs(os.path.join(root, label), exist_ok=True)
        np.save(os.path.join(root, label, f"v{i:05d}.npy"), X[..., 0, i])
    return X, labels


def second_epoch_seconds(data, args, size: int, **options) -> float:
    """Wall time of epoch 2 (epoch 1 warms caches and the page cache)."""
    stamps: dict[int, float] = {}

    def stamp(info):
        stamps[info.Epoch] = time.perf_counter()
    opts = trainingOptions("sgdm", MaxEpochs=2, MiniBatchSize=args.batch, Shuffle="every-epoch",
                           Verbose=False, ExecutionEnvironment="cpu", OutputFcn=stamp,
                           BatchNormalizationStatistics="moving", **options)
    rng(0)
    trainNetwork(*data, layers(size), opts)
    return stamps[2] - stamps[1]


def augment(volume: np.ndarray, info: dict) -> tuple[list, dict]:
    """A transform with IncludeInfo: the warped volume and its label (from the read info)."""
    return [imwarp(volume, randomAffine3d(Rotation=[-10, 10], XReflection=True)),
            info["Label"]], info


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))


def rss_child(root: str, args) -> None:
    """In a fresh process: resident memory before training and the peak after it (KiB);
    ``--rss-memory`` loads the folder into one array first and trains from it (the reference)."""
    imds = imageDatastore(root, IncludeSubfolders=True, LabelSource="foldernames")
    data = (imds,)
    if args.rss_memory:
        X = np.stack([np.load(f)[..., None] for f in imds.Files], axis=-1)
        data = (X, imds.Labels)
    before = _status_kib("VmRSS")                         # resident now, not the peak
    opts = trainingOptions("sgdm", MaxEpochs=1, MiniBatchSize=args.batch, Verbose=False,
                           ExecutionEnvironment="cpu", DispatchInBackground=True)
    trainNetwork(*data, layers(args.size), opts)
    after = _status_kib("VmHWM")        # this process's peak (ru_maxrss keeps the parent's)
    print(f"{before} {after}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--volumes", type=int, default=96)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--rss-child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--rss-memory", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        rss_child(args.rss_child, args)
        return
    with tempfile.TemporaryDirectory() as root:
        X, labels = write_folder(root, args.volumes, args.size)
        imds = imageDatastore(root, IncludeSubfolders=True, LabelSource="foldernames")
        order = [int(os.path.basename(f)[1:6]) for f in imds.Files]
        Xs, Ys = X[..., order], [labels[i] for i in order]
        print(f"{args.volumes} volumes of {args.size}^3 float32 "
              f"({X.nbytes / 2**20:.1f} MiB), MiniBatchSize {args.batch}, epoch 2 of 2")
        memory = second_epoch_seconds((Xs, Ys), args, args.size)
        print(f"{'from memory (reference)':44s} {memory:8.3f} s   1.00x")
        for name, data, opts in [
                ("folder, foreground reads", (imds,), {}),
                ("folder, DispatchInBackground", (imds,), {"DispatchInBackground": True}),
                ("folder + randomAffine3d, background", (transform(imds, augment, IncludeInfo=True),),
                 {"DispatchInBackground": True})]:
            t = second_epoch_seconds(data, args, args.size, **opts)
            print(f"{name:44s} {t:8.3f} s   {t / memory:.2f}x")
        growth = {}
        for mode in ("folder", "memory"):
            out = subprocess.run([sys.executable, __file__, "--rss-child", root, "--volumes",
                                  str(args.volumes), "--size", str(args.size), "--batch",
                                  str(args.batch)] + (["--rss-memory"] if mode == "memory" else []),
                                 capture_output=True, text=True, check=True)
            before, after = (int(v) for v in out.stdout.split())
            growth[mode] = (after - before) / 1024
        batch_mib = args.batch * args.size ** 3 * 4 / 2**20
        print(f"peak RSS above the resident size before training, one epoch: from the folder "
              f"{growth['folder']:.1f} MiB, from memory (data already resident) "
              f"{growth['memory']:.1f} MiB; folder {X.nbytes / 2**20:.1f} MiB, one mini-batch "
              f"{batch_mib:.1f} MiB")


if __name__ == "__main__":
    main()
