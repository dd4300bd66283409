"""Pick the compute device: CUDA, then Apple's MPS, then the CPU; introduced in "Optimization and SGD"."""

from __future__ import annotations

import torch


def get_device(prefer: str | None = None) -> torch.device:
    """The best available device, or `prefer` ("cuda", "mps", "cpu") when it is available."""
    available = {
        "cuda": torch.cuda.is_available(),
        "mps": getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available(),
        "cpu": True,
    }
    if prefer is not None:
        if prefer not in available:
            raise ValueError(f"unknown device {prefer!r}: choose one of {sorted(available)}")
        if not available[prefer]:
            raise RuntimeError(
                f"device {prefer!r} was requested but is not available on this machine; "
                "call get_device() without an argument to fall back automatically"
            )
        return torch.device(prefer)
    for name in ("cuda", "mps", "cpu"):
        if available[name]:
            return torch.device(name)
    raise AssertionError("unreachable: the CPU is always available")


def device_name(device: torch.device | str) -> str:
    """A human-readable name such as "cuda (NVIDIA H100 80GB HBM3)" or "cpu (2 threads)"."""
    device = torch.device(device)
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    if device.type == "cpu":
        return f"cpu ({torch.get_num_threads()} threads)"
    return device.type
