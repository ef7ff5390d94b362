"""Layer: the base of every MATLAB layer object.

A layer is a value: it holds MATLAB properties (PascalCase names, MATLAB shapes) and never
mutates itself during execution. Execution works on *internal* arrays (see ``ops`` for the
layout): ``forward``/``backward`` take a dict of internal-layout parameters, which the
executor builds once from the MATLAB-layout properties with ``to_internal`` and writes back
with ``from_internal``. ``forward`` also receives a :class:`~layers.context.ForwardContext`
(``ctx.training``, ``ctx.rng``).

Every subclass registers itself by class name when it is defined (``registered_layer``):
loadNetwork resolves layer classes only through this registry. A subclass that is only a
base for others passes ``register=False`` (``class MyBase(Layer, register=False)``).

Sizes used by ``output_sizes`` / ``initialize`` exclude the batch and are in MATLAB order:
``(h, w, c)`` for 2-D images, ``(h, w, d, c)`` for volumes, ``(c,)`` after flattening.
"""
from __future__ import annotations

import copy as _copy
from typing import Any

import numpy as np

from . import _display
from ._validation import check_name, check_nonnegative_scalar, parse_name_value
from .context import ForwardContext
from .errors import MException

_REGISTRY: dict[str, type] = {}
# A subclass that defines ``predict(self, X)`` is a user-defined layer (MATLAB's classdef ... <
# nnet.layer.Layer); layergraph installs the adapter that runs it on dlarrays with a tape
# (layergraph/networks/custom_layer.py).
CUSTOM_LAYER_ADAPTERS: list = []


def registered_layer(name: str) -> type | None:
    """The layer class registered under ``name`` (its class name), or None."""
    return _REGISTRY.get(name)


def registered_layers() -> tuple[str, ...]:
    """Names of every registered layer class, sorted."""
    return tuple(sorted(_REGISTRY))


def _register(cls: type) -> None:
    """Add ``cls`` to the registry; a different class of the same name from another module
    is refused (a class redefined in its own module, e.g. on reload, replaces the old one)."""
    old = _REGISTRY.get(cls.__name__)
    if old is not None and old is not cls and old.__module__ != cls.__module__:
        raise MException(
            "nnet_cnn:Layer:DuplicateClassName",
            f"A layer class named '{cls.__name__}' is already registered (from module "
            f"{old.__module__}); layer class names must be unique. Received: "
            f"{cls.__name__} from module {cls.__module__}. Rename the class.")
    _REGISTRY[cls.__name__] = cls


class Layer:
    """Base class. Subclasses set the class constants and implement the hooks."""

    TYPE: str = ""             # display type, e.g. "3-D Convolution"
    DEFAULT_NAME: str = ""     # MATLAB DefaultName, used when Name is '' (e.g. "conv")
    LEARNABLES: tuple[str, ...] = ()   # learnable property names, in Learnables-table order
    STATES: tuple[str, ...] = ()       # state property names (BN: TrainedMean, TrainedVariance)
    IS_INPUT: bool = False     # an input layer (NumInputs == 0)
    IS_OUTPUT: bool = False    # an output layer (NumOutputs == 0)
    FUNC: str = ""             # MATLAB constructor function, used in error identifiers
    GENERAL: tuple[str, ...] = ("Name",)   # first (untitled) display group
    HYPERPARAMETERS: tuple[str, ...] = ()  # "Hyperparameters" display group
    HIDDEN: tuple[str, ...] = ()           # properties only "Show all properties" lists
    READ_ONLY: tuple[str, ...] = ()        # set by the constructor or the layer itself only
    CACHE_ONLY_IN_TRAINING: bool = False   # training forward = inference forward + a backward
    #                                        cache (max pooling's argmax): a statistics pass
    #                                        (no backward) runs it as inference
    FUSES_RELU: bool = False   # forward(..., relu=True) / backward(..., relu_output=y): the
    #                            executor folds an IS_RELU layer that alone reads this output
    IS_RELU: bool = False      # computes max(x, 0) exactly: a FUSES_RELU producer may apply it
    #                            (a subclass changing the function must set it back to False)

    Name: str = ""

    def __init_subclass__(cls, register: bool = True, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "predict" in cls.__dict__ and CUSTOM_LAYER_ADAPTERS:
            CUSTOM_LAYER_ADAPTERS[0](cls)      # a user-defined layer (MATLAB's nnet.layer.Layer)
        if register:
            _register(cls)

    # ---- ports ---------------------------------------------------------------------------
    @property
    def NumInputs(self) -> int:
        return len(self.InputNames)

    @property
    def InputNames(self) -> tuple[str, ...]:
        return () if self.IS_INPUT else ("in",)

    @property
    def NumOutputs(self) -> int:
        return len(self.OutputNames)

    @property
    def OutputNames(self) -> tuple[str, ...]:
        return () if self.IS_OUTPUT else ("out",)

    # ---- display -------------------------------------------------------------------------
    @property
    def Type(self) -> str:
        """The type column of a layer-array display."""
        return self.TYPE

    def description(self) -> str:
        """One-line description (the last column of a layer-array display)."""
        raise NotImplementedError

    # ---- properties ----------------------------------------------------------------------
    @classmethod
    def property_names(cls) -> tuple[str, ...]:
        """Every MATLAB property, in display order (general, hyper, learnable, state, hidden)."""
        names = cls.GENERAL + cls.HYPERPARAMETERS + cls.LEARNABLES + cls.STATES + cls.HIDDEN
        return tuple(dict.fromkeys(names))

    def properties(self) -> dict[str, Any]:
        """``{MATLAB property name: value}`` (arrays copied); inverse of ``from_properties``."""
        return {n: _copy_value(getattr(self, n)) for n in self.property_names()}

    @classmethod
    def from_properties(cls, props: dict[str, Any]) -> "Layer":
        """Rebuild a layer from ``properties()`` output (lists, as JSON gives them, become tuples)."""
        settable = [n for n in cls.property_names() if not _is_read_only(cls, n)]
        unknown = sorted(set(props) - set(cls.property_names()))
        missing = [n for n in settable if n not in props]
        if unknown or missing:
            raise MException(
                f"nnet_cnn:{cls.__name__}:InvalidProperties",
                f"Properties of a {cls.__name__} must name exactly its properties. "
                f"Received unknown: {unknown}, missing: {missing}.")
        layer = cls.__new__(cls)
        for n in settable:
            object.__setattr__(layer, n, _tuplify(props[n]))
        # Validate, now that every property the checks consult is there. Learnable and state
        # arrays are left to the loader, which checks them against the network's sizes.
        for n in settable:
            if n not in cls.LEARNABLES + cls.STATES:
                object.__setattr__(layer, n, layer._validated(n, getattr(layer, n)))
        return layer

    def __setattr__(self, name: str, value: Any) -> None:
        """Set a MATLAB property, validated by the class's ``_check_<Name>`` hook if it has one."""
        if not name.startswith("_"):
            if name not in self.property_names():
                raise MException(
                    "MATLAB:noPublicFieldForClass",
                    f"Unrecognized property '{name}' for class '{type(self).__name__}'. "
                    f"Properties: {', '.join(self.property_names())}.")
            if _is_read_only(type(self), name) or name in self.READ_ONLY:
                raise MException(
                    "MATLAB:class:SetProhibited",
                    f"You cannot set the read-only property '{name}' of {type(self).__name__}. "
                    f"Received: {name}={value!r}.")
            value = self._validated(name, value)
        object.__setattr__(self, name, value)

    def _init(self, name: str, value: Any) -> None:
        """Constructor-time set: validated like ``__setattr__``, allowed for READ_ONLY names."""
        object.__setattr__(self, name, self._validated(name, value))

    def _validated(self, name: str, value: Any) -> Any:
        """``value`` checked (and canonicalised) by the ``_check_<name>`` hook, if any."""
        if name.endswith(("LearnRateFactor", "L2Factor")):
            return check_nonnegative_scalar(value, self.FUNC, name)
        check = getattr(self, f"_check_{name}", None)
        return value if check is None else check(value)

    def __repr__(self) -> str:
        groups = [("", self.GENERAL), ("Hyperparameters", self.HYPERPARAMETERS),
                  ("Learnable Parameters", self.LEARNABLES), ("State Parameters", self.STATES)]
        shown = [(title, [(n, getattr(self, n)) for n in names])
                 for title, names in groups
                 if names or title in ("", "Learnable Parameters", "State Parameters")]
        return _display.object_display(type(self).__name__, shown)

    def layer_error(self, reason: str, message: str) -> MException:
        """MException ``nnet_cnn:<FUNC>:<reason>`` whose message starts with the layer name."""
        return layer_error(self.FUNC, reason, f"Layer '{self.Name}': {message}")

    def _check_Name(self, value: Any) -> str:
        return check_name(value, self.FUNC)

    # ---- values --------------------------------------------------------------------------
    def copy(self, **changes: Any) -> "Layer":
        """A deep copy, with some properties replaced (``layer.copy(Name="x")``)."""
        new = _copy.deepcopy(self)
        for k, v in changes.items():
            setattr(new, k, v)
        return new

    # ---- size inference ------------------------------------------------------------------
    def output_sizes(self, input_sizes: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
        """Output activation sizes (no batch) for the given input sizes; MException on misuse."""
        raise NotImplementedError

    def _one_input(self, input_sizes: list[tuple[int, ...]], rank: int | None = None) -> tuple[int, ...]:
        """The single input size, checked to have ``rank`` entries (spatial dims + channels)."""
        if len(input_sizes) != 1:
            raise self.layer_error(
                "WrongNumberOfInputs",
                f"The layer has 1 input. Received: {len(input_sizes)} input sizes.")
        size = tuple(int(n) for n in input_sizes[0])
        if rank is not None and len(size) != rank:
            raise self.layer_error(
                "WrongLayerSize",
                f"Input size mismatch: the layer expects inputs with {rank - 1} spatial "
                f"dimensions and a channel dimension ({rank} sizes). Received: input size "
                f"{'x'.join(map(str, size))}.")
        return size

    def initialize(self, input_sizes: list[tuple[int, ...]], rng: np.random.Generator) -> "Layer":
        """A copy with 'auto' sizes resolved and unset learnables/states initialised."""
        return self.copy()

    def parameter_shapes(self, input_sizes: list[tuple[int, ...]]) -> dict[str, tuple[int, ...]]:
        """MATLAB shapes of the learnables and states ``initialize`` would create.

        The default initialises a copy (allocating them); layers whose parameters can be
        large compute the shapes instead (loadNetwork checks a file against them before
        reading its arrays)."""
        names = self.LEARNABLES + self.STATES
        if not names:
            return {}
        fresh = self.copy(**{n: np.zeros((0,)) for n in names}).initialize(
            input_sizes, np.random.default_rng(0))
        return {n: tuple(np.shape(getattr(fresh, n))) for n in names}

    # ---- execution (internal layout; see ops) --------------------------------------------
    def to_internal(self, name: str, value: Any, xp: Any, dtype: Any) -> Any:
        """Convert a MATLAB-layout learnable/state to the internal layout used by forward."""
        return xp.asarray(value, dtype=dtype)

    def from_internal(self, name: str, value: Any) -> np.ndarray:
        """Convert an internal-layout learnable/state back to MATLAB layout (host NumPy)."""
        raise NotImplementedError

    def forward(self, params: dict, xs: list, ctx: ForwardContext) -> tuple[list, Any, dict]:
        """Run the layer.  Returns ``(ys, cache, state_update)``.

        ``params`` maps learnable and state names to internal arrays; ``xs`` are the inputs in
        ``InputNames`` order; ``ctx``: ``ctx.training``, ``ctx.rng`` (layers.context).
        ``state_update`` maps state names to new values (training only).
        """
        raise NotImplementedError

    def backward(self, params: dict, dys: list, cache: Any, need_dx: bool = True) -> tuple[list, dict]:
        """Gradients: ``(dxs in InputNames order (None if not needed), {learnable: grad})``."""
        raise NotImplementedError


class ParameterFreeLayer(Layer, register=False):
    """A one-input layer whose only constructor argument is Name (relu, softmax, global pooling)."""

    DESCRIPTION: str = ""

    def __init__(self, *args: Any, **kwargs: Any):
        self.Name = parse_name_value(args, kwargs, ("Name",), self.FUNC).get("Name", "")

    def description(self) -> str:
        return self.DESCRIPTION

    def output_sizes(self, input_sizes: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
        return [self._one_input(input_sizes)]


class ElementwiseLayer(ParameterFreeLayer, register=False):
    """A parameter-free layer applying an op pair elementwise: subclasses set TYPE,
    DEFAULT_NAME, FUNC, DESCRIPTION and ``OPS = (op_forward, op_backward)`` where
    ``op_forward(x) -> (y, cache)`` and ``op_backward(dy, cache) -> dx`` (see ops.activation)."""

    OPS: tuple = ()

    def forward(self, params: dict, xs: list, ctx: ForwardContext) -> tuple[list, Any, dict]:
        y, cache = self.OPS[0](xs[0])
        return [y], cache, {}

    def backward(self, params: dict, dys: list, cache: Any, need_dx: bool = True) -> tuple[list, dict]:
        return [self.OPS[1](dys[0], cache) if need_dx else None], {}


def _is_read_only(cls: type, name: str) -> bool:
    attr = getattr(cls, name, None)
    return isinstance(attr, property) and attr.fset is None


def _copy_value(value: Any) -> Any:
    return value.copy() if isinstance(value, np.ndarray) else value


def _tuplify(value: Any) -> Any:
    """JSON lists back to the tuples layers hold; arrays and scalars unchanged."""
    if isinstance(value, list):
        return tuple(_tuplify(v) for v in value)
    return value


def layer_error(layer_func: str, reason: str, message: str) -> MException:
    """MException with identifier ``nnet_cnn:<layer_func>:<reason>``."""
    return MException(f"nnet_cnn:{layer_func}:{reason}", message)
