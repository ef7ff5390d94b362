"""Mini-batches from a datastore for training and inference, and background prefetching.

``minibatches(ds, m, input_size)`` yields ``(X, responses, first)``: ``X`` the predictors of
``m`` observations stacked in MATLAB layout ``(*InputSize, m)``, ``responses`` the list of
their second cells (labels or numeric responses; None when the rows have none) and ``first``
the position of the batch's first observation. A predictor without the channel axis counts
as one channel when the input layer has one. ``prefetch(iterator, depth)`` runs an iterator
on a background thread through a bounded queue: errors surface in the caller (chained), and
closing the generator or Ctrl-C in the caller stops the thread.
"""
from __future__ import annotations

import queue
import threading
from typing import Any, Iterator

import numpy as np

from ._common import error, size_text
from .datastore import Datastore

__all__: list[str] = []


def is_datastore(value: Any) -> bool:
    """True for the package's datastores."""
    return isinstance(value, Datastore)


def describe(ds: Datastore, position: int) -> str:
    """'file <name>' when the datastore (or the one it wraps) lists files, else 'observation k'."""
    inner = ds
    for _ in range(8):
        files = getattr(inner, "Files", None)
        if files is not None and position < len(files):
            return f"file '{files[position]}'"
        under = getattr(inner, "UnderlyingDatastores", None) or [getattr(inner, "_source", None)]
        if under[0] is None:
            break
        inner = under[0]
    return f"observation {position}"


def predictor(value: Any, input_size: tuple[int, ...], ds: Datastore, position: int,
              func: str) -> np.ndarray:
    """One observation's predictor as an ``InputSize`` array (a lone channel axis added)."""
    x = np.asarray(value)
    if x.dtype.kind not in "iufb":
        raise error(func, "InvalidPredictors", f"The datastore's predictor for "
                    f"{describe(ds, position)} must be numeric. Received: {type(value).__name__} "
                    f"of dtype {x.dtype}.")
    if x.shape == tuple(input_size[:-1]) and input_size[-1] == 1:
        x = x[..., None]
    if x.shape != tuple(input_size):
        raise error(func, "WrongInputSize", f"The predictor of {describe(ds, position)} is "
                    f"{size_text(x.shape)}, but the input layer takes {size_text(input_size)} "
                    "(size and channel count).")
    return x


def minibatches(ds: Datastore, m: int, input_size: tuple[int, ...], partial: bool = True,
                func: str = "trainNetwork") -> Iterator[tuple[np.ndarray, list | None, int]]:
    """Batches of ``m`` observations of ``ds`` in its order (the last partial one if asked)."""
    n, position, first = ds.numobservations, 0, 0
    rows: list = []
    while position < n:
        stop = min(position + ds._read_size(), n)
        got = ds.training_cells(position, stop)
        if len(got) != stop - position:
            raise error(func, "ObservationCountChanged", f"Reading observations {position}.."
                        f"{stop - 1} gave {len(got)} rows; training reads one row per "
                        "observation (a transform must keep the count).")
        rows += [(position + k, row) for k, row in enumerate(got)]
        position = stop
        while len(rows) >= m:
            yield _stack(rows[:m], input_size, ds, func), first
            rows, first = rows[m:], first + m
    if rows and partial:
        yield _stack(rows, input_size, ds, func), first


def _stack(rows: list, input_size: tuple[int, ...], ds: Datastore, func: str):
    X = np.stack([predictor(row[0], input_size, ds, k, func) for k, row in rows], axis=-1)
    responses = [row[1] for _, row in rows] if all(len(row) > 1 for _, row in rows) else None
    return X, responses


_DONE = object()


class _Failure:
    def __init__(self, exc: BaseException):
        self.exc = exc


def prefetch(source: Iterator, depth: int = 2) -> Iterator:
    """Items of ``source`` produced on a background thread, at most ``depth`` ahead."""
    items: queue.Queue = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                items.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in source:
                if not put(item):
                    return
            put(_DONE)
        except BaseException as exc:   # noqa: BLE001 - handed to the caller
            put(_Failure(exc))

    thread = threading.Thread(target=work, name="layergraph-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            try:
                item = items.get(timeout=0.1)
            except queue.Empty:
                if not thread.is_alive() and items.empty():
                    raise error("read", "PrefetchThreadDied",
                                "The background reader stopped without a result.") from None
                continue
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                exc = item.exc
                if getattr(exc, "identifier", None):
                    raise type(exc)(exc.identifier, exc.message) from exc
                raise error("read", "BackgroundReadError", f"Reading on the background thread "
                            f"failed: {type(exc).__name__}: {exc}") from exc
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)
