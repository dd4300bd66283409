"""helpers.fitting: epoch runners record train and validation rows, and early stopping keeps the best."""

import pytest
import torch
import torch.nn.functional as F

from helpers.data import TensorLoader
from helpers.fitting import EarlyStopping, append_row, epoch_runner


def test_epoch_runner_returns_train_and_val_rows(linear_problem):
    X, y, model = linear_problem
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


def test_early_stopping_keeps_the_best_weights_and_stops_after_patience(linear_problem):
    _, _, model = linear_problem
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
