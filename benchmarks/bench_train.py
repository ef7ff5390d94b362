"""Benchmark: training a small resnet3dLayers network, ours vs its PyTorch eager twin (CPU).

Network (the target case): resnet3dLayers([32 32 32 1], 4, InitialFilterSize=3, InitialStride=1,
InitialNumFilters=16, BottleneckType="none", StackDepth=[1 1], NumFilters=[16 32]), 32^3 volumes,
batch 8, SGDM (lr 0.01, momentum 0.9, L2 1e-4). The torch twin is built FROM the LayerGraph and
starts from OUR initial weights; a forward pass and two steps must agree before anything is timed.

Two measurements, each over the same ``--iters`` mini-batches, paired (see _common):
* step:  one SGDM step (forward, backward, L2, update, BN state) — Executor + solvers vs torch.
* epoch, "population": ``trainNetwork`` for one epoch of ``--iters`` mini-batches with MATLAB's
  default BatchNormalizationStatistics="population" (this includes the input normalization pass
  and the population pass, i.e. roughly one extra forward over the data, which the torch loop
  does not do) vs the torch loop over the same mini-batches.
* epoch, "moving": the same with BatchNormalizationStatistics="moving" (no population pass):
  like for like with the torch loop.
* epoch of a longer run: (trainNetwork with MaxEpochs=3 minus MaxEpochs=1) / 2, BN "population":
  the cost of each further epoch once the one-off passes (input statistics, set-up, population
  pass, which MATLAB does once per training, not per epoch) are paid — what a 30-epoch training
  pays per epoch.

    python benchmarks/bench_train.py [--threads N] [--reps R] [--iters K] [--quick] [--profile]

``--profile`` also prints where our step spends its time (cProfile of two steps, by own time).
"""
from __future__ import annotations

import sys

import _common


def main(argv=None) -> int:
    parser = _common.base_parser(__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=4, help="mini-batches per epoch")
    parser.add_argument("--net", default=None,
                        choices=["small", "medium", "small2d", "volume64", "default64", "tiny"],
                        help="network (default: small; tiny with --quick)")
    parser.add_argument("--profile", action="store_true", help="time each layer type's forward/backward over 4 of our steps")
    args = parser.parse_args(argv)
    _common.setup(args)
    import torch

    import _train_setup as setup
    from layergraph import trainNetwork, trainingOptions

    _common.pin_torch_threads(torch, args.threads)
    net = args.net or ("tiny" if args.quick else "small")
    iters = 2 if args.quick else args.iters
    print(_common.machine_line(args.threads))
    lgraph, X, Y, batch = setup.prepare(net, iters * setup.NETWORKS[net][1])
    print(f"# network '{net}': {len(lgraph.Layers)} layers, input {X.shape[:-1]}, batch {batch}, "
          f"{iters} mini-batches per epoch")
    ours = setup.OursTrainer(lgraph, X, Y, batch)
    theirs = setup.TorchTrainer(torch, lgraph, X, Y, batch)
    print(setup.check_agreement(ours, theirs, X))

    step_ours, step_torch = _common.paired_times(ours.step, theirs.step, max(args.reps, iters))
    def torch_epoch():
        for _ in range(iters):
            theirs.step()

    def torch_epoch_and_statistics_pass():
        """The torch epoch plus the work MATLAB's BN "population" adds: one training-mode
        forward of every mini-batch (no autograd) after the last step."""
        torch_epoch()
        with torch.no_grad():
            for x, _ in theirs.batches:
                theirs.twin.forward(x, training=True)

    def options(statistics, epochs=1):
        return trainingOptions("sgdm", InitialLearnRate=setup.LR, Momentum=setup.MOMENTUM,
                               L2Regularization=setup.L2, MaxEpochs=epochs, MiniBatchSize=batch,
                               Shuffle="never", Verbose=False, ExecutionEnvironment="cpu",
                               BatchNormalizationStatistics=statistics)

    predict_ours, predict_torch = _common.paired_times(ours.predict, theirs.predict, args.reps)
    all_ours, all_torch = _common.paired_times(ours.predict_all, theirs.predict_all, args.reps)
    rows = [_row("SGDM step", step_ours, step_torch),
            _row(f"inference forward of a batch of {batch} (predict)", predict_ours, predict_torch),
            _row(f"inference over {iters} batches (predict of the data set)", all_ours, all_torch)]
    one_epoch = {}
    for statistics in ("population", "moving"):
        opts = options(statistics)
        epoch_ours, epoch_torch = _common.paired_times(
            lambda: trainNetwork(X, Y, lgraph, opts), torch_epoch, args.reps)
        one_epoch[statistics] = epoch_ours
        rows.append(_row(f'epoch ({iters} steps; ours = trainNetwork, BN "{statistics}")',
                         epoch_ours, epoch_torch))
        if statistics == "population":
            same_ours, same_torch = _common.paired_times(
                lambda: trainNetwork(X, Y, lgraph, opts), torch_epoch_and_statistics_pass,
                args.reps)
            rows.append(_row('  the same, torch also running the statistics pass (same work)',
                             same_ours, same_torch))
    three = options("population", epochs=3)
    three_ours, three_torch = _common.paired_times(
        lambda: trainNetwork(X, Y, lgraph, three), lambda: [torch_epoch() for _ in range(3)],
        args.reps)
    marginal = (_common.median(three_ours) - _common.median(one_epoch["population"])) / 2
    rows.append(_row('further epoch of a 3-epoch run, BN "population" ((T3 - T1) / 2)',
                     [marginal], [_common.median(three_torch) / 3]))
    print(_common.format_table(["measure", "ours ms", "torch ms", "ratio"], rows))
    print("# ratio = median ours / median torch (>1: ours slower)")
    if args.profile:
        _profile(ours, 4)
    return 0


def _profile(trainer, count: int) -> None:
    """Where ``count`` of our steps spend their time: wall time inside each layer's forward and
    backward (the ops' own threads included), by layer type and for the costliest layers.

    (cProfile cannot see into the ops' worker threads: it books their time as lock waits.)
    """
    import collections
    import time

    spent: dict[tuple[str, str], float] = collections.defaultdict(float)
    classes = {type(layer) for layer in trainer.ex.layers}
    originals = {(cls, m): cls.__dict__.get(m) for cls in classes for m in ("forward", "backward")}

    def timed(method, direction):
        def wrapper(layer, *args, **kwargs):
            start = time.perf_counter()
            try:
                return method(layer, *args, **kwargs)
            finally:
                spent[(layer.Name, direction)] += time.perf_counter() - start
        return wrapper

    for (cls, name) in originals:
        setattr(cls, name, timed(getattr(cls, name), name))
    try:
        trainer.step()                                   # warm-up with the wrappers in place
        spent.clear()
        start = time.perf_counter()
        for _ in range(count):
            trainer.step()
        step = (time.perf_counter() - start) / count
    finally:
        for (cls, name), method in originals.items():
            if method is None:
                delattr(cls, name)
            else:
                setattr(cls, name, method)
    kinds = {layer.Name: layer.Type for layer in trainer.ex.layers}
    by_kind: dict[tuple[str, str], float] = collections.defaultdict(float)
    for (layer, direction), seconds in spent.items():
        by_kind[(kinds[layer], direction)] += seconds / count
    rows = [[kind, direction, 1e3 * t, 100 * t / step]
            for (kind, direction), t in sorted(by_kind.items(), key=lambda kv: -kv[1])]
    rows.append(["executor, loss, solver (rest of the step)", "",
                 1e3 * (step - sum(by_kind.values())), 100 * (1 - sum(by_kind.values()) / step)])
    print(f"# where our step spends its time (mean of {count} steps, {1e3 * step:.0f} ms a step):")
    print(_common.format_table(["layer type", "pass", "ms", "% of step"], rows))
    top = sorted(spent.items(), key=lambda kv: -kv[1])[:8]
    print("# costliest layers: " + ", ".join(f"{name} {direction} {1e3 * t / count:.1f} ms"
                                              for (name, direction), t in top))


def _row(label, ours, theirs):
    m_ours, m_theirs = _common.median(ours), _common.median(theirs)
    return [label, 1e3 * m_ours, 1e3 * m_theirs, m_ours / m_theirs]


if __name__ == "__main__":
    sys.exit(main())
