"""Benchmark: one U-Net gradient step (unet3dLayers, pixel cross-entropy), ours vs PyTorch (CPU).

Cases: the segmentation demo's network (unet3dLayers([16 16 16 1], 3, EncoderDepth=2,
NumFirstEncoderFilters=4), batch 4) and a larger one (32^3, NumFirstEncoderFilters=8, batch 4).
Ours: ``Executor.loss_and_gradients`` (training forward with batch statistics, the pixel loss over
the labelled voxels, backward to every learnable). Torch: the same graph interpreted in eager
torch (conv3d 'same', batch_norm training, relu, max_pool3d, conv_transpose3d, cat, softmax),
starting from OUR parameters, loss ``-sum(t log y) / labelled``, ``backward()``. The losses must
agree before anything is timed. Paired medians (see _common).

    python benchmarks/bench_unet.py [--threads N] [--reps R] [--quick]
"""
from __future__ import annotations

import _common

CASES = {"demo16": (16, 4, 4), "vol32": (32, 8, 4)}      # volume edge, first filters, batch


def _torch_step(torch, lgraph, params, x, t):
    """Forward through the graph in torch, the pixel loss, backward; returns the loss."""
    F = torch.nn.functional
    for p in params.values():
        p.grad = None
    out, layers = {}, list(lgraph.Layers)
    for i in lgraph.topological_order():
        layer, kind = layers[i], type(layers[i]).__name__
        xs = [out[src] for src in lgraph.input_sources(i)]
        p = {n: params[(layer.Name, n)] for n in layer.LEARNABLES}
        if layer.IS_INPUT:
            y = x
        elif kind.startswith("Convolution"):
            y = F.conv3d(xs[0], p["Weights"], p["Bias"], padding="same")
        elif kind.startswith("TransposedConvolution"):
            y = F.conv_transpose3d(xs[0], p["Weights"], p["Bias"], stride=2)
        elif kind == "BatchNormalizationLayer":
            y = F.batch_norm(xs[0], None, None, p["Scale"], p["Offset"], training=True,
                             eps=layer.Epsilon)
        elif kind == "ReLULayer":
            y = F.relu(xs[0])
        elif kind.startswith("MaxPooling"):
            y = F.max_pool3d(xs[0], 2, 2)
        elif kind == "ConcatenationLayer":
            y = torch.cat(xs, dim=1)
        elif kind == "SoftmaxLayer":
            y = F.softmax(xs[0], dim=1)
        elif layer.IS_OUTPUT:
            y = xs[0]
        else:
            raise SystemExit(f"no torch rule for {kind}")
        out[(i, 0)] = y
    loss = -(t * torch.log(y.clamp_min(1.1920929e-07))).sum() / t.sum()
    loss.backward()
    return loss.item()


def main(argv=None) -> int:
    parser = _common.base_parser(__doc__.splitlines()[0])
    args = parser.parse_args(argv)
    _common.setup(args)
    import numpy as np
    import torch

    import layergraph as lg
    from layergraph.runtime.executor import Executor
    from layergraph.training import setup

    _common.pin_torch_threads(torch, args.threads)
    print(_common.machine_line(args.threads))
    rows = []
    for name, (size, filters, batch) in CASES.items():
        if args.quick and name != "demo16":
            continue
        rng = np.random.default_rng(0)
        lgraph = lg.unet3dLayers([size, size, size, 1], 3, EncoderDepth=2,
                                 NumFirstEncoderFilters=filters)
        lgraph = lg.replaceLayer(lgraph, "ImageInputLayer", lg.image3dInputLayer(
            [size, size, size, 1], Normalization="none", Name="ImageInputLayer"))
        lgraph = lg.replaceLayer(lgraph, "Segmentation-Layer", lg.pixelClassificationLayer(
            Name="Segmentation-Layer", Classes=["a", "b", "c"]))
        lgraph = setup.initialize_graph(lgraph, rng)
        ex = Executor(lgraph)
        x = rng.standard_normal((1, batch, size, size, size)).astype(np.float32)
        codes = rng.integers(0, 3, (batch, size, size, size))
        t = np.stack([(codes == k) for k in range(3)]).astype(np.float32)
        params = {k: torch.tensor(np.asarray(v), requires_grad=True) for k, v in ex.params.items()}
        xt, tt = torch.tensor(x.transpose(1, 0, 2, 3, 4)), torch.tensor(t.transpose(1, 0, 2, 3, 4))
        ours_loss = ex.loss_and_gradients(x, t)[0]
        theirs_loss = _torch_step(torch, lgraph, params, xt, tt)
        if abs(ours_loss - theirs_loss) > 1e-4 * abs(theirs_loss):
            raise SystemExit(f"{name}: losses differ, ours {ours_loss} vs torch {theirs_loss}")
        ours, theirs = _common.paired_times(
            lambda: ex.loss_and_gradients(x, t),
            lambda: _torch_step(torch, lgraph, params, xt, tt), args.reps)
        o, th = _common.median(ours), _common.median(theirs)
        rows.append([f"{name} {size}^3 F{filters} x{batch}", f"{o * 1e3:.1f}", f"{th * 1e3:.1f}",
                     f"{o / th:.2f}"])
    print(_common.format_table(["U-Net step (forward+backward)", "ours ms", "torch ms", "ratio"],
                               rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
