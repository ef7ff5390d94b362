"""Random compositions of recorded NumPy operations on dlarrays against torch.autograd (float64)."""
import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

from layergraph.autodiff import dlarray, dlfeval, dlgradient, extractdata

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

# name -> (our op on (a, b), torch op on (a, b)); a, b have shape (3, 4); results keep (3, 4)
BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "div": (lambda a, b: a / (np.abs(b) + 1), lambda a, b: a / (b.abs() + 1)),
    "maximum": (np.maximum, torch.maximum),
    "minimum": (np.minimum, torch.minimum),
    "pow": (lambda a, b: (np.abs(a) + 0.5) ** b, lambda a, b: (a.abs() + 0.5) ** b),
    # second arguments kept away from 0: at the origin both derivatives are 0/0 (b - b gives it)
    "hypot": (lambda a, b: np.hypot(a, np.abs(b) + 1), lambda a, b: torch.hypot(a, b.abs() + 1)),
    "arctan2": (lambda a, b: np.arctan2(a, np.abs(b) + 1), lambda a, b: torch.atan2(a, b.abs() + 1)),
    "where": (lambda a, b: np.where(a > 0, a, b),
              lambda a, b: torch.where(a > 0, a, b)),
    "matmul_t": (lambda a, b: a @ b.T @ a, lambda a, b: a @ b.T @ a),
    "concat_slice": (lambda a, b: np.concatenate([a[:, :2], b[:, 2:]], axis=1),
                     lambda a, b: torch.cat([a[:, :2], b[:, 2:]], dim=1)),
    "broadcast_row": (lambda a, b: a * np.mean(b, axis=0, keepdims=True),
                      lambda a, b: a * b.mean(dim=0, keepdim=True)),
}
UNARY = {
    "exp": (lambda a: np.exp(a / 4), lambda a: torch.exp(a / 4)),
    "log": (lambda a: np.log(np.abs(a) + 1), lambda a: torch.log(a.abs() + 1)),
    "sqrt": (lambda a: np.sqrt(a * a + 1), lambda a: torch.sqrt(a * a + 1)),
    "tanh": (np.tanh, torch.tanh),
    "sin": (np.sin, torch.sin),
    "cos": (np.cos, torch.cos),
    "square": (np.square, torch.square),
    "neg": (lambda a: -a, lambda a: -a),
    "abs": (np.abs, torch.abs),
    "log1p": (lambda a: np.log1p(np.abs(a)), lambda a: torch.log1p(a.abs())),
    "arctan": (np.arctan, torch.atan),
    "clip": (lambda a: np.clip(a, -0.5, 0.7), lambda a: torch.clamp(a, -0.5, 0.7)),
    "transpose2": (lambda a: np.transpose(np.transpose(a)), lambda a: a.T.T),
    "reshape": (lambda a: np.reshape(np.reshape(a, (4, 3)) * 2, (3, 4)),
                lambda a: torch.reshape(torch.reshape(a, (4, 3)) * 2, (3, 4))),
    "flip_index": (lambda a: a[::-1, [3, 1, 1, 0]], lambda a: a.flip(0)[:, [3, 1, 1, 0]]),
    "softmax_rows": (lambda a: _stable_softmax_rows(a),
                     lambda a: torch.softmax(a, dim=1)),
    "max_cols": (lambda a: a - np.max(a, axis=0, keepdims=True), lambda a: a - a.amax(dim=0, keepdim=True)),
    # not a / std(a): a constant array (after clip, or b - b) has std 0, and d sqrt(0) is infinite
    "std": (lambda a: a / (np.std(a + np.arange(12.0).reshape(3, 4)) + 0.5),
            lambda a: a / ((a + torch.arange(12.0, dtype=a.dtype).reshape(3, 4)).std(unbiased=False) + 0.5)),
}
def _stable_softmax_rows(a):
    e = np.exp(a - np.max(a, axis=1, keepdims=True))
    return e / np.sum(e, axis=1, keepdims=True)


REDUCE = {
    "sum": (np.sum, torch.sum),
    "mean": (np.mean, torch.mean),
    "sum_sq": (lambda a: np.sum(a * a), lambda a: (a * a).sum()),
    "max": (np.max, torch.amax),
}


@st.composite
def programs(draw):
    steps = draw(st.lists(st.one_of(st.tuples(st.just("u"), st.sampled_from(sorted(UNARY))),
                                    st.tuples(st.just("b"), st.sampled_from(sorted(BINARY)),
                                              st.integers(0, 5))), min_size=1, max_size=6))
    return steps, draw(st.sampled_from(sorted(REDUCE))), draw(st.integers(0, 2**31 - 1))


def _run(steps, reduce, values, lib):
    pool = list(values)
    for step in steps:
        if step[0] == "u":
            fun = UNARY[step[1]][lib]
            pool.append(fun(pool[-1]))
        else:
            fun = BINARY[step[1]][lib]
            pool.append(fun(pool[-1], pool[step[2] % len(pool)]))
    return REDUCE[reduce][lib](pool[-1])


@settings(max_examples=60, deadline=None)
@given(programs())
def test_random_compositions_match_torch_autograd(program):
    steps, reduce, seed = program
    rng = np.random.default_rng(seed)
    values = [rng.standard_normal((3, 4)) for _ in range(2)]

    def model(a, b):
        loss = _run(steps, reduce, [a, b], 0)
        return loss, *dlgradient(loss, a, b)
    loss, ga, gb = dlfeval(model, dlarray(values[0]), dlarray(values[1]))
    ta, tb = (torch.tensor(v, requires_grad=True) for v in values)
    tloss = _run(steps, reduce, [ta, tb], 1)
    tloss.backward()
    # compositions that overflow (exp of a large product) have no meaningful reference
    assume(np.isfinite(tloss.item()) and abs(tloss.item()) < 1e12
           and all(t.grad is None or np.isfinite(t.grad.numpy()).all() for t in (ta, tb)))
    np.testing.assert_allclose(float(loss), tloss.item(), rtol=1e-6, atol=1e-12)
    for ours, ref in ((ga, ta.grad), (gb, tb.grad)):
        ref = np.zeros((3, 4)) if ref is None else ref.numpy()
        np.testing.assert_allclose(extractdata(ours), ref, rtol=1e-6, atol=1e-9 * max(1.0, np.abs(ref).max()))


def test_gradient_of_an_intermediate_value_and_fan_out():
    def model(x):
        h = np.tanh(x)                       # used three times below
        loss = np.sum(h * h) + np.sum(h) * np.sum(x)
        return dlgradient(loss, x, h)
    gx, gh = dlfeval(model, dlarray(np.linspace(-1, 1, 6).reshape(2, 3)))
    tx = torch.tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)
    th = torch.tanh(tx)
    th.retain_grad()
    (torch.sum(th * th) + torch.sum(th) * torch.sum(tx)).backward()
    np.testing.assert_allclose(extractdata(gx), tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(extractdata(gh), th.grad.numpy(), rtol=1e-12)


def test_setitem_is_recorded_copy_on_write():
    x0 = np.arange(6.0).reshape(2, 3)

    def model(x, v):
        y = x * 1.0
        y[0, 1:] = v * 3
        loss = np.sum(y * y)
        return dlgradient(loss, x, v)
    gx, gv = dlfeval(model, dlarray(x0), dlarray(np.array([1.0, 2.0])))
    np.testing.assert_allclose(extractdata(gx), 2 * x0 * np.array([[1, 0, 0], [1, 1, 1]]))
    np.testing.assert_allclose(extractdata(gv), 2 * 3 * 3 * np.array([1.0, 2.0]))
