"""Pixel cross-entropy and generalized Dice: oracles, finite differences, unlabelled pixels."""
import numpy as np
import pytest

from helpers.gradcheck import check_gradients, tolerance
from layergraph.ops import _backend, activation, segmentation_loss as seg


def _scores_and_targets(rng, shape, unlabelled=0):
    y = activation.softmax_forward(rng.standard_normal(shape))[0]
    labels = rng.integers(0, shape[0], size=shape[1:])
    t = (np.arange(shape[0]).reshape((-1,) + (1,) * (len(shape) - 1)) == labels).astype(float)
    if unlabelled:
        t.reshape(shape[0], -1)[:, :unlabelled] = 0
    return y, t


@pytest.mark.parametrize("shape", [(3, 2, 4), (2, 2, 3, 4), (4, 1, 2, 3, 2)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_pixel_cross_entropy_oracle(shape, dtype, rng, xp):
    y, t = _scores_and_targets(rng, shape, unlabelled=2)
    weights = rng.uniform(0.5, 2.0, shape[0])
    loss, cache = seg.pixel_cross_entropy_forward(xp.asarray(y.astype(dtype)),
                                                   xp.asarray(t.astype(dtype)),
                                                   xp.asarray(weights.astype(dtype)))
    labelled = int((t.sum(axis=0) > 0).sum())
    expected = -(weights.reshape((-1,) + (1,) * (len(shape) - 1)) * t * np.log(y)).sum() / labelled
    assert loss.dtype == dtype
    np.testing.assert_allclose(float(loss), expected, **tolerance(dtype))
    dy = _backend.to_host(seg.pixel_cross_entropy_backward(cache))
    assert dy.dtype == dtype and np.all(dy.reshape(shape[0], -1)[:, :2] == 0)


def test_pixel_cross_entropy_gradient_and_bound(rng):
    y, t = _scores_and_targets(rng, (3, 2, 3, 3), unlabelled=1)
    w = np.array([1.0, 2.0, 0.5])
    _, cache = seg.pixel_cross_entropy_forward(y, t, w)
    check_gradients(lambda y: seg.pixel_cross_entropy_forward(y, t, w)[0], (y,),
                    (seg.pixel_cross_entropy_backward(cache),), rng)
    y0 = np.zeros((2, 1, 2), np.float32)
    t0 = np.array([[[1, 0]], [[0, 1]]], np.float32)
    loss, _ = seg.pixel_cross_entropy_forward(y0, t0)
    assert np.isclose(float(loss), -np.log(np.finfo(np.float32).eps))


def test_pixel_cross_entropy_without_labels_is_zero():
    loss, cache = seg.pixel_cross_entropy_forward(np.full((2, 1, 3), 0.5), np.zeros((2, 1, 3)))
    assert float(loss) == 0 and not seg.pixel_cross_entropy_backward(cache).any()


def naive_dice(y, t, eps=1e-8):
    k, n = y.shape[:2]
    total = 0.0
    for i in range(n):
        yi, ti = y[:, i].reshape(k, -1), t[:, i].reshape(k, -1)
        w = 1 / np.maximum(ti.sum(axis=1) ** 2, np.finfo(float).eps)
        numer = 2 * np.sum(w * (yi * ti).sum(axis=1)) + eps
        denom = np.sum(w * (yi ** 2 + ti ** 2).sum(axis=1)) + eps
        total += 1 - numer / denom
    return total / n


@pytest.mark.parametrize("shape", [(2, 3, 5), (3, 2, 4, 4), (2, 2, 3, 2, 3)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_generalized_dice_oracle(shape, dtype, rng, xp):
    y, t = _scores_and_targets(rng, shape)
    loss, _ = seg.generalized_dice_forward(xp.asarray(y.astype(dtype)), xp.asarray(t.astype(dtype)))
    assert loss.dtype == dtype
    np.testing.assert_allclose(float(loss), naive_dice(y, t), rtol=1e-5 if dtype == np.float32
                               else 1e-12)


def test_generalized_dice_gradient(rng):
    y, t = _scores_and_targets(rng, (3, 2, 4, 3))
    t[2] = 0                                # an absent class: weight 1/eps, still finite
    t[0] = 1 - t[1]
    y = y / 2
    _, cache = seg.generalized_dice_forward(y, t)
    check_gradients(lambda y: seg.generalized_dice_forward(y, t)[0], (y,),
                    (seg.generalized_dice_backward(cache),), rng, eps=1e-7, rtol=1e-5)


def test_generalized_dice_perfect_and_worst():
    t = np.zeros((2, 2, 4))
    t[0, :, :1] = 1
    t[1, :, 1:] = 1
    assert abs(float(seg.generalized_dice_forward(t, t)[0])) < 1e-12
    assert np.isclose(float(seg.generalized_dice_forward(1 - t, t)[0]), 1.0)
    with pytest.raises(ValueError, match="same shape"):
        seg.generalized_dice_forward(t, t[:, :1])


# ---- focal loss -----------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(3, 5), (3, 2, 4, 4)])
@pytest.mark.parametrize("gamma, alpha", [(2.0, 0.25), (0.0, 1.0), (0.5, 2.0)])
def test_focal_oracle_and_gradient(shape, gamma, alpha, rng):
    y, t = _scores_and_targets(rng, shape, unlabelled=1)
    loss, cache = seg.focal_cross_entropy_forward(y, t, gamma, alpha)
    labelled = int((t.sum(axis=0) > 0).sum())
    expected = -(alpha * t * (1 - y) ** gamma * np.log(y)).sum() / labelled
    np.testing.assert_allclose(float(loss), expected, rtol=1e-12)
    check_gradients(lambda y: seg.focal_cross_entropy_forward(y, t, gamma, alpha)[0], (y,),
                    (seg.focal_cross_entropy_backward(cache),), rng)
    if gamma == 0:      # alpha times the pixel cross-entropy
        np.testing.assert_allclose(float(loss),
                                   alpha * float(seg.pixel_cross_entropy_forward(y, t)[0]))


def test_focal_is_finite_at_certain_predictions():
    y = np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)
    t = np.eye(2, dtype=np.float32)
    for gamma in (0.5, 2.0):
        loss, cache = seg.focal_cross_entropy_forward(y, t, gamma, 0.25)
        assert np.isfinite(float(loss)) and np.all(np.isfinite(seg.focal_cross_entropy_backward(cache)))
