"""Benchmark: the autodiff tape's overhead on a ResNet training step against trainNetwork's executor.

Network: resnet3dNetwork([32 32 32 1], 4, InitialFilterSize=3, InitialStride=1, InitialNumFilters=16,
BottleneckType="none", StackDepth=[1 1], NumFilters=[16 32]) (``--quick``: 16^3, batch 4), batch 8,
float32, CPU. Paired timings (see _common), medians:

* executor: the gradient computation of trainNetwork's step (Executor.forward in training mode,
  the cross-entropy op and Executor.backward), as ``Executor.loss_and_gradients`` runs it;
* tape:     ``dlfeval(modelLoss, net, X, T)`` with ``Y, state = forward(net, X)``,
  ``loss = crossentropy(Y, T)`` and ``dlgradient(loss, net.Learnables)`` (MATLAB's custom loop);
* loop:     the tape step plus ``sgdmupdate`` (a custom-loop iteration; the update gives a new
  dlnetwork whose executor converts the parameters again).

The ratio tape / executor is the overhead of the tape (dlarray wrapping, the network node, the
loss on the tape, the Learnables table and its gradient table).

    python benchmarks/bench_tape.py [--threads N] [--reps R] [--quick]
"""
from __future__ import annotations

import sys

import _common


def main(argv=None) -> int:
    args = _common.base_parser(__doc__.splitlines()[0]).parse_args(argv)
    _common.setup(args)
    import numpy as np
    import layergraph as lg
    from layergraph.ops import loss as loss_ops
    from layergraph.runtime.layout import matlab_to_internal

    size, batch = (16, 4) if args.quick else (32, 8)
    lg.rng(0)
    net = lg.resnet3dNetwork([size, size, size, 1], 4, InitialFilterSize=3, InitialStride=1, InitialNumFilters=16,
                             BottleneckType="none", StackDepth=[1, 1], NumFilters=[16, 32])
    rng = np.random.default_rng(0)
    X = rng.standard_normal((size, size, size, 1, batch)).astype(np.float32)
    T = np.eye(4, dtype=np.float32)[:, rng.integers(0, 4, batch)]
    ex = net.executor
    out = net.OutputNames[0]
    x = matlab_to_internal(X, 3)

    def executor_step():
        fp = ex.forward(x, training=True, outputs=[out])
        y = fp.outputs[out]
        _, cache = loss_ops.cross_entropy_forward(y.reshape(y.shape[:2]), T)
        return ex.backward(fp, {out: loss_ops.cross_entropy_backward(cache).reshape(y.shape)})

    def model_loss(net, X, T):
        Y, state = lg.forward(net, X)
        loss = lg.crossentropy(Y, T)
        return loss, lg.dlgradient(loss, net.Learnables), state

    def tape_step():
        return lg.dlfeval(model_loss, net, X, T)

    def loop_iteration():
        _, grads, _ = lg.dlfeval(model_loss, net, X, T)
        return lg.sgdmupdate(net, grads, None)

    ref, ours = executor_step(), tape_step()[1]
    name, p = ours.Layer[0], ours.Parameter[0]
    layer = next(la for la in net.Layers if la.Name == name)
    np.testing.assert_allclose(np.asarray(ours.Value[0]), layer.from_internal(p, ref[(name, p)]), rtol=1e-4,
                               atol=1e-6)
    tape_s, exec_s = _common.paired_times(tape_step, executor_step, args.reps)
    loop_s, exec2_s = _common.paired_times(loop_iteration, executor_step, args.reps)
    rows = [["tape step (dlfeval + dlgradient)", f"{_common.median(tape_s) * 1e3:.1f}",
             f"{_common.median(exec_s) * 1e3:.1f}", f"{_common.median(tape_s) / _common.median(exec_s):.3f}"],
            ["custom-loop iteration (+ sgdmupdate)", f"{_common.median(loop_s) * 1e3:.1f}",
             f"{_common.median(exec2_s) * 1e3:.1f}", f"{_common.median(loop_s) / _common.median(exec2_s):.3f}"]]
    print(_common.machine_line(args.threads))
    print(f"resnet3dNetwork {size}^3 x {batch}, float32, {args.reps} paired reps (medians)")
    print(_common.format_table(["case", "ours ms", "executor ms", "ratio"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
