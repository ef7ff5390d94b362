"""Training-benchmark fixtures shared by bench_train, bench_memory and bench_gpu.

* ``NETWORKS``: resnet3dLayers (resnetLayers for 2-D inputs) arguments of the benchmarked
  networks, and their batch size.
* ``prepare(name, num_obs)``: the LayerGraph with OUR initial weights (He) and the input
  layer's Mean set, plus synthetic data (MATLAB layout) and labels.
* ``OursTrainer`` / ``TorchTrainer``: one SGDM training step per call on pre-built mini-batches,
  the same arithmetic on both sides (MATLAB trainer order: gradients, L2, solver step, BN state).
"""
from __future__ import annotations

import numpy as np

LR, MOMENTUM, L2 = 0.01, 0.9, 1e-4

NETWORKS = {
    # the target case: 3x3x3 basic blocks, 32^3 volumes, batch 8
    "small": (dict(inputSize=[32, 32, 32, 1], numClasses=4, InitialFilterSize=3, InitialStride=1,
                   InitialNumFilters=16, BottleneckType="none", StackDepth=[1, 1],
                   NumFilters=[16, 32]), 8),
    # wider and deeper: 6 basic blocks, 32 -> 128 channels, stride-2 stages, batch 4
    "medium": (dict(inputSize=[32, 32, 32, 1], numClasses=4, InitialFilterSize=3,
                    InitialStride=1, InitialNumFilters=32, BottleneckType="none",
                    StackDepth=[2, 2, 2], NumFilters=[32, 64, 128]), 4),
    # the 'small' architecture on 64^3 volumes, batch 2: one observation's columns span many tiles
    "volume64": (dict(inputSize=[64, 64, 64, 1], numClasses=4, InitialFilterSize=3,
                      InitialStride=1, InitialNumFilters=16, BottleneckType="none",
                      StackDepth=[1, 1], NumFilters=[16, 32]), 2),
    # MATLAB's defaults (7x7x7 stride-2 stem of 64 filters, max pooling, bottleneck blocks) on
    # 64^3 volumes, two stages, batch 2
    "default64": (dict(inputSize=[64, 64, 64, 1], numClasses=4, StackDepth=[1, 1],
                       NumFilters=[16, 32]), 2),
    # 2-D (resnetLayers): MATLAB's default 7x7 stride-2 stem and max pooling, 3 channels, 64^2
    "small2d": (dict(inputSize=[64, 64, 3], numClasses=4, BottleneckType="none",
                     StackDepth=[2, 2], NumFilters=[64, 128]), 16),
    # smoke-test size (--quick, --dry-run)
    "tiny": (dict(inputSize=[8, 8, 8, 1], numClasses=4, InitialFilterSize=3, InitialStride=1,
                  InitialNumFilters=4, BottleneckType="none", StackDepth=[1, 1],
                  NumFilters=[4, 8]), 2),
    # GPU size: 64^3 volumes, bottleneck blocks, wider
    "gpu": (dict(inputSize=[64, 64, 64, 1], numClasses=4, InitialFilterSize=3, InitialStride=1,
                 InitialNumFilters=32, StackDepth=[1, 1, 1], NumFilters=[16, 32, 64]), 8),
}


def prepare(name: str, num_obs: int, seed: int = 0):
    """Returns ``(lgraph, X, Y, batch)``: initialised graph, X (h,w,d,1,N) float32 (2-D:
    (h,w,c,N), the middle slices of the volumes, one scaled copy per channel), Y categorical."""
    from layergraph import resnet3dLayers, resnetLayers, syntheticShapes3d

    kwargs, batch = NETWORKS[name]
    kwargs = dict(kwargs)
    size = kwargs["inputSize"]
    X, Y = syntheticShapes3d(num_obs, size[0], seed=seed)
    builder = resnet3dLayers
    if len(size) == 3:                      # 2-D image input (h, w, c)
        middle = X[:, :, size[0] // 2]      # (h, w, 1, N)
        X = np.concatenate([middle * np.float32(1 + 0.5 * c) for c in range(size[2])], axis=2)
        builder = resnetLayers
    lgraph = builder(kwargs.pop("inputSize"), kwargs.pop("numClasses"), **kwargs)
    return initialize_graph(lgraph, X, np.random.default_rng(seed)), X, Y, batch


def initialize_graph(lgraph, X, rng):
    """Every layer initialised in topological order (as trainNetwork does); the input layer's
    per-channel Mean (and StandardDeviation for 'zscore') computed from X."""
    layers = list(lgraph.Layers)
    sizes: dict[tuple[int, int], tuple[int, ...]] = {}
    axes = tuple(a for a in range(X.ndim) if a != X.ndim - 2)  # all but the channel axis
    shape = (1,) * (X.ndim - 2) + (-1,)
    for i in lgraph.topological_order():
        in_sizes = [sizes[tuple(src)] for src in lgraph.input_sources(i)]
        layer = layers[i].initialize(in_sizes, rng)
        if layer.IS_INPUT:
            stats = dict(Mean=X.mean(axis=axes).reshape(shape).astype(np.float32))
            if str(layer.Normalization).lower() == "zscore":
                stats["StandardDeviation"] = X.std(axis=axes).reshape(shape).astype(np.float32)
            layer = layer.copy(**stats)
        layers[i] = layer
        for port, size in enumerate(layer.output_sizes(in_sizes)):
            sizes[(i, port)] = tuple(size)
    return lgraph.with_layers(layers)


def mini_batches(X, Y, batch: int):
    """[(X_b MATLAB layout, Y_b categorical)] in order, the partial batch dropped."""
    return [(X[..., k:k + batch], Y[k:k + batch]) for k in range(0, X.shape[-1] - batch + 1, batch)]


class OursTrainer:
    """SGDM steps through layergraph's Executor and solvers (what trainNetwork runs per iteration)."""

    def __init__(self, lgraph, X, Y, batch: int, device: str = "cpu"):
        from layergraph import trainingOptions
        from layergraph.runtime import executor, layout, solvers

        self.solvers = solvers
        self.ex = executor.Executor(lgraph, device=device)
        layers = {layer.Name: layer for layer in lgraph.Layers}
        self.lr_factors = {k: executor.learn_rate_factor(layers[k[0]], k[1]) for k in self.ex.params}
        self.l2_factors = {k: executor.l2_factor(layers[k[0]], k[1]) for k in self.ex.params}
        self.solver = solvers.make_solver(trainingOptions(
            "sgdm", InitialLearnRate=LR, Momentum=MOMENTUM, L2Regularization=L2))
        classes = list(Y.categories)
        xp = self.ex.xp
        self.batches = [(layout.matlab_to_internal(xb, xb.ndim - 2, xp=xp),
                         xp.asarray(layout.onehot(yb, classes)))
                        for xb, yb in mini_batches(X, Y, batch)]
        self.count = 0

    def probabilities(self, x_matlab):
        """Training-mode forward of a MATLAB-layout batch -> (N, K) host probabilities."""
        from layergraph.runtime import layout
        from layergraph.ops import _backend

        x = layout.matlab_to_internal(x_matlab, x_matlab.ndim - 2, xp=self.ex.xp)
        scores = self.ex.forward({self.ex.names[0]: x}, training=True, outputs=["softmax"])
        y = _backend.to_host(scores.outputs["softmax"])
        return y.reshape(y.shape[0], y.shape[1]).T

    def predict(self):
        """Inference of the first mini-batch as ``predict`` runs it (on the CPU one share of
        the batch per thread: ``Executor.inference_batches``; trained statistics)."""
        x = self.batches[0][0]
        parts = self.ex.inference_batches(x.shape[1], x.shape[1])
        return self.ex.map_batches(lambda p: self.ex.forward(x[:, p], training=False).outputs,
                                   parts)

    def predict_all(self):
        """Inference over every mini-batch, as predict/classify run it (batches on the cores)."""
        return self.ex.map_batches(lambda b: self.ex.forward(b[0], training=False).outputs,
                                   self.batches)

    def step(self) -> float:
        """One SGDM step on the next mini-batch (cycling); returns the loss."""
        x, t = self.batches[self.count % len(self.batches)]
        self.count += 1
        loss, _, grads, state_update = self.ex.loss_and_gradients(x, t)
        grads = self.solvers.add_l2(grads, self.ex.params, L2, self.l2_factors)
        self.ex.params.update(self.solver.step(self.ex.params, grads, LR, self.lr_factors))
        self.ex.apply_state(state_update)
        return loss


class TorchTrainer:
    """The same SGDM steps on the torch twin of the graph (same initial weights, same batches)."""

    def __init__(self, torch, lgraph, X, Y, batch: int, device: str = "cpu"):
        from _torch_twin import TorchTwin

        self.torch = torch
        self.twin = TorchTwin(torch, lgraph, device=device)
        self.optimizer = self.twin.sgdm(lr=LR, momentum=MOMENTUM, l2=L2)
        self.batches = [(self.tensor(xb), torch.tensor(np.array(yb.codes, dtype=np.int64),
                                                          device=device))
                        for xb, yb in mini_batches(X, Y, batch)]
        self.count = 0

    def tensor(self, x_matlab):
        """MATLAB (h, w, d, c, N) -> torch (N, c, h, w, d) on the twin's device."""
        nd = x_matlab.ndim - 2
        x = np.ascontiguousarray(np.asarray(x_matlab).transpose(nd + 1, nd, *range(nd)))
        return self.torch.tensor(x, dtype=self.torch.float32, device=self.twin.device)

    def probabilities(self, x_matlab):
        with self.torch.no_grad():
            return self.twin.forward(self.tensor(x_matlab), training=True).cpu().numpy()

    def predict(self):
        """Inference forward (eval mode, no autograd) of the first mini-batch."""
        with self.torch.no_grad():
            return self.twin.forward(self.batches[0][0], training=False)

    def predict_all(self):
        """Inference over every mini-batch, one after the other (a torch evaluation loop)."""
        with self.torch.no_grad():
            return [self.twin.forward(x, training=False) for x, _ in self.batches]

    def step(self) -> float:
        x, labels = self.batches[self.count % len(self.batches)]
        self.count += 1
        return self.twin.train_step(self.optimizer, x, labels)


def check_agreement(ours: OursTrainer, theirs: TorchTrainer, X, steps: int = 2,
                    tolerance: float = 1e-3) -> str:
    """Correctness guard: one training-mode forward, then ``steps`` SGDM steps, must agree
    (probabilities to ``tolerance`` absolute, losses to ``tolerance`` relative).

    Raises SystemExit when they do not (a benchmark of a wrong result is meaningless).
    """
    batch = X[..., :ours.batches[0][1].shape[1]]
    forward_diff = float(np.abs(ours.probabilities(batch) - theirs.probabilities(batch)).max())
    losses = [(ours.step(), theirs.step()) for _ in range(steps)]
    loss_diff = max(abs(a - b) / max(abs(b), 1e-6) for a, b in losses)
    line = (f"# guard: forward max |p_ours - p_torch| = {forward_diff:.1e}; losses of {steps} steps "
            f"ours {[round(a, 5) for a, _ in losses]} torch {[round(b, 5) for _, b in losses]}")
    if forward_diff > tolerance or loss_diff > tolerance:
        raise SystemExit(line + "\nFAILED: ours and torch disagree; not timing a wrong result.")
    return line
