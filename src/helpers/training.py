"""The training loop of the supervised models: one epoch, evaluation, and `fit` over epochs; introduced in
"Multi-layer perceptrons and softmax regression".

The whole API, in one sitting:

- `train_epoch(model, train_loader, loss_fn, optimizer)` trains one pass and returns its mean loss and
  metrics; `evaluate(model, loader, loss_fn)` measures them in eval mode without gradients.
- `fit(model, train_loader, loss_fn, optimizer, num_epochs)` loops over epochs and returns the history
  {"train_loss": [...], "val_accuracy": [...], ...}; optionally it evaluates a validation set after each
  epoch, steps a scheduler (`scheduler_step="step"` after every optimizer step, or `"epoch"`), stops
  early (`EarlyStopping`) and saves a checkpoint after each epoch, resuming from it (`Checkpoint`).
- `precision=` (a frozen `helpers.accel.Precision`: autocast dtype, gradient scaling, memory format)
  and `transform=` (augmentation on the device) change how each batch is computed, not the loop.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping

import torch
from torch import nn

from helpers.accel import Precision, autocast, grad_scaler, to_memory_format
from helpers.checkpoint import Checkpoint, CheckpointError, load_checkpoint, save_checkpoint

Metric = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
Batches = Iterable[tuple[torch.Tensor, torch.Tensor]]
Transform = Callable[[torch.Tensor], torch.Tensor]
History = dict[str, list[float]]
SCHEDULER_STEPS = ("step", "epoch")


def accuracy(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Fraction of correct predictions from logits.

    Logits `y_hat` (B, K) are compared by argmax with labels `y` (B,). Binary logits of the same shape
    as `y` (one logit per sample, labels 0/1) are compared by their sign.
    """
    if y_hat.shape == y.shape:
        return ((y_hat > 0).to(y.dtype) == y).float().mean()
    if y_hat.ndim != 2 or y_hat.shape[0] != y.shape[0]:
        raise ValueError(f"accuracy wants logits (B, K) with labels (B,), or matching shapes; "
                         f"got {tuple(y_hat.shape)} and {tuple(y.shape)}")
    return (y_hat.argmax(dim=1) == y).float().mean()


def model_device(model: nn.Module) -> torch.device:
    """The device of the model's first parameter (the CPU for a model without parameters)."""
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


def _run(model: nn.Module, loader: Batches, loss_fn: Callable, metrics: Mapping[str, Metric] | None,
         step: Callable[[torch.Tensor], None] | None, precision: Precision | None,
         transform: Transform | None) -> dict[str, float]:
    """The one pass over batches that training and evaluation share; `step(loss)` updates the model."""
    device = model_device(model)
    precision = Precision(device.type) if precision is None else precision  # fp32 unless asked
    metrics = {"accuracy": accuracy} if metrics is None else metrics
    totals, count = {"loss": 0.0, **dict.fromkeys(metrics, 0.0)}, 0
    for X, y in loader:
        X, y = X.to(device, non_blocking=True), y.to(device, non_blocking=True)
        if transform is not None:
            X = transform(X)  # augmentation, on the device
        X = to_memory_format(X, precision)
        with autocast(precision):
            y_hat = model(X)
            loss = loss_fn(y_hat, y)
        if step is not None:
            step(loss)
        n = len(y)
        count += n
        totals["loss"] += loss.item() * n
        for name, metric in metrics.items():
            totals[name] += float(metric(y_hat.detach().float(), y)) * n
    if count == 0:
        raise ValueError("the loader yielded no batches: check its length (drop_last with too few samples?)")
    return {name: total / count for name, total in totals.items()}


def train_epoch(model: nn.Module, train_loader: Batches, loss_fn: Callable, optimizer: torch.optim.Optimizer,
                *, precision: Precision | None = None, scaler: torch.amp.GradScaler | None = None,
                transform: Transform | None = None, scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
                metrics: Mapping[str, Metric] | None = None) -> dict[str, float]:
    """One pass of mini-batch training; returns the sample-weighted mean loss and metrics seen on the way.

    `precision` (fp32 by default) sets autocast and memory format; with fp16 the backward pass goes
    through `scaler` (made from `precision` if not given; `fit` keeps one across epochs). `transform`
    is applied to each batch on the device. `scheduler`, if given, steps after every optimizer step:
    inside an epoch there is nothing else it could mean.
    """
    precision = Precision(model_device(model).type) if precision is None else precision
    scaler = grad_scaler(precision) if scaler is None else scaler  # a pass-through unless fp16
    if precision.use_scaler and not scaler.is_enabled():
        raise ValueError(f"{precision.name} needs an enabled GradScaler: pass scaler=grad_scaler(precision)")

    def step(loss: torch.Tensor) -> None:
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)  # unscales the gradients first, and skips the step if they overflowed
        scaler.update()
        if scheduler is not None:
            scheduler.step()

    model.train()
    return _run(model, train_loader, loss_fn, metrics, step, precision, transform)


@torch.no_grad()
def evaluate(model: nn.Module, loader: Batches, loss_fn: Callable, *, precision: Precision | None = None,
             metrics: Mapping[str, Metric] | None = None) -> dict[str, float]:
    """Mean loss and metrics over `loader` in eval mode, without gradients."""
    model.eval()
    return _run(model, loader, loss_fn, metrics, None, precision, None)


class EarlyStopping:
    """Keep the best weights seen on a monitored history entry; stop after `patience` epochs without gain.

    `fit(..., early_stopping=EarlyStopping(patience=3))` watches "val_accuracy" (mode "max"; use
    mode="min" for a loss) and restores the best weights when it stops or finishes. By hand:
    `update(value, model)` after each epoch returns True when training should stop, and
    `restore(model)` loads the best weights back.
    """

    def __init__(self, patience: int, *, monitor: str = "val_accuracy", mode: str = "max",
                 min_delta: float = 0.0) -> None:
        if mode not in ("max", "min"):
            raise ValueError(f"mode must be 'max' or 'min', got {mode!r}")
        if patience < 1:
            raise ValueError(f"patience must be at least 1, got {patience}")
        self.patience, self.monitor, self.mode, self.min_delta = patience, monitor, mode, min_delta
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


def _check_fit_arguments(num_epochs: int, scheduler, scheduler_step: str | None,
                         early_stopping: EarlyStopping | None, checkpoint: Checkpoint | None,
                         val_loader, val_name: str) -> None:
    if num_epochs < 1:
        raise ValueError(f"num_epochs must be at least 1, got {num_epochs}")
    if (scheduler is None) != (scheduler_step is None):
        raise ValueError("pass a scheduler together with scheduler_step='step' (after every optimizer "
                         "step) or 'epoch' (after every epoch), or neither")
    if scheduler_step is not None and scheduler_step not in SCHEDULER_STEPS:
        raise ValueError(f"scheduler_step must be 'step' or 'epoch', got {scheduler_step!r}")
    if early_stopping is not None and checkpoint is not None:
        raise ValueError("early stopping and checkpoints do not combine (a resume would forget the best "
                         "weights): use one of them")
    if early_stopping is not None and early_stopping.monitor.startswith(f"{val_name}_") and val_loader is None:
        raise ValueError(f"early stopping monitors {early_stopping.monitor!r}: pass a val_loader")


def fit(model: nn.Module, train_loader: Batches, loss_fn: Callable, optimizer: torch.optim.Optimizer,
        num_epochs: int, *, val_loader: Batches | None = None, val_name: str = "val",
        precision: Precision | None = None, transform: Transform | None = None,
        scheduler: torch.optim.lr_scheduler.LRScheduler | None = None, scheduler_step: str | None = None,
        early_stopping: EarlyStopping | None = None, checkpoint: Checkpoint | None = None,
        metrics: Mapping[str, Metric] | None = None) -> History:
    """Train for `num_epochs`; return the history {"train_loss": [...], "val_accuracy": [...], ...}.

    Training numbers are running means over each epoch (the model changes during it); `val_loader`
    is evaluated after each epoch and recorded under `val_name` ("test" for a set never used to
    choose anything). `scheduler` steps after every optimizer step or after every epoch, as
    `scheduler_step` says. With `early_stopping`, training stops when it says so and the best weights
    are restored. With `checkpoint`, a checkpoint is saved after every epoch; if one exists, training
    resumes after its last epoch (model, optimizer, scheduler, scaler and random state), so a finished
    run is only loaded.
    """
    _check_fit_arguments(num_epochs, scheduler, scheduler_step, early_stopping, checkpoint, val_loader, val_name)
    precision = Precision(model_device(model).type) if precision is None else precision
    scaler = grad_scaler(precision)  # one for the whole run: its scale adapts across epochs
    state = dict(model=model, optimizer=optimizer, scheduler=scheduler, scaler=scaler)
    history: History = {}
    start = 0
    if checkpoint is not None and checkpoint.path.exists():
        resumed = load_checkpoint(checkpoint.path, profile=checkpoint.profile, config=checkpoint.settings,
                                  generators=checkpoint.generators, **state)
        start, history = resumed.epoch, resumed.history
        if start > num_epochs:
            raise CheckpointError(f"{checkpoint.path} has {start} epochs, more than the {num_epochs} "
                                  "asked for; delete it")
    per_step = scheduler if scheduler_step == "step" else None
    for epoch in range(start + 1, num_epochs + 1):
        rows = {"train": train_epoch(model, train_loader, loss_fn, optimizer, precision=precision, scaler=scaler,
                                     transform=transform, scheduler=per_step, metrics=metrics)}
        if val_loader is not None:
            rows[val_name] = evaluate(model, val_loader, loss_fn, precision=precision, metrics=metrics)
        if scheduler_step == "epoch":
            scheduler.step()
        for split, row in rows.items():
            for name, value in row.items():
                history.setdefault(f"{split}_{name}", []).append(value)
        if checkpoint is not None:
            save_checkpoint(checkpoint.path, profile=checkpoint.profile, epoch=epoch, history=history,
                            config=checkpoint.settings, generators=checkpoint.generators, **state)
        if early_stopping is not None and early_stopping.update(history[early_stopping.monitor][-1], model):
            break
    if early_stopping is not None:
        early_stopping.restore(model)
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
