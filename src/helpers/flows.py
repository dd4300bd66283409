"""Exact checks and preprocessing for normalizing flows; derived in "Normalizing flows" (week 10).

A *flow layer* here is any callable `flow(x) -> (z, log_det)` that maps a batch `x` of shape
`(B, *event)` to `z` of the same shape and returns `log_det`, shape `(B,)`, the log of the
absolute Jacobian determinant of the map x -> z for each sample; an invertible one also has
`flow.inverse(z) -> x`. The checks run in float64 on small batches.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

LOG_2PI = math.log(2 * math.pi)
LogProb = Callable[[torch.Tensor], torch.Tensor]


def standard_normal_log_prob(z: torch.Tensor) -> torch.Tensor:
    """log N(z; 0, I) per sample, summed over every axis but the first: shape (B,)."""
    return -0.5 * (z.pow(2) + LOG_2PI).flatten(1).sum(1)


def flow_log_prob(flow: Callable, x: torch.Tensor) -> torch.Tensor:
    """log p(x) = log N(f(x); 0, I) + log|det f'(x)| for a flow `f` with a standard normal base."""
    z, log_det = flow(x)
    return standard_normal_log_prob(z) + log_det


def _require_float64(x: torch.Tensor, what: str) -> None:
    if x.dtype != torch.float64:
        raise TypeError(f"{what} needs float64 inputs to test to 1e-10, got {x.dtype}; "
                        "call flow.double() and pass x.double()")


def jacobian_log_det(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """log|det J| per sample of `fn`, from autograd's full Jacobian and `torch.linalg.slogdet`.

    `fn` maps a batch (B, *event) to a batch with as many coordinates per sample (a squeeze
    may reshape them), each sample on its own
    (no mixing across the batch); the Jacobian of sample i is taken at x[i]. Shape (B,).
    """
    values = []
    for xi in x:
        def single(v: torch.Tensor) -> torch.Tensor:
            return fn(v.unsqueeze(0)).squeeze(0)

        jac = torch.autograd.functional.jacobian(single, xi)
        dim = xi.numel()
        if jac.numel() != dim * dim:
            raise ValueError(f"a flow must keep the number of coordinates: {tuple(xi.shape)} "
                             f"maps to {tuple(jac.shape[:jac.dim() - xi.dim()])}")
        _, logabsdet = torch.linalg.slogdet(jac.reshape(dim, dim))
        values.append(logabsdet)
    return torch.stack(values)


def _largest_error(a: torch.Tensor, b: torch.Tensor) -> float:
    """The largest |a - b|; a NaN or infinity counts as infinitely wrong."""
    diff = (a.detach() - b.detach()).abs().nan_to_num(nan=math.inf)
    return float(diff.max()) if diff.numel() else 0.0


def check_log_det(flow: Callable, x: torch.Tensor, *, atol: float = 1e-8) -> float:
    """Assert the flow's log_det equals autograd's log|det J| at every sample; return the error."""
    _require_float64(x, "check_log_det")
    _, log_det = flow(x)
    if log_det.shape != x.shape[:1]:
        raise AssertionError(f"log_det must have shape (B,) = {tuple(x.shape[:1])}, "
                             f"got {tuple(log_det.shape)}")
    reference = jacobian_log_det(lambda v: flow(v)[0], x)
    error = _largest_error(log_det, reference)
    if not error <= atol:
        worst = int((log_det.detach() - reference).abs().nan_to_num(nan=math.inf).argmax())
        raise AssertionError(
            f"log_det differs from autograd's Jacobian by {error:.3e} > atol={atol:g}; at "
            f"sample {worst} the flow says {log_det[worst].item():.10g}, slogdet of the "
            f"Jacobian says {reference[worst].item():.10g}")
    return error


def check_inverse(flow: Callable, x: torch.Tensor, *, atol: float = 1e-10) -> float:
    """Assert flow.inverse(flow(x)[0]) == x and flow(flow.inverse(z))[0] == z; return the error."""
    _require_float64(x, "check_inverse")
    with torch.no_grad():
        z, _ = flow(x)
        x_back = flow.inverse(z)
        z_back, _ = flow(x_back)
    error = max(_largest_error(x_back, x), _largest_error(z_back, z))
    if not error <= atol:
        raise AssertionError(f"the inverse is off: max |f^-1(f(x)) - x| or |f(f^-1(z)) - z| is "
                             f"{error:.3e} > atol={atol:g}")
    return error


@dataclass(frozen=True)
class FlowReport:
    """What `check_flow` measured: the largest inverse and log-determinant errors."""

    inverse_error: float | None
    log_det_error: float

    def __str__(self) -> str:
        inverse = "not checked" if self.inverse_error is None else f"{self.inverse_error:.1e}"
        return f"inverse error {inverse}, log-det error {self.log_det_error:.1e} (vs autograd)"


def check_flow(flow: Callable, x: torch.Tensor, *, invertible: bool = True, atol_inverse: float = 1e-10,
               atol_log_det: float = 1e-8) -> FlowReport:
    """Run the exact checks every flow layer passes: the inverse (if `invertible`) and the log-det.

    `x` must be float64 (and the flow's parameters too). Raises AssertionError on failure.
    """
    inverse_error = check_inverse(flow, x, atol=atol_inverse) if invertible else None
    log_det_error = check_log_det(flow, x, atol=atol_log_det)
    return FlowReport(inverse_error, log_det_error)


def grid(lim: float, num: int, *, dtype: torch.dtype = torch.float64,
         device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor, float]:
    """Cell centres of a num x num grid on [-lim, lim]^2: (1-D axis (num,), points (num*num, 2), cell area).

    The points run row by row (y outer, x inner), so `values.reshape(num, num)` is an image
    with y down the rows.
    """
    if num < 2 or lim <= 0:
        raise ValueError(f"grid needs lim > 0 and num >= 2, got lim={lim}, num={num}")
    step = 2 * lim / num
    axis = torch.linspace(-lim + step / 2, lim - step / 2, num, dtype=dtype, device=device)
    yy, xx = torch.meshgrid(axis, axis, indexing="ij")
    points = torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1)  # (num*num, 2)
    return axis, points, step * step


def grid_mass(log_prob: LogProb, *, lim: float, num: int, chunk: int = 65_536,
              device: torch.device | str = "cpu") -> float:
    """The midpoint-rule integral of exp(log_prob) over [-lim, lim]^2 with num x num cells."""
    _, points, area = grid(lim, num, device=device)
    with torch.no_grad():
        total = sum(float(log_prob(part).exp().sum()) for part in points.split(chunk))
    return total * area


def check_density_integrates(log_prob: LogProb, *, lim: float, num: int, atol: float = 1e-3,
                             device: torch.device | str = "cpu") -> float:
    """Assert a 2-D density integrates to 1 (within atol) on [-lim, lim]^2; return the mass."""
    mass = grid_mass(log_prob, lim=lim, num=num, device=device)
    if not abs(mass - 1) <= atol:
        raise AssertionError(f"the density integrates to {mass:.6f} on [-{lim}, {lim}]^2 "
                             f"({num}x{num} cells), not 1 within {atol:g}: a wrong log-det, or "
                             "mass outside the box (widen lim)")
    return mass


def dequantize_logit(X: torch.Tensor, noise: torch.Tensor, *, alpha: float = 0.05,
                     levels: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """Uniform dequantization and the logit transform, with the log-det of the whole map.

    `X` holds images in [0, 1] whose values are k / (levels - 1), k an integer (MNIST's
    `load_mnist` layout); `noise` is uniform on [0, 1) with X's shape. Returns
    z = logit(alpha + (1 - 2 alpha) (k + noise) / levels) and, per sample, the log-det of
    the map from k + noise to z, so that log q(k + noise) = log p_Z(z) + log_det.
    """
    if not 0 <= alpha < 0.5:
        raise ValueError(f"alpha must be in [0, 0.5), got {alpha}")
    k = torch.round(X * (levels - 1))
    y = alpha + (1 - 2 * alpha) * (k + noise) / levels  # in (alpha, 1 - alpha)
    z = torch.log(y) - torch.log1p(-y)
    per_dim = math.log(1 - 2 * alpha) - math.log(levels) - torch.log(y) - torch.log1p(-y)
    return z, per_dim.flatten(1).sum(1)


def bits_per_dim(nll_nats: torch.Tensor | float, num_dims: int) -> float:
    """Convert a mean negative log-likelihood in nats per sample to bits per dimension."""
    return float(nll_nats) / (num_dims * math.log(2))
