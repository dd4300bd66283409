"""helpers.checkpoint: atomic saves, exact resume, profile keying, and load-if-present."""

import os

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from helpers import checkpoint
from helpers.checkpoint import (
    CheckpointError,
    checkpoint_dir,
    checkpoint_path,
    load_checkpoint,
    save_checkpoint,
    train_or_load,
)
from helpers.data import TensorLoader
from helpers.fitting import epoch_runner


def make_run(seed=0):
    """Fixed data; a model, its optimizer and scheduler, a shuffling loader and an epoch function, seeded."""
    g = torch.Generator().manual_seed(0)
    X = torch.randn(48, 5, generator=g)
    y = (X @ torch.randn(5, 3, generator=g)).argmax(1)  # (48,)
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Dropout(0.3), nn.Linear(8, 3))  # dropout uses torch's RNG
    opt = torch.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    shuffle = torch.Generator().manual_seed(seed + 1)
    run = epoch_runner(model, TensorLoader(X, y, batch_size=10, shuffle=True, generator=shuffle), F.cross_entropy,
                       opt, scheduler=sched)
    return model, opt, sched, shuffle, run


def test_paths_are_keyed_by_profile_under_the_configured_dir(tmp_path):
    assert checkpoint_dir({"BOOK_CHECKPOINT_DIR": str(tmp_path)}) == tmp_path
    assert checkpoint_dir({}).name == "checkpoints"
    assert checkpoint_path("vgg", profile="full", root=tmp_path) == tmp_path / "full" / "vgg.pt"
    quick = checkpoint_path("vgg", profile="quick", root=tmp_path)
    assert quick == tmp_path / "quick" / "vgg.pt" != checkpoint_path("vgg", profile="full", root=tmp_path)
    with pytest.raises(ValueError, match="names"):
        checkpoint_path("../escape", profile="full", root=tmp_path)


def test_save_is_atomic_and_loads_with_weights_only(tmp_path, monkeypatch):
    model, opt, sched, shuffle, run = make_run()
    path = tmp_path / "full" / "m.pt"
    save_checkpoint(path, model=model, profile="full", epoch=1, optimizer=opt)
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise KeyboardInterrupt  # interrupted half-way through writing

    monkeypatch.setattr(checkpoint.torch, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, model=model, profile="full", epoch=2)
    assert path.read_bytes() == before and os.listdir(path.parent) == ["m.pt"]  # old file intact, no temp left
    state = torch.load(path, weights_only=True)
    assert state["epoch"] == 1 and state["profile"] == "full"


def test_resume_continues_exactly_like_an_uninterrupted_run(tmp_path):
    model, opt, sched, shuffle, run = make_run()
    straight = train_or_load("run", model=model, optimizer=opt, num_epochs=5, run_epoch=run, profile="full",
                             scheduler=sched, generators={"shuffle": shuffle}, enabled=False)
    reference = [p.detach().clone() for p in model.parameters()]

    model, opt, sched, shuffle, run = make_run()
    common = dict(profile="full", scheduler=sched, generators={"shuffle": shuffle}, root=tmp_path)
    train_or_load("run", model=model, optimizer=opt, num_epochs=2, run_epoch=run, **common)
    torch.manual_seed(123)  # the "crash": a fresh process with other random state
    model, opt, sched, shuffle, run = make_run(seed=7)
    common |= dict(scheduler=sched, generators={"shuffle": shuffle})
    resumed = train_or_load("run", model=model, optimizer=opt, num_epochs=5, run_epoch=run, **common)
    for a, b in zip(model.parameters(), reference, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert resumed == straight


def test_a_finished_run_is_loaded_not_retrained(tmp_path):
    model, opt, sched, shuffle, run = make_run()
    first = train_or_load("done", model=model, optimizer=opt, num_epochs=2, run_epoch=run, profile="quick",
                          root=tmp_path)
    weights = [p.detach().clone() for p in model.parameters()]
    model, opt, _, _, _ = make_run(seed=3)

    def never(epoch):
        raise AssertionError("a finished run must not train again")

    again = train_or_load("done", model=model, optimizer=opt, num_epochs=2, run_epoch=never, profile="quick",
                          root=tmp_path)
    assert again == first
    for a, b in zip(model.parameters(), weights, strict=True):
        torch.testing.assert_close(a, b)


def test_another_profile_or_config_is_refused(tmp_path):
    model, opt, *_ = make_run()
    path = save_checkpoint(tmp_path / "m.pt", model=model, profile="quick", epoch=1, optimizer=opt,
                           config={"lr": 0.2})
    with pytest.raises(CheckpointError, match="'quick' profile, not 'full'"):
        load_checkpoint(path, model=model, profile="full")
    with pytest.raises(CheckpointError, match="configuration"):
        load_checkpoint(path, model=model, profile="quick", config={"lr": 0.1})
    with pytest.raises(CheckpointError, match="scheduler"):
        load_checkpoint(path, model=model, profile="quick",
                        scheduler=torch.optim.lr_scheduler.StepLR(opt, step_size=1))
    assert load_checkpoint(path, model=model, profile="quick", config={"lr": 0.2}).epoch == 1
