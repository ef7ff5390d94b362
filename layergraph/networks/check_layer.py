"""``checkLayer``: MATLAB's validity tests of a user-defined layer (sizes, types, gradients)."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..layers._validation import parse_name_value, positive_int_vector
from ..layers.base import Layer
from ..layers.context import ForwardContext
from ..layers.errors import MException

__all__ = ["checkLayer"]


@dataclass
class TestResult:
    Name: str
    Passed: bool
    Failed: bool
    Incomplete: bool
    Details: str = ""


def checkLayer(layer: Any, validInputSize: Any, *args: Any, **kwargs: Any) -> list[TestResult]:
    """``checkLayer(layer, validInputSize, ObservationDimension=dim)``: run the layer tests and
    print MATLAB's summary; returns one TestResult per test.

    ``validInputSize``: the size of one input (MATLAB order); ``ObservationDimension`` is
    MATLAB's (1-based) dimension of the observations, which must follow the others (``h x w x
    c`` inputs: 4); without it the size is used as given (its last dimension the batch) and the
    multiple-observation test is skipped.  Gradients are checked in float64 against central
    finite differences.
    """
    opts = parse_name_value(args, kwargs, ["ObservationDimension"], "checkLayer")
    if not isinstance(layer, Layer) or not hasattr(type(layer), "_user_predict"):
        raise MException("nnet:checkLayer:InvalidLayer",
                         f"layer must be a user-defined layer (a Layer subclass with predict). Received: "
                         f"{type(layer).__name__}.")
    size = tuple(positive_int_vector(validInputSize, "checkLayer", "validInputSize"))
    obs = opts.get("ObservationDimension")
    if obs is not None and int(obs) != len(size) + 1:
        raise MException("nnet:checkLayer:InvalidObservationDimension",
                         f"ObservationDimension must be {len(size) + 1} (after the {len(size)} dimensions of "
                         f"validInputSize, MATLAB's numbering). Received: {obs!r}.")
    shape = size + (2,) if obs is not None else size
    start = time.perf_counter()
    results = [_run(name, test, layer, shape) for name, test in _TESTS
               if obs is not None or name != "predictIsConsistentAcrossObservations"]
    _print_summary(type(layer).__name__, results, time.perf_counter() - start)
    return results


def _run(name: str, test: Callable, layer: Any, shape: tuple) -> TestResult:
    try:
        test(layer, shape)
        return TestResult(name, True, False, False)
    except Exception as err:  # noqa: BLE001 - a failing test reports any error
        return TestResult(name, False, True, False, f"{type(err).__name__}: {err}")


def _inputs(layer: Any, shape: tuple, dtype: Any, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(dtype) for _ in range(layer.NumInputs)]


def _params(layer: Any, dtype: Any) -> dict:
    return {n: np.asarray(getattr(layer, n), dtype=dtype) for n in layer.LEARNABLES}


def _internal(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x.transpose(x.ndim - 2, x.ndim - 1, *range(x.ndim - 2))) if x.ndim > 2 else x


def _run_layer(layer: Any, xs: list, dtype: Any, training: bool):
    ctx = ForwardContext.for_batch(training, 0)
    params = _params(layer, dtype)
    ys, cache, _ = layer.forward(params, [_internal(x) for x in xs], ctx)
    return params, ys, cache


def _predict_does_not_error(layer, shape):
    _run_layer(layer, _inputs(layer, shape, np.float32), np.float32, False)


def _forward_does_not_error(layer, shape):
    _run_layer(layer, _inputs(layer, shape, np.float32), np.float32, True)


def _forward_predict_consistent_in_size(layer, shape):
    xs = _inputs(layer, shape, np.float32)
    _, yp, _ = _run_layer(layer, xs, np.float32, False)
    _, yf, _ = _run_layer(layer, xs, np.float32, True)
    if [y.shape for y in yp] != [y.shape for y in yf]:
        raise AssertionError(f"predict sizes {[y.shape for y in yp]} differ from forward's {[y.shape for y in yf]}")


def _backward(layer, shape, dtype):
    xs = _inputs(layer, shape, dtype)
    params, ys, cache = _run_layer(layer, xs, dtype, True)
    dys = [np.ones_like(y) for y in ys]
    return xs, params, layer.backward(params, dys, cache)


def _backward_consistent_in_size(layer, shape):
    xs, params, (dxs, dparams) = _backward(layer, shape, np.float32)
    for x, dx in zip(xs, dxs):
        if dx is None or dx.shape != _internal(x).shape:
            raise AssertionError(f"dLdX has size {None if dx is None else dx.shape}, X {x.shape}")
    for n, g in dparams.items():
        if g.shape != params[n].shape:
            raise AssertionError(f"dLd{n} has size {g.shape}, {n} {params[n].shape}")


def _type_test(stage: str) -> Callable:
    def test(layer, shape):
        for dtype in (np.float32, np.float64):
            if stage == "backward":
                _, _, (dxs, dparams) = _backward(layer, shape, dtype)
                outs = list(dxs) + list(dparams.values())
            else:
                _, outs, _ = _run_layer(layer, _inputs(layer, shape, dtype), dtype, stage == "forward")
            bad = [str(o.dtype) for o in outs if o is not None and o.dtype != dtype]
            if bad:
                raise AssertionError(f"{stage} returned {bad} for {np.dtype(dtype)} input")
    return test


def _observations_consistent(layer, shape):
    xs = _inputs(layer, shape, np.float64)
    _, ys, _ = _run_layer(layer, xs, np.float64, False)
    _, y1, _ = _run_layer(layer, [x[..., :1] for x in xs], np.float64, False)
    for a, b in zip(ys, y1):
        np.testing.assert_allclose(a[:, :1], b, rtol=1e-10, atol=1e-12)


def _gradients_numerically_correct(layer, shape):
    rng = np.random.default_rng(1)
    xs = _inputs(layer, shape, np.float64)
    params, ys, cache = _run_layer(layer, xs, np.float64, True)
    dys = [rng.standard_normal(y.shape) for y in ys]
    dxs, dparams = layer.backward(params, dys, cache)

    def value(xs_, params_):
        _, ys_, _ = _run_layer(_with(layer, params_), xs_, np.float64, True)
        return sum(float(np.vdot(y, d)) for y, d in zip(ys_, dys))
    eps = 1e-6
    for i, (x, dx) in enumerate(zip(xs, dxs)):
        r = rng.standard_normal(x.shape)
        plus = value([xx + eps * r if j == i else xx for j, xx in enumerate(xs)], params)
        minus = value([xx - eps * r if j == i else xx for j, xx in enumerate(xs)], params)
        _close(float(np.vdot(dx, _internal(r))), (plus - minus) / (2 * eps), f"dLdX{i + 1}")
    for n, g in dparams.items():
        r = rng.standard_normal(params[n].shape)
        plus = value(xs, {**params, n: params[n] + eps * r})
        minus = value(xs, {**params, n: params[n] - eps * r})
        _close(float(np.vdot(g, r)), (plus - minus) / (2 * eps), f"dLd{n}")


def _with(layer: Any, params: dict) -> Any:
    new = object.__new__(type(layer))
    new.__dict__.update(layer.__dict__)
    new.__dict__.update(params)
    return new


def _close(analytic: float, numeric: float, what: str) -> None:
    if abs(analytic - numeric) > 1e-6 * max(abs(analytic), abs(numeric)) + 1e-7:
        raise AssertionError(f"{what}: analytic {analytic!r}, finite differences {numeric!r}")


_TESTS = [("predictDoesNotError", _predict_does_not_error),
          ("forwardDoesNotError", _forward_does_not_error),
          ("forwardPredictAreConsistentInSize", _forward_predict_consistent_in_size),
          ("backwardIsConsistentInSize", _backward_consistent_in_size),
          ("predictIsConsistentInType", _type_test("predict")),
          ("forwardIsConsistentInType", _type_test("forward")),
          ("backwardIsConsistentInType", _type_test("backward")),
          ("predictIsConsistentAcrossObservations", _observations_consistent),
          ("gradientsAreNumericallyCorrect", _gradients_numerically_correct)]


def _print_summary(name: str, results: list[TestResult], elapsed: float) -> None:
    passed = sum(r.Passed for r in results)
    failed = sum(r.Failed for r in results)
    lines = [f"Running nnet.checklayer.TestLayerWithoutBackward ({name})",
             "." * len(results), "Done nnet.checklayer.TestLayerWithoutBackward", "__________", ""]
    for r in results:
        if r.Failed:
            lines += [f"Failure: {r.Name}", f"    {r.Details}", ""]
    lines += ["Test Summary:",
              f"\t {passed} Passed, {failed} Failed, 0 Incomplete, 0 Skipped.",
              f"\t Time elapsed: {elapsed:.4f} seconds."]
    print("\n".join(lines))
