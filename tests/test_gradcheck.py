"""helpers.gradcheck: right gradients pass, wrong ones fail with the index of the worst entry."""

import re

import pytest
import torch

from helpers.gradcheck import (
    assert_grad_close,
    autograd_gradients,
    check_gradients,
    finite_difference_gradients,
)


@pytest.fixture
def least_squares():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(20, 4, generator=g, dtype=torch.float64)
    y = torch.randn(20, generator=g, dtype=torch.float64)
    params = {"w": torch.randn(4, generator=g, dtype=torch.float64), "b": torch.tensor(0.3, dtype=torch.float64)}

    def f(w, b):
        return 0.5 * ((X @ w + b - y) ** 2).mean()

    r = X @ params["w"] + params["b"] - y  # (20,)
    hand = {"w": X.T @ r / len(y), "b": r.mean()}
    return f, params, hand


def test_correct_gradient_passes(least_squares):
    f, params, hand = least_squares
    report = check_gradients(f, params, hand)
    assert set(report.autograd) == {"w", "b"} and max(report.finite_differences.values()) < 1e-8
    assert "vs autograd" in str(report)


def test_autograd_and_finite_differences_agree_with_torch(least_squares):
    f, params, _ = least_squares
    auto = autograd_gradients(f, params)
    w = params["w"].clone().requires_grad_(True)
    f(w, params["b"]).backward()
    torch.testing.assert_close(auto["w"], w.grad)
    indices, values = finite_difference_gradients(f, params)["w"]
    torch.testing.assert_close(values, auto["w"][indices], rtol=1e-6, atol=1e-9)
    indices, _ = finite_difference_gradients(f, params, max_entries=2)["w"]
    assert len(indices) == 2


def test_wrong_entry_is_reported_with_name_and_index(least_squares):
    f, params, hand = least_squares
    wrong = dict(hand, w=hand["w"].clone())
    wrong["w"][2] += 0.1
    with pytest.raises(AssertionError, match=re.escape("gradient of 'w'") + r".*index \(2,\)"):
        check_gradients(f, params, wrong)


def test_finite_differences_catch_what_autograd_cannot(least_squares):
    f, params, hand = least_squares

    def f_detached(w, b):  # autograd sees a zero gradient for w; finite differences see the truth
        return f(w.detach(), b)

    zeros = dict(hand, w=torch.zeros(4, dtype=torch.float64))
    with pytest.raises(AssertionError, match="finite differences"):
        check_gradients(f_detached, params, zeros)


def test_matrix_index_and_shape_mismatch():
    ref = torch.zeros(3, 4, dtype=torch.float64)
    hand = ref.clone()
    hand[1, 3] = 1.0
    with pytest.raises(AssertionError, match=r"index \(1, 3\).*1 of 12 entries"):
        assert_grad_close(hand, ref, name="W")
    with pytest.raises(AssertionError, match="shape"):
        assert_grad_close(torch.zeros(4, 3), ref)
    with pytest.raises(AssertionError, match="does not match"):
        assert_grad_close(torch.full((3, 4), float("nan")), ref)


def test_bad_usage_says_what_to_do(least_squares):
    f, params, hand = least_squares
    with pytest.raises(ValueError, match="one hand-derived gradient per parameter"):
        check_gradients(f, params, {"w": hand["w"]})
    with pytest.raises(ValueError, match="scalar"):
        autograd_gradients(lambda w, b: w * b, params)
    X32 = torch.randn(20, 4)
    with pytest.raises(RuntimeError, match="float64"):
        finite_difference_gradients(lambda w: (X32 @ w).sum(), {"w": torch.zeros(4)})
