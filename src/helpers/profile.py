"""Run profiles, `quick` (CPU, seconds) and `full` (GPU, real data); introduced in "Optimization and SGD".

The active profile is a field of `helpers.config.BookConfig`, read once by `book_config()`.
"""

from __future__ import annotations

ENV_VAR = "BOOK_PROFILE"
PROFILES = ("quick", "full")


class ProfileError(ValueError):
    """Raised when `BOOK_PROFILE` (or a `profile=` argument) names no known profile."""


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
