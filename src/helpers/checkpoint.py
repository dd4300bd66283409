"""Atomic checkpoints keyed by profile, and exact resume; introduced in "Convolutional layers and LeNet"."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from helpers.config import CHECKPOINT_VAR, BookConfig
from helpers.profile import validate_profile

FORMAT = 1
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class CheckpointError(RuntimeError):
    """Raised when a checkpoint cannot be used for this run (another profile, another configuration)."""


@dataclass(frozen=True)
class Checkpoint:
    """Where `helpers.training.fit` saves after every epoch, and what a resume must match.

    `settings` is the run's configuration (a checkpoint saved with other settings is refused);
    `generators` are the random generators whose state a resume restores (data order, augmentation).
    """

    path: Path
    profile: str
    settings: Mapping[str, Any] = field(default_factory=dict)
    generators: Mapping[str, torch.Generator] = field(default_factory=dict)

    @classmethod
    def named(cls, name: str, config: BookConfig, *, settings: Mapping[str, Any] | None = None,
              generators: Mapping[str, torch.Generator] | None = None) -> Checkpoint:
        """The checkpoint `<config.checkpoint_root>/<profile>/<name>.pt`."""
        if not NAME_RE.match(name):
            raise ValueError(f"checkpoint names use letters, digits, '.', '_' and '-', got {name!r}")
        return cls(config.checkpoint_path(name), config.profile, dict(settings or {}), dict(generators or {}))


def _rng_state(generators: Mapping[str, torch.Generator]) -> dict[str, Any]:
    state = {"torch": torch.get_rng_state(), "generators": {k: g.get_state() for k, g in generators.items()}}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: Mapping[str, Any], generators: Mapping[str, torch.Generator]) -> None:
    torch.set_rng_state(state["torch"].cpu())  # random states are CPU byte tensors, whatever the device
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])
    missing = set(generators) - set(state["generators"])
    if missing:
        raise CheckpointError(f"the checkpoint holds no state for the generators {sorted(missing)}")
    for name, generator in generators.items():
        generator.set_state(state["generators"][name].cpu())


def save_checkpoint(path: str | Path, *, model: nn.Module, profile: str, epoch: int,
                    history: Mapping[str, list[float]] | None = None, optimizer: torch.optim.Optimizer | None = None,
                    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
                    scaler: torch.amp.GradScaler | None = None, generators: Mapping[str, torch.Generator] | None = None,
                    config: Mapping[str, Any] | None = None) -> Path:
    """Write a checkpoint atomically: to a temporary file beside `path`, then `os.replace` onto it,
    so that an interrupted save never leaves a truncated checkpoint behind."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "format": FORMAT, "profile": validate_profile(profile), "epoch": epoch,
        "history": {k: list(v) for k, v in (history or {}).items()}, "config": dict(config or {}),
        "model": model.state_dict(), "rng": _rng_state(generators or {}),
        "optimizer": None if optimizer is None else optimizer.state_dict(),
        "scheduler": None if scheduler is None else scheduler.state_dict(),
        "scaler": None if scaler is None else scaler.state_dict(),
    }
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates the file readable by its owner only
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


@dataclass(frozen=True)
class Resumed:
    """What a checkpoint restored: the last finished epoch and the history up to it."""

    epoch: int
    history: dict[str, list[float]] = field(default_factory=dict)


def load_checkpoint(path: str | Path, *, model: nn.Module, profile: str, optimizer: torch.optim.Optimizer | None = None,
                    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
                    scaler: torch.amp.GradScaler | None = None, generators: Mapping[str, torch.Generator] | None = None,
                    config: Mapping[str, Any] | None = None, map_location: torch.device | str = "cpu") -> Resumed:
    """Restore model, optimizer, scheduler, scaler and random state from `path` (`weights_only=True`:
    tensors and plain containers only, never arbitrary pickled code). A checkpoint saved under another
    profile, or with another `config`, is refused with CheckpointError. Tensors are read to the CPU and
    copied into the model's and optimizer's own devices by their `load_state_dict`."""
    path = Path(path)
    state = torch.load(path, map_location=map_location, weights_only=True)
    if state.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a checkpoint of this book's format {FORMAT}; delete it and train again")
    if state["profile"] != validate_profile(profile):
        raise CheckpointError(f"{path} was saved under the '{state['profile']}' profile, not '{profile}': "
                              "its numbers would be another profile's; delete it or point "
                              f"{CHECKPOINT_VAR} elsewhere")
    if config is not None and state["config"] != dict(config):
        raise CheckpointError(f"{path} was saved with the configuration {state['config']}, not {dict(config)}: "
                              "delete it to train with the new configuration")
    model.load_state_dict(state["model"])
    for name, obj in (("optimizer", optimizer), ("scheduler", scheduler), ("scaler", scaler)):
        if obj is not None:
            if state[name] is None:
                raise CheckpointError(f"{path} holds no {name} state to resume from; delete it and train again")
            obj.load_state_dict(state[name])
    _set_rng_state(state["rng"], generators or {})
    return Resumed(state["epoch"], state["history"])
