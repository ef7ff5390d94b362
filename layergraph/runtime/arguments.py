"""Argument checks of the executor: layer names and the input-data dict."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from ..layers.errors import MException


def check_layer_names(index: Mapping[str, int], all_names: Sequence[str], names: Sequence[str], what: str) -> None:
    """MException naming the layers of ``names`` that the network does not have."""
    bad = [n for n in names if n not in index]
    if bad:
        raise MException("nnet_cnn:executor:LayerDoesNotExist",
                         f"Invalid {what}: no layer named {bad}. Layers: {list(all_names)}.")


def input_dict(names: Sequence[str], layers: Sequence[Any], inputs: Mapping[str, Any] | Any) -> Mapping[str, Any]:
    """``{input layer name: data}`` from one array (single-input networks) or a dict."""
    input_names = [n for n, layer in zip(names, layers) if layer.IS_INPUT]
    if not isinstance(inputs, Mapping):
        if len(input_names) != 1:
            raise MException("nnet_cnn:executor:AmbiguousInput",
                             f"The network has inputs {input_names}; pass a dict of arrays.")
        return {input_names[0]: inputs}
    missing = [n for n in input_names if n not in inputs]
    if missing:
        raise MException("nnet_cnn:executor:MissingInput",
                         f"No data for input layers {missing}. Received: {list(inputs)}.")
    return inputs
