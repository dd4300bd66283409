"""Mixed precision, channels_last and honest timing on the device; introduced in "Convolutional layers and LeNet"."""

from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class Precision:
    """How to compute on one device: the autocast dtype (float32 = no autocast), whether gradients
    need a GradScaler (fp16 only), and whether to store images channels_last."""

    device_type: str
    dtype: torch.dtype = torch.float32
    use_scaler: bool = False
    channels_last: bool = False

    @property
    def autocast_enabled(self) -> bool:
        return self.dtype != torch.float32

    @property
    def name(self) -> str:
        """For outputs, e.g. "bf16 autocast, channels_last (cuda)"."""
        parts = {torch.float32: "fp32", torch.bfloat16: "bf16 autocast", torch.float16: "fp16 autocast"}[self.dtype]
        if self.use_scaler:
            parts += " + GradScaler"
        if self.channels_last:
            parts += ", channels_last"
        return f"{parts} ({self.device_type})"


def cuda_bf16_supported() -> bool:
    """Whether the current CUDA GPU computes in bfloat16 natively (compute capability 8.0, Ampere, or newer)."""
    return torch.cuda.is_available() and torch.cuda.is_bf16_supported(including_emulation=False)


def choose_precision(device: torch.device | str, *, mixed: bool = True,
                     bf16_supported: Callable[[], bool] = cuda_bf16_supported) -> Precision:
    """bf16 autocast where the GPU supports it, else fp16 autocast with a GradScaler; channels_last on
    CUDA. Anywhere else (CPU, MPS), or with `mixed=False`: plain fp32, a no-op.

    `bf16_supported` is the capability query, injectable so that the choice can be tested without a GPU.
    """
    device = torch.device(device)
    if device.type != "cuda" or not mixed:
        return Precision(device.type)
    if bf16_supported():
        return Precision("cuda", torch.bfloat16, use_scaler=False, channels_last=True)
    return Precision("cuda", torch.float16, use_scaler=True, channels_last=True)


def autocast(precision: Precision) -> contextlib.AbstractContextManager:
    """`torch.autocast` for the precision, or a context that does nothing for fp32."""
    if not precision.autocast_enabled:
        return contextlib.nullcontext()
    return torch.autocast(device_type=precision.device_type, dtype=precision.dtype)


def grad_scaler(precision: Precision) -> torch.amp.GradScaler:
    """A GradScaler, enabled only for fp16 (where small gradients would underflow); else a pass-through."""
    return torch.amp.GradScaler(precision.device_type, enabled=precision.use_scaler)


def to_memory_format(obj: nn.Module | torch.Tensor, precision: Precision) -> nn.Module | torch.Tensor:
    """A model or a (B, C, H, W) batch in channels_last layout where the precision asks for it, else unchanged."""
    if not precision.channels_last:
        return obj
    if isinstance(obj, torch.Tensor) and obj.ndim != 4:
        return obj
    return obj.to(memory_format=torch.channels_last)


# ---------------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------------

def synchronize(device: torch.device | str) -> None:
    """Wait until every kernel queued on `device` has finished (CUDA and MPS run asynchronously)."""
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


@dataclass(frozen=True)
class Timing:
    """Seconds per call of a timed function: every repeat, and their median."""

    seconds: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def time_it(fn: Callable[[], object], device: torch.device | str, *, repeats: int = 5, warmup: int = 1) -> Timing:
    """Time `fn()` on `device` honestly: warm-up calls first (allocations, kernel selection), and a
    synchronization before each clock reading, so that queued GPU work is counted."""
    if repeats < 1 or warmup < 0:
        raise ValueError(f"need repeats >= 1 and warmup >= 0, got {repeats} and {warmup}")
    for _ in range(warmup):
        fn()
    seconds = []
    for _ in range(repeats):
        synchronize(device)
        start = time.perf_counter()
        fn()
        synchronize(device)
        seconds.append(time.perf_counter() - start)
    return Timing(tuple(seconds))
