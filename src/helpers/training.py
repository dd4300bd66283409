"""Training and evaluation loops, per-epoch history; introduced in "Multi-layer perceptrons and softmax regression"."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Mapping

import torch
from torch import nn

from helpers.accel import Precision, autocast, grad_scaler, to_memory_format

Metric = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
Batches = Iterable[tuple[torch.Tensor, torch.Tensor]]


def accuracy(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Fraction of correct predictions from logits.

    Ten-class logits `y_hat` (B, K) are compared by argmax with labels `y` (B,). Binary logits of
    the same shape as `y` (one logit per sample, labels 0/1) are compared by their sign.
    """
    if y_hat.shape == y.shape:
        return ((y_hat > 0).to(y.dtype) == y).float().mean()
    if y_hat.ndim != 2 or y_hat.shape[0] != y.shape[0]:
        raise ValueError(f"accuracy wants logits (B, K) with labels (B,), or matching shapes; "
                         f"got {tuple(y_hat.shape)} and {tuple(y.shape)}")
    return (y_hat.argmax(dim=1) == y).float().mean()


def default_progress(environ: Mapping[str, str] | None = None) -> bool:
    """Show progress bars only in an interactive terminal, never under CI or a notebook build."""
    environ = os.environ if environ is None else environ
    return sys.stderr.isatty() and not environ.get("CI")


def model_device(model: nn.Module) -> torch.device:
    """The device of the model's first parameter (the CPU for a model without parameters)."""
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


def _batches(loader: Batches, progress: bool | None, desc: str) -> Iterable:
    from tqdm import tqdm  # the plain bar: tqdm.auto warns in notebooks without ipywidgets

    enabled = default_progress() if progress is None else progress
    return tqdm(loader, desc=desc, leave=False, disable=not enabled)


def _run(model: nn.Module, loader: Batches, loss_fn: Callable, metrics: Mapping[str, Metric],
         optimizer: torch.optim.Optimizer | None, progress: bool | None, desc: str, *,
         precision: Precision | None = None, scaler: torch.amp.GradScaler | None = None,
         transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
         scheduler: torch.optim.lr_scheduler.LRScheduler | None = None) -> dict[str, float]:
    device = model_device(model)
    precision = Precision(device.type) if precision is None else precision  # fp32 unless asked
    scaler = grad_scaler(precision) if scaler is None else scaler  # a pass-through unless fp16
    if precision.use_scaler and not scaler.is_enabled():
        raise ValueError(f"{precision.name} needs an enabled GradScaler: pass scaler=grad_scaler(precision)")
    totals = {"loss": 0.0, **dict.fromkeys(metrics, 0.0)}
    count = 0
    for X, y in _batches(loader, progress, desc):
        X, y = X.to(device, non_blocking=True), y.to(device, non_blocking=True)
        if transform is not None:
            X = transform(X)  # augmentation, on the device
        X = to_memory_format(X, precision)
        with autocast(precision):
            y_hat = model(X)
            loss = loss_fn(y_hat, y)
        if optimizer is not None:
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


def train_epoch(model: nn.Module, loader: Batches, loss_fn: Callable, optimizer: torch.optim.Optimizer, *,
                metrics: Mapping[str, Metric] | None = None, progress: bool | None = None,
                desc: str = "train", precision: Precision | None = None,
                scaler: torch.amp.GradScaler | None = None,
                transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
                scheduler: torch.optim.lr_scheduler.LRScheduler | None = None) -> dict[str, float]:
    """One pass of mini-batch training; returns the sample-weighted mean loss and metrics seen on the way.

    Optional, for the later weeks: the forward pass under `precision`'s autocast (fp32 by default)
    with the backward pass through `scaler` (fp16), `transform` applied to each batch on the device
    (augmentation), and `scheduler.step()` after every optimizer step.
    """
    model.train()
    metrics = {"accuracy": accuracy} if metrics is None else metrics
    return _run(model, loader, loss_fn, metrics, optimizer, progress, desc, precision=precision, scaler=scaler,
                transform=transform, scheduler=scheduler)


@torch.no_grad()
def evaluate(model: nn.Module, loader: Batches, loss_fn: Callable, *,
             metrics: Mapping[str, Metric] | None = None, progress: bool | None = None,
             desc: str = "eval") -> dict[str, float]:
    """Mean loss and metrics over `loader` in eval mode, without gradients."""
    model.eval()
    metrics = {"accuracy": accuracy} if metrics is None else metrics
    return _run(model, loader, loss_fn, metrics, None, progress, desc)


def fit(model: nn.Module, train_loader: Batches, loss_fn: Callable, optimizer: torch.optim.Optimizer,
        num_epochs: int, *, val_loader: Batches | None = None, metrics: Mapping[str, Metric] | None = None,
        scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
        progress: bool | None = None) -> dict[str, list[float]]:
    """Train for `num_epochs`; return the history {"train_loss": [...], "val_accuracy": [...], ...}.

    Training numbers are running means over each epoch (the model changes during it); validation
    numbers are measured after the epoch. `scheduler.step()` is called once per epoch.
    """
    if num_epochs < 1:
        raise ValueError(f"num_epochs must be at least 1, got {num_epochs}")
    history: dict[str, list[float]] = {}
    for epoch in range(1, num_epochs + 1):
        rows = {"train": train_epoch(model, train_loader, loss_fn, optimizer, metrics=metrics,
                                     progress=progress, desc=f"epoch {epoch}/{num_epochs}")}
        if val_loader is not None:
            rows["val"] = evaluate(model, val_loader, loss_fn, metrics=metrics, progress=progress)
        if scheduler is not None:
            scheduler.step()
        for split, row in rows.items():
            for name, value in row.items():
                history.setdefault(f"{split}_{name}", []).append(value)
    return history


@torch.no_grad()
def predict(model: nn.Module, loader: Batches) -> tuple[torch.Tensor, torch.Tensor]:
    """All outputs and labels of `loader` in eval mode, concatenated on the CPU: (y_hat, y)."""
    model.eval()
    device = model_device(model)
    outputs, labels = [], []
    for X, y in loader:
        outputs.append(model(X.to(device)).cpu())
        labels.append(y.cpu())
    return torch.cat(outputs), torch.cat(labels)


def confusion_matrix(y: torch.Tensor, y_pred: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Counts C[i, j] of samples with true class i predicted as class j, shape (K, K)."""
    y, y_pred = y.long().flatten(), y_pred.long().flatten()
    if y.shape != y_pred.shape:
        raise ValueError(f"y and y_pred must have the same length, got {len(y)} and {len(y_pred)}")
    if len(y) and (min(y.min(), y_pred.min()) < 0 or max(y.max(), y_pred.max()) >= num_classes):
        raise ValueError(f"labels must lie in 0..{num_classes - 1}")
    flat = y * num_classes + y_pred  # one bin per (true, predicted) pair
    return torch.bincount(flat, minlength=num_classes**2).reshape(num_classes, num_classes)  # (K, K)
