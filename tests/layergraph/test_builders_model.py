"""An independent pure-Python model of the ResNet structure rules (spec/structure.md).

The builder and analysis tests compare the package against this model; the tests in this
file check the model itself against MATLAB's documented figures. It is written from the
spec's tables (explicit name lists per block kind) rather than from the package's code.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import pytest

DEFAULTS = dict(InitialFilterSize=7, InitialNumFilters=64, InitialStride=2, InitialPoolingLayer="max",
                ResidualBlockType="batchnorm-before-add", BottleneckType="downsample-first-conv",
                StackDepth=(3, 4, 6, 3), NumFilters=(64, 128, 256, 512), Normalization="zerocenter")

# Block layer names per (bottleneck, batchnorm-before-add), from the structure.md tables.
BLOCK_NAMES = {
    (True, True): ["conv1", "bn1", "relu1", "conv2", "bn2", "relu2", "conv3", "bn3", "add", "relu3"],
    (True, False): ["conv1", "bn1", "relu1", "conv2", "bn2", "relu2", "conv3", "add", "bn3", "relu3"],
    (False, True): ["conv1", "bn1", "relu1", "conv2", "bn2", "add", "relu2"],
    (False, False): ["conv1", "bn1", "relu1", "conv2", "add", "bn2", "relu2"],
}


@dataclass
class ModelLayer:
    name: str
    kind: str                      # input conv bn relu maxpool avgpool add gap fc softmax output
    filter_size: tuple = ()
    num_filters: int = 0
    stride: tuple = ()
    same: bool = True


@dataclass
class ModelNet:
    ndim: int
    options: dict
    num_classes: int
    layers: list = field(default_factory=list)
    edges: list = field(default_factory=list)      # (source name, destination name, port or None)

    @property
    def names(self) -> list[str]:
        return [layer.name for layer in self.layers]

    def sorted_connections(self) -> list[tuple[str, str]]:
        """MATLAB order: (source index, destination index, input port)."""
        pos = {n: i for i, n in enumerate(self.names)}
        rows = sorted(self.edges, key=lambda e: (pos[e[0]], pos[e[1]], e[2] or ""))
        return [(s, d if p is None else f"{d}/{p}") for s, d, p in rows]


def full_options(**given) -> dict:
    opts = {**DEFAULTS, **given}
    return {k: (tuple(v) if isinstance(v, (list, tuple)) else v) for k, v in opts.items()}


def _vec(v, ndim):
    return (v,) * ndim if isinstance(v, int) else tuple(v)


def model_resnet(ndim: int, num_classes: int = 10, **given) -> ModelNet:
    """The network the rules describe: layers in order and the connections with ports."""
    o = full_options(**given)
    bottleneck = o["BottleneckType"] == "downsample-first-conv"
    before = o["ResidualBlockType"] == "batchnorm-before-add"
    net = ModelNet(ndim, o, num_classes)
    ones = (1,) * ndim
    net.layers += [ModelLayer("input", "input"),
                   ModelLayer("conv1", "conv", _vec(o["InitialFilterSize"], ndim), o["InitialNumFilters"],
                              _vec(o["InitialStride"], ndim)),
                   ModelLayer("bn1", "bn"), ModelLayer("relu1", "relu")]
    pool = {"max": "maxpool1", "average": "avgpool1"}.get(o["InitialPoolingLayer"])
    if pool:
        net.layers.append(ModelLayer(pool, pool[:-1], (3,) * ndim, 0, (2,) * ndim))
    for a, b in zip(net.names, net.names[1:]):
        net.edges.append((a, b, None))
    last, channels = net.names[-1], o["InitialNumFilters"]
    for s, (depth, nf) in enumerate(zip(o["StackDepth"], o["NumFilters"]), start=1):
        out = 4 * nf if bottleneck else nf
        for b in range(1, depth + 1):
            tag = f"stack{s}_block{b}_"
            stride = (2,) * ndim if (s > 1 and b == 1) else ones
            names = [tag + n for n in BLOCK_NAMES[(bottleneck, before)]]
            convs = ([(ones, nf, stride), ((3,) * ndim, nf, ones), (ones, out, ones)] if bottleneck
                     else [((3,) * ndim, nf, stride), ((3,) * ndim, nf, ones)])
            conv_iter = iter(convs)
            for n in names:
                kind = n.rsplit("_", 1)[1].rstrip("0123456789")
                if kind == "conv":
                    k, f, st = next(conv_iter)
                    net.layers.append(ModelLayer(n, "conv", k, f, st))
                else:
                    net.layers.append(ModelLayer(n, kind))
            for a, c in zip(names, names[1:]):
                net.edges.append((a, c, "in1" if c.endswith("_add") else None))
            net.edges.append((last, names[0], None))
            if s > 1 and b == 1 or channels != out:
                skip = [tag + "skip_conv"] + ([tag + "skip_bn"] if before else [])
                net.layers.append(ModelLayer(skip[0], "conv", ones, out, stride, same=False))
                if before:
                    net.layers.append(ModelLayer(skip[1], "bn"))
                    net.edges.append((skip[0], skip[1], None))
                net.edges += [(last, skip[0], None), (skip[-1], tag + "add", "in2")]
            else:
                net.edges.append((last, tag + "add", "in2"))
            last, channels = names[-1], out
    final = ["gap", "fc", "softmax", "output"]
    net.layers += [ModelLayer(n, n) for n in final]
    net.edges += [(last, "gap", None)] + [(a, b, None) for a, b in zip(final, final[1:])]
    return net


# ---- closed forms ----------------------------------------------------------------------

def closed_form_counts(**given) -> tuple[int, int]:
    """(number of layers, number of connections) from the rules, without enumerating."""
    o = full_options(**given)
    bottleneck = o["BottleneckType"] == "downsample-first-conv"
    before = o["ResidualBlockType"] == "batchnorm-before-add"
    blocks = sum(o["StackDepth"])
    first_out = o["NumFilters"][0] * (4 if bottleneck else 1)
    skips = len(o["StackDepth"]) - 1 + (o["InitialNumFilters"] != first_out)
    n_layers = (4 + (o["InitialPoolingLayer"] != "none") + blocks * (10 if bottleneck else 7)
                + skips * (2 if before else 1) + 4)
    # every layer but the input has one connected input; each addition has a second one
    return n_layers, n_layers - 1 + blocks


def closed_form_depth(**given) -> int:
    o = full_options(**given)
    per_block = 3 if o["BottleneckType"] == "downsample-first-conv" else 2
    return 1 + per_block * sum(o["StackDepth"]) + 1


def closed_form_learnables(ndim: int, in_channels: int, num_classes: int, **given) -> int:
    """Total learnables: conv k*C*F + F, batch norm 2C, fully connected C*K + K."""
    o = full_options(**given)
    bottleneck = o["BottleneckType"] == "downsample-first-conv"
    before = o["ResidualBlockType"] == "batchnorm-before-add"
    k3 = 3 ** ndim
    f0 = o["InitialNumFilters"]
    total = math.prod(_vec(o["InitialFilterSize"], ndim)) * in_channels * f0 + f0 + 2 * f0
    cin = f0
    for s, (depth, nf) in enumerate(zip(o["StackDepth"], o["NumFilters"]), start=1):
        out = 4 * nf if bottleneck else nf
        if bottleneck:
            first = (cin * nf + nf) + 2 * nf + (k3 * nf * nf + nf) + 2 * nf + (nf * out + out) + 2 * out
            later = first - cin * nf + out * nf
        else:
            first = (k3 * cin * nf + nf) + 2 * nf + (k3 * nf * nf + nf) + 2 * nf
            later = first - k3 * cin * nf + k3 * out * nf
        total += first + (depth - 1) * later
        if s > 1 or cin != out:
            total += cin * out + out + (2 * out if before else 0)
        cin = out
    return total + cin * num_classes + num_classes


def closed_form_activation(ndim: int, input_size: tuple, **given) -> dict[str, tuple]:
    """Activation size (no batch) after the initial layers and after each stack."""
    o = full_options(**given)
    spatial = [math.ceil(n / s) for n, s in zip(input_size[:ndim], _vec(o["InitialStride"], ndim))]
    sizes = {"relu1": (*spatial, o["InitialNumFilters"])}
    if o["InitialPoolingLayer"] != "none":
        spatial = [math.ceil(n / 2) for n in spatial]
    for s, (depth, nf) in enumerate(zip(o["StackDepth"], o["NumFilters"]), start=1):
        if s > 1:
            spatial = [math.ceil(n / 2) for n in spatial]
        out = 4 * nf if o["BottleneckType"] == "downsample-first-conv" else nf
        sizes[f"stack{s}"] = (*spatial, out)
    return sizes


def longest_conv_path(net: ModelNet) -> int:
    """Depth by longest path over the model's edges (cross-checks the closed form)."""
    kind = {layer.name: layer.kind for layer in net.layers}
    waiting = {name: 0 for name in net.names}
    for _, d, _ in net.edges:
        waiting[d] += 1
    best = {name: 0 for name in net.names}
    ready = [name for name, n in waiting.items() if n == 0]
    while ready:  # Kahn: the skip layers come after their addition in Layers order
        name = ready.pop()
        best[name] += kind[name] in ("conv", "fc")
        for s, d, _ in net.edges:
            if s == name:
                best[d] = max(best[d], best[name])
                waiting[d] -= 1
                if waiting[d] == 0:
                    ready.append(d)
    return best["output"]


def model_activations(net: ModelNet, input_size: tuple) -> dict[str, tuple]:
    """Per layer, the activation size (no batch) by walking the model's layers.

    'same' convolutions and pools give ceil(n / stride); the 1x1 skip convolution (no padding)
    gives floor((n - 1) / stride) + 1, which is the same number.
    """
    ndim = net.ndim
    preds = {d: s for s, d, p in net.edges if p in (None, "in1")}
    channels_in = input_size[ndim] if len(input_size) > ndim else 1
    sizes: dict[str, tuple] = {"input": (*input_size[:ndim], channels_in)}
    pending = [layer for layer in net.layers if layer.kind != "input"]
    while pending:  # the skip layers come after their addition in Layers order
        later = []
        for layer in pending:
            if preds[layer.name] not in sizes:
                later.append(layer)
                continue
            *spatial, c = sizes[preds[layer.name]]
            if layer.kind in ("conv", "maxpool", "avgpool"):
                spatial = [math.ceil(n / s) for n, s in zip(spatial, layer.stride)]
                c = layer.num_filters or c
            elif layer.kind == "gap":
                spatial = [1] * ndim
            elif layer.kind in ("fc", "softmax", "output"):
                spatial, c = [1] * ndim, net.num_classes
            sizes[layer.name] = (*spatial, c)
        pending = later
    return sizes


# ---- the model against MATLAB's documented figures ---------------------------------------

DOCUMENTED = [
    ({}, 177, 192, 50),
    ({"StackDepth": (3, 4, 23, 3)}, 347, 379, 101),
    ({"BottleneckType": "none"}, 127, 142, 34),
    ({"StackDepth": (2, 2), "NumFilters": (64, 128)}, None, None, 14),
    ({"BottleneckType": "none", "StackDepth": (2, 2, 2), "NumFilters": (64, 128, 256)}, None, None, 14),
]


@pytest.mark.parametrize("options,n_layers,n_connections,depth", DOCUMENTED)
def test_model_reproduces_documented_figures(options, n_layers, n_connections, depth):
    net = model_resnet(3, **options)
    if n_layers is not None:
        assert (len(net.layers), len(net.edges)) == (n_layers, n_connections)
    assert closed_form_counts(**options) == (len(net.layers), len(net.edges))
    assert longest_conv_path(net) == closed_form_depth(**options) == depth


def test_model_connections_begin_as_documented():
    rows = model_resnet(3).sorted_connections()
    assert rows[:7] == [("input", "conv1"), ("conv1", "bn1"), ("bn1", "relu1"), ("relu1", "maxpool1"),
                        ("maxpool1", "stack1_block1_conv1"), ("maxpool1", "stack1_block1_skip_conv"),
                        ("stack1_block1_conv1", "stack1_block1_bn1")]
    assert rows[-4:] == [("stack4_block3_relu3", "gap"), ("gap", "fc"), ("fc", "softmax"),
                         ("softmax", "output")]
    skip_row = rows.index(("stack1_block1_skip_bn", "stack1_block1_add/in2"))
    assert skip_row > rows.index(("stack1_block1_relu3", "stack1_block2_add/in2"))


def test_model_learnables_match_the_dlnetwork_learnable_row_count():
    # 214 Learnables rows for the default network: (53 conv + 1 fc) x 2 + 53 bn x 2 (doc)
    net = model_resnet(3)
    convs = sum(layer.kind == "conv" for layer in net.layers)
    bns = sum(layer.kind == "bn" for layer in net.layers)
    assert (convs + 1) * 2 + bns * 2 == 214 and bns * 2 == 106
