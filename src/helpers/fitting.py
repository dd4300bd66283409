"""Epoch runners (mixed precision, augmentation) and early stopping; introduced in "Convolutional layers and LeNet"."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping

import torch
from torch import nn

from helpers.training import evaluate, train_epoch

Batches = Iterable[tuple[torch.Tensor, torch.Tensor]]


def epoch_runner(model: nn.Module, train_loader: Batches, loss_fn: Callable, optimizer: torch.optim.Optimizer, *,
                 val_loader: Batches | None = None, val_name: str = "val",
                 **options) -> Callable[[int], dict[str, float]]:
    """A function `run_epoch(epoch)` that trains one epoch (`train_epoch` with `options`: precision, scaler,
    transform, scheduler, metrics) and, with a
    `val_loader`, evaluates; it returns a row {"train_loss": ..., "val_accuracy": ...}. With
    `val_name="test"` the evaluation is recorded as "test_loss", "test_accuracy" (a set never used to choose)."""
    def run_epoch(epoch: int) -> dict[str, float]:
        options.setdefault("progress", False)
        row = {f"train_{k}": v for k, v in train_epoch(model, train_loader, loss_fn, optimizer, **options).items()}
        if val_loader is not None:
            row |= {f"{val_name}_{k}": v for k, v in evaluate(model, val_loader, loss_fn, progress=False).items()}
        return row
    return run_epoch


def append_row(history: dict[str, list[float]], row: Mapping[str, float]) -> dict[str, list[float]]:
    """Append one epoch's row to a history {"train_loss": [...], ...} in the format of `helpers.training.fit`."""
    for name, value in row.items():
        history.setdefault(name, []).append(value)
    return history


class EarlyStopping:
    """Keep the best weights seen on a validation metric; say when `patience` epochs brought no improvement.

    `update(value, model)` after each epoch returns True when training should stop; `restore(model)`
    loads the best weights back. With mode="max" larger values are better (accuracy), with "min" smaller.
    """

    def __init__(self, patience: int, *, mode: str = "max", min_delta: float = 0.0) -> None:
        if mode not in ("max", "min"):
            raise ValueError(f"mode must be 'max' or 'min', got {mode!r}")
        if patience < 1:
            raise ValueError(f"patience must be at least 1, got {patience}")
        self.patience, self.mode, self.min_delta = patience, mode, min_delta
        self.best_value: float | None = None
        self.best_epoch = 0
        self.epoch = 0
        self.best_state: dict[str, torch.Tensor] | None = None

    def _improves(self, value: float) -> bool:
        if self.best_value is None:
            return True
        if self.mode == "max":
            return value > self.best_value + self.min_delta
        return value < self.best_value - self.min_delta

    def update(self, value: float, model: nn.Module) -> bool:
        self.epoch += 1
        if self._improves(value):
            self.best_value, self.best_epoch = value, self.epoch
            self.best_state = copy.deepcopy(model.state_dict())
        return self.epoch - self.best_epoch >= self.patience

    def restore(self, model: nn.Module) -> nn.Module:
        if self.best_state is None:
            raise RuntimeError("no epoch was recorded: call update(value, model) after each epoch first")
        model.load_state_dict(self.best_state)
        return model
