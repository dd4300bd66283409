"""helpers.checkpoint: atomic saves, exact resume, profile keying, and load-if-present."""

import os

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from helpers import checkpoint
from helpers.checkpoint import Checkpoint, CheckpointError, load_checkpoint, save_checkpoint
from helpers.config import BookConfig
from helpers.data import TensorLoader
from helpers.training import fit


def make_run(seed=0):
    """Fixed data; a model, its optimizer and scheduler, and a shuffling loader, seeded."""
    g = torch.Generator().manual_seed(0)
    X = torch.randn(48, 5, generator=g)
    y = (X @ torch.randn(5, 3, generator=g)).argmax(1)  # (48,)
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Dropout(0.3), nn.Linear(8, 3))  # dropout uses torch's RNG
    opt = torch.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    shuffle = torch.Generator().manual_seed(seed + 1)
    loader = TensorLoader(X, y, batch_size=10, shuffle=True, generator=shuffle)
    return model, opt, sched, shuffle, loader


def train(model, opt, sched, loader, num_epochs, checkpoint=None):
    return fit(model, loader, F.cross_entropy, opt, num_epochs, scheduler=sched, scheduler_step="epoch",
               checkpoint=checkpoint)


def test_paths_are_keyed_by_profile_under_the_configured_dir(tmp_path):
    full = Checkpoint.named("vgg", BookConfig(profile="full", checkpoint_root=tmp_path))
    quick = Checkpoint.named("vgg", BookConfig(profile="quick", checkpoint_root=tmp_path))
    assert full.path == tmp_path / "full" / "vgg.pt" and full.profile == "full"
    assert quick.path == tmp_path / "quick" / "vgg.pt"
    with pytest.raises(ValueError, match="names"):
        Checkpoint.named("../escape", BookConfig(profile="full", checkpoint_root=tmp_path))


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
    model, opt, sched, shuffle, loader = make_run()
    straight = train(model, opt, sched, loader, 5)
    reference = [p.detach().clone() for p in model.parameters()]

    model, opt, sched, shuffle, loader = make_run()
    train(model, opt, sched, loader, 2, Checkpoint(tmp_path / "run.pt", "full", generators={"shuffle": shuffle}))
    torch.manual_seed(123)  # the "crash": a fresh process with other random state
    model, opt, sched, shuffle, loader = make_run(seed=7)
    resumed = train(model, opt, sched, loader, 5,
                    Checkpoint(tmp_path / "run.pt", "full", generators={"shuffle": shuffle}))
    for a, b in zip(model.parameters(), reference, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert resumed == straight
    assert opt.param_groups[0]["lr"] == pytest.approx(0.2 * 0.5)  # the scheduler resumed too (5 // 3 halvings)


def test_a_resume_without_the_generator_state_differs(tmp_path):
    """The check above can fail: resuming without the shuffling generator's state changes the run."""
    model, opt, sched, shuffle, loader = make_run()
    train(model, opt, sched, loader, 5)
    reference = [p.detach().clone() for p in model.parameters()]
    model, opt, sched, shuffle, loader = make_run()
    train(model, opt, sched, loader, 2, Checkpoint(tmp_path / "run.pt", "full"))
    model, opt, sched, shuffle, loader = make_run(seed=7)
    train(model, opt, sched, loader, 5, Checkpoint(tmp_path / "run.pt", "full"))
    assert any(not torch.equal(a, b) for a, b in zip(model.parameters(), reference, strict=True))


def test_a_finished_run_is_loaded_not_retrained(tmp_path):
    model, opt, sched, shuffle, loader = make_run()
    ckpt = Checkpoint(tmp_path / "done.pt", "quick")
    first = train(model, opt, sched, loader, 2, ckpt)
    weights = [p.detach().clone() for p in model.parameters()]
    model, opt, sched, _, _ = make_run(seed=3)

    class Never:
        def __iter__(self):
            raise AssertionError("a finished run must not train again")

    again = train(model, opt, sched, Never(), 2, ckpt)
    assert again == first
    for a, b in zip(model.parameters(), weights, strict=True):
        torch.testing.assert_close(a, b)
    with pytest.raises(CheckpointError, match="more than"):
        train(model, opt, sched, loader, 1, ckpt)


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
    model, opt, sched, _, loader = make_run()
    with pytest.raises(CheckpointError, match="configuration"):
        train(model, opt, sched, loader, 2, Checkpoint(path, "quick", settings={"lr": 0.1}))
