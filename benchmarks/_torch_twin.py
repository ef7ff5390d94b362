"""Build a PyTorch twin of an initialised LayerGraph (benchmarks only).

The twin walks ``lgraph.Layers`` and ``lgraph.Connections``, copies OUR learnables (MATLAB layout
-> torch layout) and runs the same arithmetic in torch eager: conv with MATLAB padding
(asymmetric 'same' through F.pad), batch norm (Epsilon from the layer), ReLU, max/average pooling,
global average pooling, addition, fully connected (MATLAB column-major flattening), softmax is
folded into the loss (``F.cross_entropy`` on the scores before softmax) during training.

    twin = TorchTwin(torch, lgraph, device="cpu")
    scores = twin.forward(x)              # x (N, C, *S) torch tensor; softmax probabilities
    optimizer = twin.sgdm(lr=0.01, momentum=0.9, l2=1e-4)
    twin.train_step(optimizer, x, labels) # labels: int64 class indices (N,)
"""
from __future__ import annotations

import numpy as np

import _torch_ops


def _parse_port(text: str) -> tuple[str, int]:
    """'add/in2' -> ('add', 1); 'relu' -> ('relu', 0); 'pool/out' -> ('pool', 0)."""
    name, _, port = text.partition("/")
    return name, (int(port[2:]) - 1 if port.startswith("in") else 0)


def _graph_inputs(lgraph) -> dict[str, list[str]]:
    """Destination layer -> list of source layer names in input-port order."""
    inputs: dict[str, dict[int, str]] = {}
    for source, destination in zip(lgraph.Connections["Source"], lgraph.Connections["Destination"]):
        dest_name, port = _parse_port(destination)
        inputs.setdefault(dest_name, {})[port] = _parse_port(source)[0]
    return {name: [ports[i] for i in sorted(ports)] for name, ports in inputs.items()}


def _topological(names: list[str], inputs: dict[str, list[str]]) -> list[str]:
    done: list[str] = []
    seen: set[str] = set()
    pending = list(names)
    while pending:
        ready = [n for n in pending if all(s in seen for s in inputs.get(n, []))]
        if not ready:
            raise ValueError(f"cycle or dangling input among layers {pending}")
        for n in ready:
            done.append(n)
            seen.add(n)
        pending = [n for n in pending if n not in seen]
    return done


def _spatial_tuple(value, nd: int) -> tuple[int, ...]:
    flat = np.asarray(value).reshape(-1).astype(int).tolist()
    return tuple(flat * nd if len(flat) == 1 else flat)


def _padding(layer, in_sizes, kernel, stride, dilation=None) -> tuple:
    """(before, after) per spatial dim: MATLAB 'same' recomputed from the input, or PaddingSize."""
    if str(getattr(layer, "PaddingMode", "manual")).lower() == "same":
        return _torch_ops.same_padding(in_sizes, kernel, stride, dilation)
    size = np.asarray(layer.PaddingSize, dtype=int)
    if len(in_sizes) == 3:  # 2x3 [t l f; b r k]: row 0 before, row 1 after
        befores, afters = size.reshape(2, 3).tolist()
        return tuple(zip(befores, afters))
    top, bottom, left, right = size.reshape(-1).tolist()  # 2-D [t b l r]
    return ((top, bottom), (left, right))


class TorchTwin:
    """The torch eager counterpart of a LayerGraph, holding its own copy of our weights."""

    def __init__(self, torch, lgraph, device: str = "cpu", dtype=None):
        self.torch, self.device = torch, device
        self.dtype = dtype or torch.float32
        self.layers = {layer.Name: layer for layer in lgraph.Layers}
        self.inputs = _graph_inputs(lgraph)
        self.order = _topological([layer.Name for layer in lgraph.Layers], self.inputs)
        self.params: dict[tuple[str, str], object] = {}
        self.factors: dict[tuple[str, str], tuple[float, float]] = {}
        self.bn_stats: dict[str, list] = {}
        self.constants: dict[tuple[str, str], object] = {}
        for layer in lgraph.Layers:
            self._adopt(layer)

    # ---- weights ---------------------------------------------------------------------------
    def _tensor(self, array, requires_grad=False):
        t = self.torch.tensor(np.ascontiguousarray(array), dtype=self.dtype, device=self.device)
        return t.requires_grad_(requires_grad)

    def _learnable(self, layer, prop: str, array) -> None:
        prefix = "Weight" if prop == "Weights" else prop  # WeightLearnRateFactor, BiasL2Factor
        lr_factor = float(getattr(layer, prefix + "LearnRateFactor", 1.0))
        l2_factor = float(getattr(layer, prefix + "L2Factor", 1.0))
        self.params[(layer.Name, prop)] = self._tensor(array, requires_grad=lr_factor != 0)
        self.factors[(layer.Name, prop)] = (lr_factor, l2_factor)

    def _adopt(self, layer) -> None:
        kind = type(layer).__name__
        if kind.startswith("Convolution"):
            w = np.asarray(layer.Weights)
            nd = w.ndim - 2
            self._learnable(layer, "Weights", w.transpose((nd + 1, nd) + tuple(range(nd))))
            self._learnable(layer, "Bias", np.asarray(layer.Bias).reshape(-1))
        elif kind == "BatchNormalizationLayer":
            self._learnable(layer, "Offset", np.asarray(layer.Offset).reshape(-1))
            self._learnable(layer, "Scale", np.asarray(layer.Scale).reshape(-1))
            channels = np.asarray(layer.Offset).size
            self.bn_stats[layer.Name] = [self._tensor(np.zeros(channels)), self._tensor(np.ones(channels))]
        elif kind == "FullyConnectedLayer":
            self._learnable(layer, "Weights", np.asarray(layer.Weights))
            self._learnable(layer, "Bias", np.asarray(layer.Bias).reshape(-1))
        elif layer.IS_INPUT:
            for prop in ("Mean", "StandardDeviation"):
                value = getattr(layer, prop, None)
                if value is not None and np.size(value):  # (h|1, w|1, d|1, C) -> (1, C, h|1, w|1, d|1)
                    value = np.asarray(value)
                    nd = value.ndim - 1
                    value = value.transpose((nd,) + tuple(range(nd)))[None] if nd > 0 else value
                    self.constants[(layer.Name, prop)] = self._tensor(value)

    def sgdm(self, lr: float = 0.01, momentum: float = 0.9, l2: float = 1e-4):
        """torch SGD with MATLAB's per-parameter learn-rate and L2 factors (factor 0: frozen).

        torch's v = m v + g; p -= lr v equals MATLAB's v = m v - lr g; p += v at a fixed lr.
        """
        groups: dict[tuple[float, float], list] = {}
        for key, tensor in self.params.items():
            lr_factor, l2_factor = self.factors[key]
            if lr_factor != 0:
                groups.setdefault((lr_factor, l2_factor), []).append(tensor)
        return self.torch.optim.SGD(
            [dict(params=ps, lr=lr * f, weight_decay=l2 * g) for (f, g), ps in groups.items()],
            lr=lr, momentum=momentum)

    # ---- execution -------------------------------------------------------------------------
    def forward(self, x, training: bool = False, logits: bool = False):
        """x (N, C, *S) -> class probabilities (N, K) (scores before softmax if ``logits``)."""
        values: dict[str, object] = {}
        for name in self.order:
            layer = self.layers[name]
            xs = [values[s] for s in self.inputs.get(name, [])] or [x]
            if logits and type(layer).__name__ == "SoftmaxLayer":
                values[name] = xs[0]
            else:
                values[name] = self._run(layer, xs, training)
        out = values[self.order[-1]]
        return out.reshape(out.shape[0], -1)

    def train_step(self, optimizer, x, labels) -> float:
        """One SGDM step on a mini-batch; returns the loss."""
        loss = self.torch.nn.functional.cross_entropy(self.forward(x, True, logits=True), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return float(loss.detach())

    def _run(self, layer, xs, training):
        torch, functional = self.torch, self.torch.nn.functional
        kind, x = type(layer).__name__, xs[0]
        padding_value = getattr(layer, "PaddingValue", 0)
        if isinstance(padding_value, str) or padding_value != 0:
            raise ValueError(f"TorchTwin: layer '{layer.Name}' pads with {padding_value!r}; only "
                             f"zero padding is mirrored")
        nd = x.ndim - 2
        if kind.endswith("InputLayer"):
            return self._normalize(layer, x)
        if kind.startswith("Convolution"):
            w = self.params[(layer.Name, "Weights")]
            kernel = tuple(w.shape[2:])
            stride = _spatial_tuple(layer.Stride, nd)
            dilation = _spatial_tuple(getattr(layer, "DilationFactor", 1), nd)
            pad = _padding(layer, tuple(x.shape[2:]), kernel, stride, dilation)
            return _torch_ops.conv(torch, x, w, self.params[(layer.Name, "Bias")], stride, pad, dilation)
        if kind == "BatchNormalizationLayer":
            mean, var = self.bn_stats[layer.Name]
            return functional.batch_norm(
                x, mean, var, self.params[(layer.Name, "Scale")], self.params[(layer.Name, "Offset")],
                training=training, momentum=0.1, eps=float(layer.Epsilon))
        if kind == "ReLULayer":
            return functional.relu(x)
        if kind.startswith(("MaxPooling", "AveragePooling")):
            pool = _spatial_tuple(layer.PoolSize, nd)
            stride = _spatial_tuple(layer.Stride, nd)
            pad = _padding(layer, tuple(x.shape[2:]), pool, stride)
            op = _torch_ops.max_pool if kind.startswith("Max") else _torch_ops.avg_pool
            return op(torch, x, pool, stride, pad)
        if kind.startswith("GlobalAveragePooling"):
            return x.mean(dim=tuple(range(2, x.ndim)), keepdim=True)
        if kind == "AdditionLayer":
            return sum(xs[1:], xs[0])
        if kind == "FullyConnectedLayer":
            flat = x.permute(0, 1, *reversed(range(2, x.ndim))).reshape(x.shape[0], -1)
            return functional.linear(flat, self.params[(layer.Name, "Weights")],
                                     self.params[(layer.Name, "Bias")])
        if kind == "SoftmaxLayer":
            return functional.softmax(x.reshape(x.shape[0], -1), dim=1)
        if kind.endswith("OutputLayer"):
            return x
        raise ValueError(f"TorchTwin: no torch counterpart for layer '{layer.Name}' of class {kind}")

    def _normalize(self, layer, x):
        """Input normalization with the statistics copied at construction (x - Mean [/ Std])."""
        mode = str(getattr(layer, "Normalization", "none")).lower()
        if mode == "none":
            return x
        if mode not in ("zerocenter", "zscore"):
            raise ValueError(f"TorchTwin: input Normalization '{mode}' is not mirrored")
        centred = x - self.constants[(layer.Name, "Mean")]
        return centred if mode == "zerocenter" else centred / self.constants[(layer.Name, "StandardDeviation")]
