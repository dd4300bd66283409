"""Mixed-precision epochs with augmentation, and early stopping; introduced in "Convolutional layers and LeNet"."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping

import torch
from torch import nn

from helpers.accel import Precision, autocast, grad_scaler, to_memory_format
from helpers.training import Metric, accuracy, evaluate, model_device

Batches = Iterable[tuple[torch.Tensor, torch.Tensor]]


def amp_train_epoch(model: nn.Module, loader: Batches, loss_fn: Callable, optimizer: torch.optim.Optimizer, *,
                    precision: Precision | None = None, scaler: torch.amp.GradScaler | None = None,
                    transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
                    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
                    metrics: Mapping[str, Metric] | None = None) -> dict[str, float]:
    """One pass of mini-batch training, like `helpers.training.train_epoch`, plus:

    the forward pass under `precision`'s autocast, the backward pass through `scaler` (fp16),
    `transform` applied to each input batch on the device (augmentation), and `scheduler.step()`
    after every optimizer step. Returns the sample-weighted mean loss and metrics over the epoch.
    """
    device = model_device(model)
    precision = Precision(device.type) if precision is None else precision
    scaler = grad_scaler(precision) if scaler is None else scaler
    if precision.use_scaler and not scaler.is_enabled():
        raise ValueError(f"{precision.name} needs an enabled GradScaler: pass scaler=grad_scaler(precision)")
    metrics = {"accuracy": accuracy} if metrics is None else metrics
    model.train()
    totals, count = {"loss": 0.0, **dict.fromkeys(metrics, 0.0)}, 0
    for X, y in loader:
        X, y = X.to(device, non_blocking=True), y.to(device, non_blocking=True)
        if transform is not None:
            X = transform(X)
        X = to_memory_format(X, precision)
        with autocast(precision):
            y_hat = model(X)
            loss = loss_fn(y_hat, y)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)  # unscales the gradients first, and skips the step if they overflowed
        scaler.update()
        if scheduler is not None:
            scheduler.step()
        n = len(y)
        count += n
        totals["loss"] += loss.item() * n
        for name, metric in metrics.items():
            totals[name] += float(metric(y_hat.detach().float(), y)) * n
    if count == 0:
        raise ValueError("the loader yielded no batches: check its length (drop_last with too few samples?)")
    return {name: total / count for name, total in totals.items()}


def epoch_runner(model: nn.Module, train_loader: Batches, loss_fn: Callable, optimizer: torch.optim.Optimizer, *,
                 val_loader: Batches | None = None, val_name: str = "val",
                 **options) -> Callable[[int], dict[str, float]]:
    """A function `run_epoch(epoch)` that trains one epoch (`amp_train_epoch` with `options`) and, with a
    `val_loader`, evaluates; it returns a row {"train_loss": ..., "val_accuracy": ...}. With
    `val_name="test"` the evaluation is recorded as "test_loss", "test_accuracy" (a set never used to choose)."""
    def run_epoch(epoch: int) -> dict[str, float]:
        row = {f"train_{k}": v for k, v in amp_train_epoch(model, train_loader, loss_fn, optimizer,
                                                           **options).items()}
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
