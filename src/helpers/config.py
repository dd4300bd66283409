"""The run's configuration, read from the environment in one place; introduced in "Optimization and SGD".

`book_config()` is the only function of the package that reads environment variables. It
returns a frozen `BookConfig`; everything else takes that object, or plain arguments.

| variable              | field             | default                                      |
|-----------------------|-------------------|----------------------------------------------|
| `BOOK_PROFILE`        | `profile`         | `full` where CUDA is available, else `quick` |
| `BOOK_DATA`           | `data_mode`       | `online` (`offline`: stand-ins where needed) |
| `BOOK_DATA_ROOT`      | `data_root`       | `./data`                                     |
| `BOOK_MINI_DATA_ROOT` | `mini_root`       | none (the build passes it to the kernels)    |
| `BOOK_CHECKPOINT_DIR` | `checkpoint_root` | `./checkpoints`                              |
| `BOOK_COMMIT`         | `commit`          | none ("not recorded")                        |
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from helpers.profile import ENV_VAR as PROFILE_VAR
from helpers.profile import validate_profile

T = TypeVar("T")

DATA_MODE_VAR = "BOOK_DATA"
DATA_ROOT_VAR = "BOOK_DATA_ROOT"
MINI_ROOT_VAR = "BOOK_MINI_DATA_ROOT"
CHECKPOINT_VAR = "BOOK_CHECKPOINT_DIR"
COMMIT_VAR = "BOOK_COMMIT"
DATA_MODES = ("online", "offline")


class ConfigError(ValueError):
    """Raised when an environment variable (or a field) holds a value the book cannot use."""


@dataclass(frozen=True)
class BookConfig:
    """Where and how a lecture runs: the profile, the data it may use, where checkpoints go.

    `data_mode="offline"` is for machines without internet (the GPU machines this project
    borrows): the full profile then uses the real datasets found under `data_root` and the
    labelled stand-ins (the mini MNIST set, the synthetic CIFAR-10) for those that are not,
    at full model size and schedule. With `"online"` a missing dataset is downloaded, and a
    failed download is an error: the full profile never falls back silently.
    """

    profile: str = "quick"
    data_mode: str = "online"
    data_root: Path = Path("data")
    mini_root: Path | None = None
    checkpoint_root: Path = Path("checkpoints")
    commit: str | None = None

    def __post_init__(self) -> None:
        validate_profile(self.profile)
        if self.data_mode not in DATA_MODES:
            raise ConfigError(f"{DATA_MODE_VAR} must be one of {', '.join(DATA_MODES)}, "
                              f"got {self.data_mode!r}")
        for name in ("data_root", "mini_root", "checkpoint_root"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Path):
                object.__setattr__(self, name, Path(value))

    @property
    def offline(self) -> bool:
        return self.data_mode == "offline"

    def choose(self, quick: T, full: T) -> T:
        """The value for this profile, e.g. `num_epochs = config.choose(quick=2, full=30)`."""
        return quick if self.profile == "quick" else full

    def checkpoint_path(self, name: str) -> Path:
        """`<checkpoint_root>/<profile>/<name>.pt`: one profile's checkpoints never meet another's."""
        return self.checkpoint_root / self.profile / f"{name}.pt"


def _cuda_available() -> bool:
    import torch  # only when the profile is not given: importing torch takes seconds

    return torch.cuda.is_available()


def book_config(environ: Mapping[str, str] | None = None, *,
                cuda_available: Callable[[], bool] = _cuda_available) -> BookConfig:
    """Read the configuration from `environ` (the process environment by default)."""
    environ = os.environ if environ is None else environ

    def get(name: str) -> str | None:
        value = environ.get(name, "").strip()
        return value or None

    profile = (get(PROFILE_VAR) or "").lower() or ("full" if cuda_available() else "quick")
    return BookConfig(
        profile=profile,
        data_mode=(get(DATA_MODE_VAR) or "online").lower(),
        data_root=Path(get(DATA_ROOT_VAR) or "data"),
        mini_root=Path(get(MINI_ROOT_VAR)) if get(MINI_ROOT_VAR) else None,
        checkpoint_root=Path(get(CHECKPOINT_VAR) or "checkpoints"),
        commit=get(COMMIT_VAR),
    )
