"""helpers.training: the loops match a direct computation, and training lowers the loss."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from helpers.accel import Precision, choose_precision, grad_scaler
from helpers.data import TensorLoader
from helpers.training import (
    EarlyStopping,
    accuracy,
    confusion_matrix,
    evaluate,
    fit,
    model_device,
    predict,
    train_epoch,
)


@pytest.fixture
def problem():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(96, 5, generator=g)
    y = (X @ torch.randn(5, 3, generator=g)).argmax(dim=1)  # (96,) linearly separable labels
    torch.manual_seed(0)
    return X, y, nn.Linear(5, 3)


def test_accuracy_multiclass_and_binary():
    logits = torch.tensor([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0]])
    assert accuracy(logits, torch.tensor([0, 1, 1])).item() == pytest.approx(2 / 3)
    assert accuracy(torch.tensor([1.5, -0.2, 0.3]), torch.tensor([1.0, 0.0, 0.0])).item() == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="logits"):
        accuracy(torch.zeros(3, 2, 2), torch.zeros(3))


def test_evaluate_matches_a_direct_computation(problem):
    X, y, model = problem
    result = evaluate(model, TensorLoader(X, y, batch_size=10), F.cross_entropy)
    with torch.no_grad():
        y_hat = model(X)
    assert result["loss"] == pytest.approx(F.cross_entropy(y_hat, y).item(), rel=1e-6)
    assert result["accuracy"] == pytest.approx((y_hat.argmax(1) == y).float().mean().item())
    assert not model.training


def test_train_epoch_takes_one_step_per_batch(problem):
    X, y, model = problem
    oracle = nn.Linear(5, 3)
    oracle.load_state_dict(model.state_dict())
    train_epoch(model, TensorLoader(X, y, batch_size=32), F.cross_entropy,
                torch.optim.SGD(model.parameters(), lr=0.1))
    opt = torch.optim.SGD(oracle.parameters(), lr=0.1)
    for i in range(0, 96, 32):
        opt.zero_grad()
        F.cross_entropy(oracle(X[i:i + 32]), y[i:i + 32]).backward()
        opt.step()
    assert model.training
    for a, b in zip(model.parameters(), oracle.parameters(), strict=True):
        torch.testing.assert_close(a, b)


def test_fit_lowers_the_loss_and_records_history(problem):
    X, y, model = problem
    loader = TensorLoader(X, y, batch_size=16, shuffle=True, generator=torch.Generator().manual_seed(0))
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    initial = evaluate(model, loader, F.cross_entropy)["loss"]
    history = fit(model, loader, F.cross_entropy, opt, 5, val_loader=TensorLoader(X, y, batch_size=50),
                  scheduler=torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5), scheduler_step="epoch")
    assert set(history) == {"train_loss", "train_accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 5 for v in history.values())
    assert history["val_loss"][-1] < 0.5 * initial and history["train_loss"][-1] < history["train_loss"][0]
    assert opt.param_groups[0]["lr"] == pytest.approx(0.5 * 0.5**5)  # stepped once per epoch


def test_fit_steps_a_per_step_scheduler_after_every_batch_and_names_the_split(problem):
    X, y, model = problem
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    history = fit(model, TensorLoader(X, y, batch_size=32), F.cross_entropy, opt, 2,
                  val_loader=TensorLoader(X, y, batch_size=96), val_name="test",
                  scheduler=sched, scheduler_step="step")
    assert opt.param_groups[0]["lr"] == pytest.approx(0.5 * 0.5**6)  # 3 batches x 2 epochs
    assert set(history) == {"train_loss", "train_accuracy", "test_loss", "test_accuracy"}
    # the recorded test numbers are those of the final model
    assert history["test_loss"][-1] == pytest.approx(evaluate(model, TensorLoader(X, y, batch_size=96),
                                                              F.cross_entropy)["loss"])


def test_fit_equals_epochs_of_train_epoch(problem):
    X, y, model = problem
    twin = nn.Linear(5, 3)
    twin.load_state_dict(model.state_dict())
    loader = TensorLoader(X, y, batch_size=16)
    fit(model, loader, F.cross_entropy, torch.optim.SGD(model.parameters(), lr=0.3, momentum=0.9), 3)
    opt = torch.optim.SGD(twin.parameters(), lr=0.3, momentum=0.9)
    for _ in range(3):
        train_epoch(twin, loader, F.cross_entropy, opt)
    for a, b in zip(model.parameters(), twin.parameters(), strict=True):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"scheduler_step": "epoch"}, "scheduler"),
    ({"scheduler": "S"}, "scheduler_step"),
    ({"scheduler": "S", "scheduler_step": "batch"}, "'step' or 'epoch'"),
    ({"early_stopping": EarlyStopping(1)}, "val_loader"),
    ({"early_stopping": EarlyStopping(1), "checkpoint": "C", "val_loader": []}, "do not combine"),
])
def test_fit_refuses_inconsistent_arguments(problem, kwargs, match):
    X, y, model = problem
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    kwargs = {k: (torch.optim.lr_scheduler.StepLR(opt, 1) if v == "S" else v) for k, v in kwargs.items()}
    with pytest.raises(ValueError, match=match):
        fit(model, TensorLoader(X, y, batch_size=16), F.cross_entropy, opt, 1, **kwargs)
    with pytest.raises(ValueError, match="num_epochs"):
        fit(model, TensorLoader(X, y, batch_size=16), F.cross_entropy, opt, 0)


def test_fit_with_early_stopping_stops_and_restores_the_best_weights(problem):
    X, y, model = problem
    scores = iter([0.5, 0.7, 0.6, 0.65, 0.9])

    def fake_accuracy(y_hat, y):  # a scripted validation score, one per epoch (one batch each)
        return torch.tensor(next(scores) if not torch.is_grad_enabled() else 0.0, dtype=torch.float64)

    seen = []

    class Recorder(EarlyStopping):
        def update(self, value, model):
            seen.append(model.weight.detach().clone())
            return super().update(value, model)

    stopper = Recorder(patience=2)
    history = fit(model, TensorLoader(X, y, batch_size=96), F.cross_entropy,
                  torch.optim.SGD(model.parameters(), lr=0.5), 10, val_loader=TensorLoader(X, y, batch_size=96),
                  early_stopping=stopper, metrics={"accuracy": fake_accuracy})
    assert history["val_accuracy"] == pytest.approx([0.5, 0.7, 0.6, 0.65])  # stopped 2 epochs after the best
    assert stopper.best_epoch == 2
    torch.testing.assert_close(model.weight, seen[1])  # the weights of epoch 2, not of the last epoch
    assert not torch.equal(seen[1], seen[-1])


def test_early_stopping_by_hand(linear_problem):
    _, _, model = linear_problem
    stopper = EarlyStopping(patience=2)
    stops = []
    for k, score in enumerate([0.5, 0.7, 0.6, 0.65, 0.9]):
        with torch.no_grad():
            model.bias.fill_(float(k))  # tag the weights with the epoch
        stops.append(stopper.update(score, model))
    assert stops == [False, False, False, True, False]
    low = EarlyStopping(patience=1, mode="min")
    assert not low.update(1.0, model) and low.update(1.5, model)
    with pytest.raises(RuntimeError, match="update"):
        EarlyStopping(patience=1).restore(model)
    with pytest.raises(ValueError, match="mode"):
        EarlyStopping(patience=1, mode="best")


def test_empty_loader_is_an_error(problem):
    _, _, model = problem
    with pytest.raises(ValueError, match="no batches"):
        evaluate(model, TensorLoader(torch.zeros(3, 5), torch.zeros(3), batch_size=4, drop_last=True),
                 F.cross_entropy)


def test_predict_and_confusion_matrix(problem):
    X, y, model = problem
    y_hat, labels = predict(model, TensorLoader(X, y, batch_size=7))
    torch.testing.assert_close(y_hat, model(X).detach())
    cm = confusion_matrix(labels, y_hat.argmax(1), 3)
    oracle = torch.zeros(3, 3, dtype=torch.long)
    for t, p in zip(labels.tolist(), y_hat.argmax(1).tolist(), strict=True):
        oracle[t, p] += 1
    torch.testing.assert_close(cm, oracle)
    with pytest.raises(ValueError, match="lie in"):
        confusion_matrix(torch.tensor([0, 3]), torch.tensor([0, 1]), 3)


def test_model_device():
    assert model_device(nn.Linear(2, 2)) == torch.device("cpu") == model_device(nn.ReLU())


# ---- mixed precision, augmentation and per-step schedules (used from Week 4 on)

def clone(model):
    other = nn.Linear(4, 3)
    other.load_state_dict(model.state_dict())
    return other


def test_fp32_epoch_matches_a_hand_loop_with_transform_and_scheduler(linear_problem):
    X, y, model = linear_problem
    oracle = clone(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    row = train_epoch(model, TensorLoader(X, y, batch_size=16), F.cross_entropy, opt,
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


def test_bf16_autocast_epoch_trains_close_to_fp32(linear_problem):
    X, y, model = linear_problem
    oracle = clone(model)
    loader = TensorLoader(X, y, batch_size=16)
    train_epoch(model, loader, F.cross_entropy, torch.optim.SGD(model.parameters(), lr=0.1),
                    precision=Precision("cpu", torch.bfloat16))
    train_epoch(oracle, loader, F.cross_entropy, torch.optim.SGD(oracle.parameters(), lr=0.1))
    for a, b in zip(model.parameters(), oracle.parameters(), strict=True):
        assert a.dtype == torch.float32  # master weights stay fp32
        torch.testing.assert_close(a, b, rtol=0.05, atol=0.02)


def test_fp16_needs_an_enabled_scaler(linear_problem):
    X, y, model = linear_problem
    with pytest.raises(ValueError, match="GradScaler"):
        train_epoch(model, TensorLoader(X, y, batch_size=16), F.cross_entropy,
                        torch.optim.SGD(model.parameters(), lr=0.1), precision=Precision("cuda", torch.float16, True),
                        scaler=grad_scaler(Precision("cpu")))
