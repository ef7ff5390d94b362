"""Random-direction central finite differences (float64), and dtype-keyed tolerances."""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

TOLERANCES = {np.dtype(np.float64): {"rtol": 1e-10, "atol": 1e-10},
              np.dtype(np.float32): {"rtol": 1e-4, "atol": 1e-5}}


def tolerance(dtype) -> dict:
    """``rtol``/``atol`` for comparing a result computed in ``dtype`` with a float64 oracle."""
    return TOLERANCES[np.dtype(dtype)]


def check_gradients(fun: Callable[..., float], inputs: Sequence[np.ndarray],
                    grads: Sequence[np.ndarray | None], rng: np.random.Generator,
                    eps: float = 1e-6, rtol: float = 1e-6, atol: float = 1e-9) -> None:
    """Check each analytic gradient against a central difference along a random direction.

    ``fun(*inputs)`` is a scalar (float64 inputs); ``grads[i]`` is d fun / d inputs[i], or None
    to skip that input. For a random ``r``: ``<grads[i], r>`` must match
    ``(fun(.., x + eps r, ..) - fun(.., x - eps r, ..)) / (2 eps)``.
    """
    for i, (x, grad) in enumerate(zip(inputs, grads)):
        if grad is None:
            continue
        assert grad.shape == x.shape, f"input {i}: gradient {grad.shape} vs input {x.shape}"
        r = rng.standard_normal(x.shape)

        def shifted(h: float) -> float:
            args = list(inputs)
            args[i] = x + h * r
            return float(fun(*args))

        numeric = (shifted(eps) - shifted(-eps)) / (2 * eps)
        analytic = float(np.vdot(grad, r))
        assert abs(analytic - numeric) <= rtol * max(abs(analytic), abs(numeric)) + atol, (
            f"input {i}: analytic <grad, r> = {analytic!r}, finite difference = {numeric!r}")
