"""Run profiles, `quick` (CPU, seconds) and `full` (GPU, real data); introduced in "Optimization and SGD"."""

from __future__ import annotations

import os
from typing import TypeVar

ENV_VAR = "BOOK_PROFILE"
PROFILES = ("quick", "full")

T = TypeVar("T")


class ProfileError(ValueError):
    """Raised when `BOOK_PROFILE` (or a `profile=` argument) names no known profile."""


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def validate_profile(profile: str) -> str:
    """Return `profile` if it is a known profile name, else raise ProfileError saying what is valid."""
    if profile not in PROFILES:
        valid = ", ".join(repr(p) for p in PROFILES)
        raise ProfileError(
            f"unknown profile {profile!r}: valid profiles are {valid}. "
            f"Set {ENV_VAR} to one of them, or unset it to choose 'full' on a CUDA machine "
            "and 'quick' elsewhere."
        )
    return profile


def get_profile(environ: dict[str, str] | None = None, cuda_available: bool | None = None) -> str:
    """The active profile: `BOOK_PROFILE` if set, else `full` with CUDA and `quick` without."""
    environ = os.environ if environ is None else environ
    value = environ.get(ENV_VAR, "").strip()
    if value:
        return validate_profile(value.lower())
    if cuda_available is None:
        cuda_available = _cuda_available()
    return "full" if cuda_available else "quick"


def choose(quick: T, full: T, profile: str | None = None) -> T:
    """Pick the value for the active profile, e.g. `num_epochs = choose(quick=2, full=30)`."""
    profile = get_profile() if profile is None else validate_profile(profile)
    return quick if profile == "quick" else full
