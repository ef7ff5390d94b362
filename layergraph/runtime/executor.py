"""Graph executor: runs an initialised LayerGraph forward and backward on internal arrays.

The executor is the engine under ``DAGNetwork``, ``dlnetwork`` and ``trainNetwork``. It is
built once from a LayerGraph whose learnables are all set, and caches everything that does
not change between steps:

* the topological order and, per layer input port, the ``(layer index, output port)`` feeding it;
* each activation's last consumer: inference frees it then (training keeps only the caches);
* the parameters in internal layout (``docs/internals.md``), converted once with
  ``layer.to_internal``: ``params[(layer_name, learnable)]``, ``state[(layer_name, state)]``
  and ``constants[(layer_name, property)]`` (input-layer normalization statistics).

API (all arrays in internal layout ``(C, N, *S)``; class scores ``(K, N)``)::

    ex = Executor(lgraph, dtype=np.float32, device="cpu", all_gradients=False)
    fp = ex.forward({"input": x}, training=False, outputs=None)  # -> ForwardPass
    ex.map_batches(task, batches)  # [task(b) ...], independent mini-batches on the CPU cores
    fp.outputs            # {layer name: activation}; default: the graph's output layers
    fp.state_update       # {(layer, state): value} (training only, e.g. BN TrainedMean)
    grads = ex.backward(fp, {"softmax": dy})   # {(layer, learnable): gradient}
    loss, scores, grads, state_update = ex.loss_and_gradients(x, t)  # through the loss layer
    ex.params[key] = new_value     # solvers replace parameters in place (same layout)
    ex.apply_state(state_update)   # keep TrainedMean/TrainedVariance, ignore Batch* entries
    ex.to_layers()                 # MATLAB-layout layer objects holding the current values

Factor look-ups: ``learn_rate_factor``, ``l2_factor``; data layout: ``runtime.layout``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from . import arguments, fusion as _fusion, resources
from ..ops import _backend
from ..ops._cpu import memory as _memory, parallel as _parallel, tile_threads as _tile_threads
from ..layers.context import ForwardContext
from ..layers.errors import MException

__all__: list[str] = []

_FACTOR_PREFIX = {"Weights": "Weight", "Bias": "Bias", "Offset": "Offset", "Scale": "Scale"}


def learn_rate_factor(layer: Any, learnable: str) -> float:
    """The layer's ``<Param>LearnRateFactor`` (1 when the layer has none)."""
    return float(getattr(layer, _FACTOR_PREFIX.get(learnable, learnable) + "LearnRateFactor", 1.0))


def l2_factor(layer: Any, learnable: str) -> float:
    """The layer's ``<Param>L2Factor`` (1 when the layer has none)."""
    return float(getattr(layer, _FACTOR_PREFIX.get(learnable, learnable) + "L2Factor", 1.0))


def is_empty(value: Any) -> bool:
    """MATLAB ``isempty`` for property values: None, '' or a zero-size array."""
    return value is None or (isinstance(value, str) and value == "") or np.size(value) == 0


def input_statistics(layer: Any) -> tuple[str, ...]:
    """Normalization statistics an input layer's forward reads from ``params`` (others: none)."""
    return tuple(layer.parameter_names()) if layer.IS_INPUT else ()


def unconnected_inputs(lgraph: Any) -> list[str]:
    """``"layer/port"`` for every layer input that no connection feeds."""
    return [f"{layer.Name}/{port}" for i, layer in enumerate(lgraph.Layers)
            for port, src in zip(layer.InputNames, lgraph.input_sources(i)) if src is None]


@dataclass
class ForwardPass:
    """What one forward pass produced.  ``caches``/``shapes`` are empty in inference mode."""

    outputs: dict[str, Any]
    state_update: dict[tuple[str, str], Any] = field(default_factory=dict)
    caches: dict[int, Any] = field(default_factory=dict)
    shapes: dict[tuple[int, int], tuple[int, ...]] = field(default_factory=dict)
    ran: list[int] = field(default_factory=list)
    fused: dict[int, int] = field(default_factory=dict)  # ReLU index -> producer applying it
    peak_live: int = 0          # most activations held at once (memory diagnostic)


class Executor:
    """Forward/backward over a LayerGraph's cached topological order (see module docstring)."""

    def __init__(self, lgraph: Any, dtype: Any = np.float32, device: str = "cpu",
                 all_gradients: bool = False):
        self.layers = list(lgraph.Layers)
        self.names = [layer.Name for layer in self.layers]
        self.index = {name: i for i, name in enumerate(self.names)}
        self.order = list(lgraph.topological_order())
        unconnected = unconnected_inputs(lgraph)
        if unconnected:
            raise MException("nnet_cnn:executor:UnconnectedInput",
                             f"Every layer input must be connected. Unconnected inputs: {unconnected}.")
        self.sources = [[tuple(s) for s in lgraph.input_sources(i)] for i in range(len(self.layers))]
        self._plans: dict[tuple[str, ...], tuple[list[int], dict[tuple[int, int], int]]] = {}
        self._fusions: dict[tuple, dict[int, int]] = {}
        # default outputs: the output layers, else (dlnetwork graphs) layers with a free output
        self.output_layers = list(lgraph.OutputNames) or [
            layer.Name for i, layer in enumerate(self.layers) if any(not t for t in lgraph.output_targets(i))]
        self.dtype = np.dtype(dtype)
        self.device = device
        self.xp = np if device == "cpu" else _backend.get_xp(_backend.to_device(np.zeros(1), device))
        # trains[i]: layer i has a learnable that wants a gradient (every one with all_gradients,
        # else those with a nonzero learn-rate factor); needs_grad[i]: so does layer i or its past.
        self._trains = [any(all_gradients or learn_rate_factor(layer, n) != 0 for n in layer.LEARNABLES)
                        for layer in self.layers]
        self._needs_grad = self._compute_needs_grad()
        self._elements: dict[int, dict[tuple[int, int], int]] | None = None  # lazily
        self.params, self.state, self.constants = {}, {}, {}
        for layer in self.layers:
            self._load_layer(layer)

    # -- construction helpers
    def _load_layer(self, layer: Any) -> None:
        names = [(self.params, n) for n in layer.LEARNABLES] + [(self.state, n) for n in layer.STATES]
        names += [(self.constants, n) for n in input_statistics(layer)]
        for store, name in names:
            value = getattr(layer, name)
            if is_empty(value):
                raise MException("nnet_cnn:executor:UnsetParameter",
                                 f"Layer '{layer.Name}' has no value for '{name}'. "
                                 f"Initialize the network before running it.")
            internal = layer.to_internal(name, np.asarray(value), self.xp, self.dtype)
            store[(layer.Name, name)] = internal

    def _compute_needs_grad(self, reported: set[int] = frozenset()) -> list[bool]:
        """needs[i]: a learnable (or a reported layer) at or upstream of layer i wants a gradient."""
        needs = [False] * len(self.layers)
        for i in self.order:
            needs[i] = self._trains[i] or i in reported or any(needs[s] for s, _ in self.sources[i])
        return needs

    def _activation_elements(self) -> dict[int, dict[tuple[int, int], int]]:
        """``{layer: {(layer, port): elements per observation}}`` of every output (from the
        layer sizes); empty when a layer cannot tell its output size."""
        sizes: dict[tuple[int, int], tuple[int, ...]] = {}
        try:
            for i in self.order:
                in_sizes = [sizes[s] for s in self.sources[i]]
                for port, size in enumerate(self.layers[i].output_sizes(in_sizes)):
                    sizes[(i, port)] = tuple(int(v) for v in size)
        except (NotImplementedError, ValueError, TypeError, MException):
            return {}
        by_layer: dict[int, dict[tuple[int, int], int]] = {}
        for key, size in sizes.items():
            by_layer.setdefault(key[0], {})[key] = int(np.prod(size))
        return by_layer

    def activation_bytes(self, observations: int, outputs: Sequence[str] | None = None
                         ) -> int | None:
        """Most activation bytes a forward pass of ``observations`` holds at once (inputs and
        outputs of the running layer included; layers' scratch buffers and caches not); None
        when the layer sizes are unknown."""
        if self._elements is None:
            self._elements = self._activation_elements()
        if not self._elements:
            return None
        outputs = tuple(self.output_layers if outputs is None else outputs)
        run, last_use = self._plan(outputs)
        keep = {(self.index[n], 0) for n in outputs}
        live: dict[tuple[int, int], int] = {}
        peak = 0
        for pos, i in enumerate(run):
            made = self._elements.get(i, {})
            peak = max(peak, sum(live.values()) + sum(made.values()))
            for src in self.sources[i]:
                if last_use[src] == pos and src not in keep:
                    live.pop(src, None)
            live.update({k: n for k, n in made.items() if k in last_use or k in keep})
        return peak * observations * self.dtype.itemsize

    def layer_params(self, i: int) -> dict[str, Any]:
        """The ``params`` dict that layer ``i``'s forward/backward receive."""
        name = self.names[i]
        layer = self.layers[i]
        out = {n: self.params[(name, n)] for n in layer.LEARNABLES}
        out.update({n: self.state[(name, n)] for n in layer.STATES})
        out.update({n: self.constants[(name, n)] for n in input_statistics(layer)})
        return out

    def _plan(self, outputs: tuple[str, ...]) -> tuple[list[int], dict[tuple[int, int], int]]:
        """Layers needed for ``outputs`` (in order) and each activation's last-use position (cached)."""
        if outputs in self._plans:
            return self._plans[outputs]
        wanted = set(self.index[n] for n in outputs)
        for i in reversed(self.order):
            if i in wanted:
                wanted.update(s for s, _ in self.sources[i])
        run = [i for i in self.order if i in wanted]
        last_use: dict[tuple[int, int], int] = {}
        for pos, i in enumerate(run):
            for src in self.sources[i]:
                last_use[src] = pos
        self._plans[outputs] = (run, last_use)
        return run, last_use

    def _relu_fusions(self, outputs: tuple[str, ...], run: list[int],
                      keep: set[tuple[int, int]]) -> dict[int, int]:
        """ReLU layers of this plan folded into their producer (``_fusion``; cached)."""
        key = (outputs, _fusion.ENABLED)
        if key not in self._fusions:
            self._fusions[key] = _fusion.relu_fusions(self.layers, self.sources, run, keep)
        return self._fusions[key]

    # -- forward / backward
    @resources.one_blas_setting
    def forward(self, inputs: Mapping[str, Any] | Any, training: bool = False,
                outputs: Sequence[str] | None = None, keep_caches: bool = True,
                seed: np.random.SeedSequence | int | None = None, record: bool = False) -> ForwardPass:
        """Run the graph.  ``inputs``: {input layer name: (C, N, *S)} (or one array).

        Returns a ForwardPass whose ``outputs`` maps each requested layer name to its first
        output.  In training mode the pass also holds the caches ``backward`` needs (unless
        ``keep_caches`` is False: a statistics pass, in which layers whose training forward only
        adds a cache, e.g. max pooling's argmax, run as in inference) and the state updates.
        ``seed``: this mini-batch's random seed (``ctx.rng`` of the layers; rng.batch_seed).
        ``record``: keep the caches of an inference pass too (a differentiable ``predict``).
        """
        outputs = list(self.output_layers if outputs is None else outputs)
        self._check_names(outputs, "outputs")
        inputs = self._input_dict(inputs)
        run, last_use = self._plan(tuple(outputs))
        keep = {(self.index[n], 0) for n in outputs}
        acts: dict[tuple[int, int], Any] = {}
        fused = self._relu_fusions(tuple(outputs), run, keep)
        applying = set(fused.values())
        fp = ForwardPass(outputs={}, ran=run, fused=fused)
        ctx = ForwardContext.for_batch(training, seed)
        inference = ctx.with_training(False)
        for pos, i in enumerate(run):
            layer = self.layers[i]
            xs = [inputs[self.names[i]]] if layer.IS_INPUT else [acts[s] for s in self.sources[i]]
            layer_ctx = ctx if keep_caches or not layer.CACHE_ONLY_IN_TRAINING else inference
            if i in fused:          # its producer applied it: the output, and its own cache
                ys, cache, update = xs, xs[0], None
            else:
                fusion = {"relu": True} if i in applying else {}
                ys, cache, update = layer.forward(self.layer_params(i), xs, layer_ctx, **fusion)
            for src in self.sources[i]:
                if last_use[src] == pos and src not in keep:
                    acts.pop(src, None)
            for port, y in enumerate(ys):
                if last_use.get((i, port)) is not None or (i, port) in keep:
                    acts[(i, port)] = y
                if training or record:
                    fp.shapes[(i, port)] = y.shape
            fp.peak_live = max(fp.peak_live, len(acts))
            if (training and keep_caches) or record:
                fp.caches[i] = cache
            if training:
                fp.state_update.update({(self.names[i], k): v for k, v in (update or {}).items()})
        fp.outputs = {n: acts[(self.index[n], 0)] for n in outputs}
        return fp

    def map_batches(self, task: Callable[[Any], Any], batches: Sequence[Any],
                    batch_bytes: int | None = 0) -> list[Any]:
        """``[task(batch) for batch in batches]`` for independent mini-batches (inference,
        validation, the BN statistics pass). On the CPU, when there are at least as many
        batches as threads, whole batches run on the ops' threads, each batch's ops
        single-threaded (faster than splitting every op: docs/benchmarks.md#tuning-constants). Each extra
        batch in flight holds its activations too (``batch_bytes`` each, see
        ``activation_bytes``): batches run one by one when those would take more than a
        quarter of the available memory, or when ``batch_bytes`` is None (unknown). Tasks run
        concurrently: they must not share mutable state nor draw from a shared generator
        (each forward's ``seed`` gives it its own); results come back in order."""
        batches = list(batches)
        threads = _tile_threads.num_threads() if self.device == "cpu" else 1
        room = _memory.available_bytes()
        fits = batch_bytes is not None and (threads - 1) * batch_bytes <= (
            room // 4 if room is not None else 0)
        if threads < 2 or len(batches) < threads or not fits:
            return [task(batch) for batch in batches]
        return _parallel.run(task, batches)

    def inference_batches(self, count: int, batch_size: int) -> list[slice]:
        """Slices of ``count`` observations for an inference pass (predict, validation), at
        most ``batch_size`` each: MiniBatchSize chunks in order; on the CPU, fewer chunks
        than threads are cut into one share per thread instead (whole batches on the cores
        run faster than each op split over them: see map_batches). An observation's output
        depends on its batch in float32 rounding only: the thread count is part of what
        reproduces bit for bit. Not for training-mode passes (batch statistics)."""
        threads = _tile_threads.num_threads() if self.device == "cpu" else 1
        if -(-count // batch_size) >= threads:
            return [slice(s, min(s + batch_size, count)) for s in range(0, count, batch_size)]
        pieces = min(threads, count)
        bounds = [count * i // pieces for i in range(pieces + 1)]
        return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]

    @resources.one_blas_setting
    def backward(self, fp: ForwardPass, doutputs: Mapping[str, Any],
                 report: dict[str, Any] | None = None) -> dict[tuple[str, str], Any]:
        """Reverse sweep from ``{layer name: d loss / d output}``; gradients keyed (layer, learnable).

        Gradients from several consumers of one activation are summed before its producer's
        backward runs.  Output layers named in ``doutputs`` are skipped: the gradient given
        is taken as the gradient with respect to their input.  ``report``: {layer name: None},
        filled with the total gradient at each layer's first output (input layers included).
        """
        if not fp.caches:
            raise MException("nnet_cnn:executor:NoTrainingPass",
                             "backward needs a forward pass run with training=True.")
        grad_of: dict[tuple[int, int], Any] = {}
        for name, dy in doutputs.items():
            i = self.index[name]
            if self.layers[i].IS_OUTPUT:
                self._accumulate(grad_of, self.sources[i][0], dy)
            else:
                self._accumulate(grad_of, (i, 0), dy)
        grads: dict[tuple[str, str], Any] = {}
        relu_outputs: dict[int, Any] = {}      # producer -> output of the ReLU folded into it
        reported = {self.index[name] for name in (report or {})}
        needs = self._compute_needs_grad(reported) if reported else self._needs_grad
        for i in reversed(fp.ran):
            layer = self.layers[i]
            if i in reported:
                report[self.names[i]] = grad_of.get((i, 0))
            if layer.IS_INPUT or layer.IS_OUTPUT:
                continue
            ports = range(len(layer.OutputNames))
            dys = [grad_of.pop((i, p), None) for p in ports]
            if all(d is None for d in dys):
                continue
            dys = [self.xp.zeros(fp.shapes[(i, p)], self.dtype) if d is None else d
                   for p, d in zip(ports, dys)]
            if i in fp.fused:       # the producer's backward masks the gradient
                producer = fp.fused[i]
                if needs[producer]:
                    self._accumulate(grad_of, (producer, 0), dys[0])
                    relu_outputs[producer] = fp.caches[i]
                continue
            need_dx = any(needs[s] for s, _ in self.sources[i])
            if not (need_dx or self._trains[i]):
                continue
            fusion = {"relu_output": relu_outputs.pop(i)} if i in relu_outputs else {}
            dxs, dparams = layer.backward(self.layer_params(i), dys, fp.caches[i], need_dx,
                                          **fusion)
            grads.update({(self.names[i], k): v for k, v in dparams.items()})
            if need_dx:
                for src, dx in zip(self.sources[i], dxs):
                    if dx is not None and needs[src[0]]:
                        self._accumulate(grad_of, src, dx)
        return grads

    @staticmethod
    def _accumulate(grad_of: dict, key: tuple[int, int], value: Any) -> None:
        grad_of[key] = value if key not in grad_of else grad_of[key] + value

    def loss_and_gradients(self, x: Mapping[str, Any] | Any, t: Any, output: str | None = None,
                           seed: Any = None) -> tuple[float, Any, dict, dict]:
        """Training step through an output (loss) layer.

        ``x``: network input (internal layout); ``t``: targets ``(K, N)`` (one-hot for
        classification); ``seed``: the mini-batch's random seed (see ``forward``).  Returns ``(loss, scores (K, N), grads, state_update)``.
        """
        output = output or self.output_layers[0]
        out_layer = self.layers[self.index[output]]
        if not out_layer.IS_OUTPUT:
            raise MException("nnet_cnn:executor:NotAnOutputLayer",
                             f"loss_and_gradients needs an output layer. Received: '{output}'.")
        fp = self.forward(x, training=True, outputs=[output], seed=seed)
        y = fp.outputs[output]
        y2 = y if t.ndim > 2 else y.reshape(y.shape[0], y.shape[1])   # (K, N, *S): per voxel
        loss, cache = out_layer.loss(y2, t)
        dy = out_layer.loss_backward(cache).reshape(y.shape)
        grads = self.backward(fp, {output: dy})
        return float(loss), y2, grads, fp.state_update

    # -- state / write-back
    def apply_state(self, state_update: Mapping[tuple[str, str], Any]) -> None:
        """Store the updates of declared states (TrainedMean, ...); other entries are ignored."""
        for key, value in state_update.items():
            if key in self.state:
                self.state[key] = value

    def to_layers(self) -> list[Any]:
        """Layer objects (MATLAB layout) holding the executor's current parameters and state."""
        out = []
        for layer in self.layers:
            values = {n: layer.from_internal(n, self.params[(layer.Name, n)]) for n in layer.LEARNABLES}
            values.update({n: layer.from_internal(n, self.state[(layer.Name, n)]) for n in layer.STATES})
            out.append(layer.copy(**values) if values else layer)
        return out

    # -- argument checks (runtime/arguments.py)
    def _check_names(self, names: Sequence[str], what: str) -> None:
        arguments.check_layer_names(self.index, self.names, names, what)

    def _input_dict(self, inputs: Mapping[str, Any] | Any) -> Mapping[str, Any]:
        return arguments.input_dict(self.names, self.layers, inputs)
