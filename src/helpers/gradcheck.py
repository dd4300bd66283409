"""Hand-derived gradients vs autograd and finite differences; from "Logistic regression and shallow neural networks"."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import torch

Params = Mapping[str, torch.Tensor]


def _index(flat: int, shape: torch.Size) -> tuple[int, ...]:
    return tuple(int(i) for i in np.unravel_index(flat, tuple(shape))) if len(shape) else ()


def assert_grad_close(hand: torch.Tensor, reference: torch.Tensor, *, name: str = "x",
                      reference_name: str = "autograd", rtol: float = 1e-5, atol: float = 1e-8) -> float:
    """Assert |hand - reference| <= atol + rtol * |reference| entrywise; return the largest |difference|.

    On failure the AssertionError names the parameter, the index of the largest discrepancy and
    both values there.
    """
    if hand.shape != reference.shape:
        raise AssertionError(f"gradient of {name!r}: the hand-derived one has shape {tuple(hand.shape)} "
                             f"but {reference_name} gives {tuple(reference.shape)}")
    return _compare(hand, reference, name, reference_name, rtol, atol, lambda flat: _index(flat, hand.shape))


def _compare(hand: torch.Tensor, reference: torch.Tensor, name: str, reference_name: str, rtol: float,
             atol: float, index_of: Callable[[int], tuple[int, ...]]) -> float:
    hand64 = hand.detach().to("cpu", torch.float64).reshape(-1)  # (numel,)
    ref64 = reference.detach().to("cpu", torch.float64).reshape(-1)  # (numel,)
    diff = (hand64 - ref64).abs().nan_to_num(nan=float("inf"))  # a nan never passes
    bad = diff > atol + rtol * ref64.abs()
    largest = float(diff.max()) if diff.numel() else 0.0
    if bool(bad.any()):
        flat = int(diff.argmax())
        raise AssertionError(
            f"gradient of {name!r} does not match {reference_name}: the largest discrepancy is "
            f"{largest:.3e} at index {index_of(flat)} (hand-derived {hand64[flat].item():.8g}, "
            f"{reference_name} {ref64[flat].item():.8g}); {int(bad.sum())} of {diff.numel()} "
            f"entries exceed atol={atol:g} + rtol={rtol:g} * |{reference_name}|"
        )
    return largest


def autograd_gradients(f: Callable[..., torch.Tensor], params: Params) -> dict[str, torch.Tensor]:
    """The gradients of the scalar `f(**params)` with respect to each parameter, by autograd."""
    leaves = {name: p.detach().clone().requires_grad_(True) for name, p in params.items()}
    value = f(**leaves)
    if value.numel() != 1:
        raise ValueError(f"f must return a scalar (a loss), got shape {tuple(value.shape)}")
    grads = torch.autograd.grad(value, list(leaves.values()), allow_unused=True)
    return {name: torch.zeros_like(p) if g is None else g for (name, p), g in zip(leaves.items(), grads, strict=True)}


def finite_difference_gradients(f: Callable[..., torch.Tensor], params: Params, *, eps: float = 1e-6,
                                max_entries: int | None = None,
                                seed: int = 0) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Central differences (f(p + eps e_i) - f(p - eps e_i)) / (2 eps) in float64.

    Returns, per parameter, the flat indices that were probed and the estimates there; with
    `max_entries`, a seeded random subset of at most that many entries per parameter.
    """
    base = {name: p.detach().to("cpu", torch.float64).clone() for name, p in params.items()}
    generator = torch.Generator().manual_seed(seed)
    estimates = {}
    with torch.no_grad():
        for name, p in base.items():
            flat = p.view(-1)  # (numel,), shares storage with p
            indices = torch.arange(flat.numel())
            if max_entries is not None and flat.numel() > max_entries:
                indices = torch.randperm(flat.numel(), generator=generator)[:max_entries].sort().values
            values = torch.empty(len(indices), dtype=torch.float64)
            for k, i in enumerate(indices.tolist()):
                old = flat[i].item()
                flat[i] = old + eps
                up = _evaluate(f, base)
                flat[i] = old - eps
                down = _evaluate(f, base)
                flat[i] = old
                values[k] = (up - down) / (2 * eps)
            estimates[name] = (indices, values)
    return estimates


def _evaluate(f: Callable[..., torch.Tensor], params: Params) -> float:
    try:
        return float(f(**params))
    except RuntimeError as err:
        raise RuntimeError(f"f failed on float64 parameters ({err}); finite differences run in float64, "
                           "so make f's data float64 (X.double()) or pass finite_differences=False") from err


@dataclass(frozen=True)
class GradCheckReport:
    """The largest |hand - autograd| and |hand - finite differences| per parameter (None if not run)."""

    autograd: dict[str, float]
    finite_differences: dict[str, float] | None

    def __str__(self) -> str:
        lines = []
        for name, diff in self.autograd.items():
            fd = ""
            if self.finite_differences is not None:
                fd = f", vs finite differences {self.finite_differences[name]:.1e}"
            lines.append(f"{name}: largest |difference| vs autograd {diff:.1e}{fd}")
        return "\n".join(lines)


def check_gradients(f: Callable[..., torch.Tensor], params: Params, hand: Params, *, rtol: float = 1e-5,
                    atol: float = 1e-8, finite_differences: bool = True, eps: float = 1e-6,
                    fd_rtol: float = 1e-4, fd_atol: float = 1e-6, max_fd_entries: int | None = 256,
                    seed: int = 0) -> GradCheckReport:
    """Assert that `hand[name]` is the gradient of `f(**params)` for every parameter name.

    Compared with autograd (at the parameters' dtype) and, unless `finite_differences=False`,
    with central finite differences in float64. Raises AssertionError naming the parameter and
    the index of the largest discrepancy.
    """
    if set(hand) != set(params):
        raise ValueError(f"hand gives gradients for {sorted(hand)} but params has {sorted(params)}: "
                         "pass one hand-derived gradient per parameter")
    auto = autograd_gradients(f, params)
    report_auto = {name: assert_grad_close(hand[name], auto[name], name=name, rtol=rtol, atol=atol)
                   for name in params}
    report_fd = None
    if finite_differences:
        report_fd = {}
        for name, (indices, values) in finite_difference_gradients(
                f, params, eps=eps, max_entries=max_fd_entries, seed=seed).items():
            probed = hand[name].detach().reshape(-1)[indices]  # (len(indices),)
            shape = params[name].shape
            report_fd[name] = _compare(probed, values, name, "finite differences", fd_rtol, fd_atol,
                                       lambda k, idx=indices, shape=shape: _index(int(idx[k]), shape))
    return GradCheckReport(report_auto, report_fd)

