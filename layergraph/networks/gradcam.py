"""``gradCAM``: Grad-CAM importance maps from gradients with respect to activations.

``scoreMap = gradCAM(net, X, label, FeatureLayer=, ReductionLayer=)`` for a dlnetwork and 2-D
or 3-D image input: the class score (the ReductionLayer output at channel ``label``, summed
over any spatial positions and over observations) is differentiated with respect to the
FeatureLayer activation A (a total derivative through the network: autodiff tape); the
channel weights are the spatial means of that gradient; the map ``relu(sum_c w_c A_c)`` is
resized (linearly, pixel centres aligned as imresize) to the input's spatial size.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autodiff import dlfeval, dlgradient
from ..autodiff.dlarray import dlarray, extractdata
from ..layers._validation import parse_name_value
from ..layers.errors import MException
from ..graph.analysis import propagate_sizes
from .dlnetwork import dlnetwork
from .occlusion import as_dlnetwork

__all__ = ["gradCAM"]


def gradCAM(net: Any, X: Any, label: Any, *args: Any, **kwargs: Any) -> np.ndarray:
    """``scoreMap = gradCAM(net, X, label)``: ``h x w [x d]`` (x N for several observations).

    ``label``: a class index (0-based channel of the ReductionLayer output) or a class name
    among ``ClassNames`` (name-value, the output classes in order). FeatureLayer defaults to
    the last layer whose output has spatial extent, ReductionLayer to the input of the softmax
    layer (else the network output).
    """
    opts = parse_name_value(args, kwargs, ["FeatureLayer", "ReductionLayer", "ClassNames"], "gradCAM")
    net, classes = as_dlnetwork(net, "gradCAM")       # a DAGNetwork: its graph without the output layer
    feature = opts.get("FeatureLayer") or _default_feature_layer(net)
    reduction = opts.get("ReductionLayer") or _default_reduction_layer(net)
    index = _class_index(label, opts.get("ClassNames") or classes)
    data = np.asarray(X, dtype=np.float32)
    nsd = len(next(layer for layer in net.Layers if layer.IS_INPUT).InputSize) - 1
    single = data.ndim == nsd + 1
    data = data[..., None] if single else data

    def score_and_gradient(net, X):
        scores, fmap = net.predict(X, Outputs=[reduction, feature])
        k = scores.shape[-2] if scores.ndim > 2 else scores.shape[0]
        if not 0 <= index < k:
            raise MException("nnet:gradCAM:InvalidLabel",
                             f"label must index one of the {k} channels of '{reduction}' (0-based). Received: {index}.")
        score = np.sum(scores[index] if scores.ndim == 2 else scores[..., index, :])
        return fmap, dlgradient(score, fmap)

    fmap, grad = dlfeval(score_and_gradient, net, dlarray(data))
    A, G = np.asarray(extractdata(fmap), np.float64), np.asarray(extractdata(grad), np.float64)
    if A.ndim != nsd + 2:
        raise MException("nnet:gradCAM:InvalidFeatureLayer",
                         f"FeatureLayer must output spatial data (h x w [x d] x c x N). Received: '{feature}' "
                         f"with output size {'x'.join(map(str, A.shape))}.")
    spatial = tuple(range(nsd))
    weights = G.mean(axis=spatial, keepdims=True)
    maps = np.maximum((weights * A).sum(axis=nsd), 0)                 # (*S, N)
    out = np.stack([_resize(maps[..., n], data.shape[:nsd]) for n in range(maps.shape[-1])], axis=-1)
    return out[..., 0] if single else out


def _default_feature_layer(net: dlnetwork) -> str:
    layers = list(net.Layers)
    sizes: dict[str, tuple] = {}

    def visit(layer, in_sizes):
        sizes[layer.Name] = tuple(layer.output_sizes(in_sizes)[0]) if not layer.IS_OUTPUT else ()
        return layer
    propagate_sizes(net.layerGraph(), visit)
    spatial = [layer.Name for layer in layers
               if not layer.IS_INPUT and len(sizes.get(layer.Name, ())) > 1
               and any(n > 1 for n in sizes[layer.Name][:-1])]
    if not spatial:
        raise MException("nnet:gradCAM:NoFeatureLayer", "The network has no layer with spatial output.")
    order = [layers[i].Name for i in net.layerGraph().topological_order()]
    return max(spatial, key=order.index)


def _default_reduction_layer(net: dlnetwork) -> str:
    lgraph = net.layerGraph()
    for i, layer in enumerate(lgraph.Layers):
        if layer.Type == "Softmax":
            source = lgraph.input_sources(i)[0]
            return lgraph.Layers[source[0]].Name
    return net.OutputNames[0]


def _class_index(label: Any, class_names: Any) -> int:
    if isinstance(label, str):
        names = [str(c) for c in (class_names or [])]
        if label not in names:
            raise MException("nnet:gradCAM:InvalidLabel",
                             f"label '{label}' is not among ClassNames {names}. Pass ClassNames= or a 0-based index.")
        return names.index(label)
    if np.ndim(label) != 0 or float(label) != int(label):
        raise MException("nnet:gradCAM:InvalidLabel", f"label must be a class index or name. Received: {label!r}.")
    return int(label)


def _resize(a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Separable linear resize with pixel centres aligned (input x = (out + 0.5) in/out - 0.5)."""
    for axis, n_out in enumerate(shape):
        n_in = a.shape[axis]
        if n_in == n_out:
            continue
        pos = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
        lo = np.floor(pos).astype(int)
        hi = np.minimum(lo + 1, n_in - 1)
        frac = (pos - lo).reshape([-1 if i == axis else 1 for i in range(a.ndim)])
        a = np.take(a, lo, axis=axis) * (1 - frac) + np.take(a, hi, axis=axis) * frac
    return a
