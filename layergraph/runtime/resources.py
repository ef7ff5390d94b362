"""What a pass needs from the machine: one BLAS setting per pass, and enough memory.

* ``one_blas_setting``: an Executor method decorator. On the CPU with more than one ops thread
  (``ops._cpu.parallel``) the whole pass holds BLAS single-threaded, so every BLAS call of every
  pass runs with the same thread count, whichever thread makes it and whatever ran before
  (see ``ops._cpu.blas_threads``): same network, input, MiniBatchSize and thread count, same bits.
* ``check_memory``: before a pass over ``observations`` observations, MException
  ``nnet_cnn:<func>:OutOfMemory`` when the activations alone (``Executor.activation_bytes``,
  or every layer output for a training pass, whose caches keep them) exceed the memory the
  process may still use (``ops._cpu.memory.available_bytes``: MemAvailable, a cgroup limit,
  RLIMIT_AS, whichever is smallest). The estimate leaves the layers' scratch buffers out (it
  errs low; only a ReLU folded into its batch norm may be counted as its own array).
* ``out_of_memory`` / the ``memory_errors_as(func)`` decorator: the same MException for a
  MemoryError that happens anyway (``raise ... from`` it), never a bare MemoryError.
"""
from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

from ..layers.errors import MException
from ..ops._cpu import memory as _memory, parallel as _parallel

__all__: list[str] = []


def one_blas_setting(method: Callable) -> Callable:
    """Run an Executor method (``self.device`` "cpu" or "gpu") inside
    ``ops._cpu.parallel.owning_cores``: BLAS single-threaded while the ops own the cores."""
    @functools.wraps(method)
    def within(self: Any, *args: Any, **kwargs: Any) -> Any:
        if self.device != "cpu":
            return method(self, *args, **kwargs)
        with _parallel.owning_cores():
            return method(self, *args, **kwargs)
    return within


def size_text(count: int) -> str:
    """Bytes for a message: ``"8.50 GiB"``, ``"12.3 MiB"``, ``"4.0 KiB"``, ``"100 bytes"``."""
    for unit, digits, scale in (("GiB", 2, 2**30), ("MiB", 1, 2**20), ("KiB", 1, 2**10)):
        if count >= scale:
            return f"{count / scale:.{digits}f} {unit}"
    return f"{count} bytes"


def activation_estimate(executor: Any, observations: int, outputs: Sequence[str] | None,
                        training: bool) -> int | None:
    """Bytes of activations a pass over ``observations`` holds at least (None: unknown sizes).

    Inference: the peak of live activations (``activation_bytes``); training: every layer
    output at once (the caches of the backward pass keep them), ReLU and output layers
    left out."""
    if not training:
        return executor.activation_bytes(observations, outputs)
    if executor._elements is None:
        executor.activation_bytes(1, outputs)            # computes the per-layer sizes
    if not executor._elements:
        return None
    per_observation = sum(n for i, made in executor._elements.items() for n in made.values()
                          if executor.layers[i].Type != "ReLU"      # may be folded (fusion)
                          and not executor.layers[i].IS_OUTPUT)     # passes its input on
    return per_observation * observations * executor.dtype.itemsize


def check_memory(executor: Any, observations: int, func: str, outputs: Sequence[str] | None = None,
                 training: bool = False, extra_bytes: int = 0) -> None:
    """MException ``nnet_cnn:<func>:OutOfMemory`` when a pass over ``observations`` cannot fit
    (CPU only; ``extra_bytes``: other buffers the caller holds per pass, e.g. the input batch)."""
    if executor.device != "cpu":
        return
    estimate = activation_estimate(executor, observations, outputs, training)
    room = _memory.available_bytes()
    if estimate is None or room is None or estimate + extra_bytes <= room:
        return
    raise MException(f"nnet_cnn:{func}:OutOfMemory",
                     f"Out of memory: {'a training' if training else 'an inference'} pass over a "
                     f"mini-batch of {observations} observation{'s' * (observations != 1)} needs "
                     f"at least {size_text(estimate + extra_bytes)} of activations, and this process "
                     f"may use {size_text(room)} more (the smallest of MemAvailable, the cgroup "
                     f"memory limit and RLIMIT_AS). {_remedy(observations)}")


def _remedy(observations: int | None) -> str:
    if observations == 1:
        return ("One observation does not fit: use a smaller input (InputSize) or a machine "
                "with more memory.")
    return "Reduce MiniBatchSize (or the input size)."


def out_of_memory(func: str, error: MemoryError, observations: int | None = None) -> MException:
    """The MException for a MemoryError raised during a pass (to raise ``from error``)."""
    room = _memory.available_bytes()
    batch = "" if observations is None else (
        f" during a pass over a mini-batch of {observations} observation"
        f"{'s' * (observations != 1)}")
    return MException(f"nnet_cnn:{func}:OutOfMemory",
                      f"Out of memory{batch} ({type(error).__name__}: {error}); this "
                      f"process may use {size_text(room) if room is not None else 'an unknown amount'}"
                      f" more. {_remedy(observations)}")


def memory_errors_as(func: str) -> Callable[[Callable], Callable]:
    """Decorator: a MemoryError inside the function comes out as MException
    ``nnet_cnn:<func>:OutOfMemory`` (naming the available memory and the remedy)."""
    def decorate(function: Callable) -> Callable:
        @functools.wraps(function)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                return function(*args, **kwargs)
            except MemoryError as error:
                raise out_of_memory(func, error) from error
        return guarded
    return decorate
