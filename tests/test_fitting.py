"""helpers.fitting: the mixed-precision epoch equals plain SGD in fp32, and early stopping keeps the best."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from helpers.accel import Precision, choose_precision, grad_scaler
from helpers.data import TensorLoader
from helpers.fitting import EarlyStopping, amp_train_epoch, append_row, epoch_runner


@pytest.fixture
def problem():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(64, 4, generator=g)
    y = (X @ torch.randn(4, 3, generator=g)).argmax(1)  # (64,)
    torch.manual_seed(0)
    return X, y, nn.Linear(4, 3)


def clone(model):
    other = nn.Linear(4, 3)
    other.load_state_dict(model.state_dict())
    return other


def test_fp32_epoch_matches_a_hand_loop_with_transform_and_scheduler(problem):
    X, y, model = problem
    oracle = clone(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    row = amp_train_epoch(model, TensorLoader(X, y, batch_size=16), F.cross_entropy, opt,
                          precision=choose_precision("cpu"), transform=lambda Z: 2 * Z, scheduler=sched)
    opt2 = torch.optim.SGD(oracle.parameters(), lr=0.1)
    losses = []
    for k, i in enumerate(range(0, 64, 16)):
        for group in opt2.param_groups:
            group["lr"] = 0.1 * 0.5**k  # the scheduler steps after every batch
        loss = F.cross_entropy(oracle(2 * X[i:i + 16]), y[i:i + 16])
        opt2.zero_grad()
        loss.backward()
        opt2.step()
        losses.append(loss.item())
    for a, b in zip(model.parameters(), oracle.parameters(), strict=True):
        torch.testing.assert_close(a, b)
    assert row["loss"] == pytest.approx(sum(losses) / 4)
    assert set(row) == {"loss", "accuracy"} and 0 <= row["accuracy"] <= 1


def test_bf16_autocast_epoch_trains_close_to_fp32(problem):
    X, y, model = problem
    oracle = clone(model)
    loader = TensorLoader(X, y, batch_size=16)
    amp_train_epoch(model, loader, F.cross_entropy, torch.optim.SGD(model.parameters(), lr=0.1),
                    precision=Precision("cpu", torch.bfloat16))
    amp_train_epoch(oracle, loader, F.cross_entropy, torch.optim.SGD(oracle.parameters(), lr=0.1))
    for a, b in zip(model.parameters(), oracle.parameters(), strict=True):
        assert a.dtype == torch.float32  # master weights stay fp32
        torch.testing.assert_close(a, b, rtol=0.05, atol=0.02)


def test_fp16_needs_an_enabled_scaler(problem):
    X, y, model = problem
    with pytest.raises(ValueError, match="GradScaler"):
        amp_train_epoch(model, TensorLoader(X, y, batch_size=16), F.cross_entropy,
                        torch.optim.SGD(model.parameters(), lr=0.1), precision=Precision("cuda", torch.float16, True),
                        scaler=grad_scaler(Precision("cpu")))


def test_epoch_runner_returns_train_and_val_rows(problem):
    X, y, model = problem
    run = epoch_runner(model, TensorLoader(X, y, batch_size=16), F.cross_entropy,
                       torch.optim.SGD(model.parameters(), lr=0.5), val_loader=TensorLoader(X, y, batch_size=64))
    history = {}
    for epoch in range(1, 4):
        append_row(history, run(epoch))
    assert set(history) == {"train_loss", "train_accuracy", "val_loss", "val_accuracy"}
    assert len(history["val_loss"]) == 3 and history["val_loss"][-1] < history["train_loss"][0]
    test_run = epoch_runner(model, TensorLoader(X, y, batch_size=16), F.cross_entropy,
                            torch.optim.SGD(model.parameters(), lr=0.5), val_loader=TensorLoader(X, y, batch_size=64),
                            val_name="test")
    assert set(test_run(1)) == {"train_loss", "train_accuracy", "test_loss", "test_accuracy"}


def test_early_stopping_keeps_the_best_weights_and_stops_after_patience(problem):
    _, _, model = problem
    stopper = EarlyStopping(patience=2)
    scores = [0.5, 0.7, 0.6, 0.65, 0.9]
    stops = []
    for k, score in enumerate(scores):
        with torch.no_grad():
            model.bias.fill_(float(k))  # tag the weights with the epoch
        stops.append(stopper.update(score, model))
    assert stops == [False, False, False, True, False]
    stopper = EarlyStopping(patience=2)
    for k, score in enumerate(scores[:4]):
        with torch.no_grad():
            model.bias.fill_(float(k))
        stopper.update(score, model)
    stopper.restore(model)
    assert stopper.best_epoch == 2 and stopper.best_value == 0.7
    torch.testing.assert_close(model.bias, torch.full((3,), 1.0))
    low = EarlyStopping(patience=1, mode="min")
    assert not low.update(1.0, model) and low.update(1.5, model)
    with pytest.raises(RuntimeError, match="update"):
        EarlyStopping(patience=1).restore(model)
    with pytest.raises(ValueError, match="mode"):
        EarlyStopping(patience=1, mode="best")
