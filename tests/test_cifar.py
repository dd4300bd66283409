"""helpers.cifar: reading CIFAR-10's batch files, the labelled synthetic stand-in, no silent fallback."""

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision

from helpers import cifar
from helpers.cifar import CIFARNotFoundError, load_cifar10, synthetic_cifar10
from helpers.config import BookConfig


def fake_cifar(root: Path, n_per_batch: int = 4, seed: int = 0) -> None:
    """A tiny random CIFAR-10 in torchvision's layout (pickled dicts of uint8 rows and labels)."""
    rng = np.random.default_rng(seed)
    folder = root / cifar.FOLDER
    folder.mkdir(parents=True)
    for name in cifar.TRAIN_FILES + cifar.TEST_FILES:
        entry = {"data": rng.integers(0, 256, (n_per_batch, 3072), dtype=np.uint8),
                 "labels": rng.integers(0, 10, n_per_batch).tolist()}
        (folder / name).write_bytes(pickle.dumps(entry))
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": list(cifar.CLASSES)}))


def test_reader_matches_torchvision(tmp_path, monkeypatch):
    fake_cifar(tmp_path)
    data = load_cifar10(BookConfig(profile="full", data_root=tmp_path))
    # torchvision checks the real files' checksums; our fake files only need to be read the same way
    monkeypatch.setattr(torchvision.datasets.CIFAR10, "_check_integrity", lambda self: True)
    monkeypatch.setattr(torchvision.datasets.CIFAR10, "_load_meta", lambda self: None)
    for train, split in ((True, data.train), (False, data.test)):
        oracle = torchvision.datasets.CIFAR10(str(tmp_path), train=train, download=False)
        expected = torch.from_numpy(oracle.data).permute(0, 3, 1, 2).float() / 255  # (N, 32, 32, 3) -> (N, 3, 32, 32)
        torch.testing.assert_close(split.X, expected)
        torch.testing.assert_close(split.y, torch.tensor(oracle.targets))
    assert not data.is_synthetic and data.name == "CIFAR-10" and "20 train / 4 test" in data.description
    assert data.by_source(real=0.9, synthetic=0.3) == 0.9


def test_subsets_take_the_first_images(tmp_path):
    fake_cifar(tmp_path)
    full = load_cifar10(BookConfig(profile="full", data_root=tmp_path))
    part = load_cifar10(BookConfig(profile="full", data_root=tmp_path), num_train=7, num_test=3)
    torch.testing.assert_close(part.train.X, full.train.X[:7])
    torch.testing.assert_close(part.test.y, full.test.y[:3])


def test_full_profile_never_falls_back_to_synthetic(tmp_path, monkeypatch):
    def offline(root):
        raise OSError("no internet")

    monkeypatch.setattr(cifar, "_download_cifar10", offline)
    with pytest.raises(CIFARNotFoundError, match="download failed.*no internet") as err:
        load_cifar10(BookConfig(profile="full", data_root=tmp_path / "empty"))
    message = str(err.value)
    assert "BOOK_DATA_ROOT" in message and "BOOK_DATA=offline" in message and "BOOK_PROFILE=quick" in message


def test_offline_full_profile_uses_real_files_else_the_full_size_stand_in(tmp_path, monkeypatch):
    monkeypatch.setattr(cifar, "_download_cifar10", lambda root: pytest.fail("offline: no download"))
    fake_cifar(tmp_path / "real")
    real = BookConfig(profile="full", data_mode="offline", data_root=tmp_path / "real")
    assert not cifar.uses_synthetic(real) and not load_cifar10(real).is_synthetic
    missing = BookConfig(profile="full", data_mode="offline", data_root=tmp_path / "empty")
    assert cifar.uses_synthetic(missing)
    stand_in = load_cifar10(missing, num_train=30, num_test=10)
    assert stand_in.is_synthetic and "SYNTHETIC" in stand_in.description
    assert stand_in.by_source(real=0.9, synthetic=0.3) == 0.3
    assert not cifar.uses_synthetic(BookConfig(profile="full", data_root=tmp_path / "empty"))  # online


def test_quick_profile_and_explicit_request_give_the_labelled_stand_in(tmp_path, monkeypatch):
    monkeypatch.setattr(cifar, "_download_cifar10", lambda root: pytest.fail("the stand-in needs no download"))
    for data in (load_cifar10(BookConfig(profile="quick", data_root=tmp_path), num_train=40, num_test=20),
                 load_cifar10(BookConfig(profile="full", data_root=tmp_path), synthetic=True, num_train=40,
                              num_test=20)):
        assert data.is_synthetic and data.name == "synthetic stand-in for CIFAR-10"
        assert "SYNTHETIC" in data.description and "not CIFAR-10 results" in data.description
        assert data.train.X.shape == (40, 3, 32, 32) and data.test.X.shape == (20, 3, 32, 32)
        assert data.classes == cifar.CLASSES and data.by_source(real=0.9, synthetic=0.3) == 0.3
    with pytest.raises(CIFARNotFoundError):
        load_cifar10(BookConfig(profile="quick", data_mode="offline", data_root=tmp_path), synthetic=False)


def test_synthetic_images_are_uint8_balanced_and_deterministic():
    X, y = synthetic_cifar10(200, seed=3)
    assert X.dtype == torch.uint8 and X.shape == (200, 3, 32, 32) and y.dtype == torch.long
    torch.testing.assert_close(torch.bincount(y, minlength=10), torch.full((10,), 20))
    X2, y2 = synthetic_cifar10(200, seed=3)
    torch.testing.assert_close(X, X2)
    torch.testing.assert_close(y, y2)
    assert not torch.equal(X, synthetic_cifar10(200, seed=4)[0])
    assert X.float().std() > 30  # images, not a constant


def test_synthetic_classes_are_learnable_but_not_trivial():
    X, y = synthetic_cifar10(3000, seed=0)
    X_test, y_test = synthetic_cifar10(1000, seed=1)
    flat = X.float().reshape(len(X), -1) / 255  # (N, 3072)
    means = torch.stack([flat[y == c].mean(0) for c in range(10)])  # (10, 3072)
    nearest = torch.cdist(X_test.float().reshape(len(X_test), -1) / 255, means).argmin(1)
    acc = (nearest == y_test).float().mean().item()
    assert 0.15 < acc < 0.7, f"a nearest-class-mean classifier should do better than chance but far from perfect: {acc}"


def test_synthetic_refuses_a_bad_size():
    with pytest.raises(ValueError, match="positive"):
        synthetic_cifar10(0)
