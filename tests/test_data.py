"""helpers.data: MNIST from idx files as tensors, root resolution, and the indexing loader."""

from pathlib import Path

import pytest
import torch
import torchvision
from torch.utils.data import DataLoader, TensorDataset

from helpers import data
from helpers.data import MNISTNotFoundError, TensorLoader, load_mnist, read_idx, resolve_root


def write_idx(path: Path, array: torch.Tensor) -> None:
    """Write a uint8 tensor as an idx file (magic 0x0000 08 ndim, big-endian sizes, bytes)."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    path.write_bytes(header + array.numpy().tobytes())


def fake_mnist(root: Path, n_train: int, n_test: int, seed: int = 0) -> None:
    """A tiny random MNIST in torchvision's layout under `root`."""
    g = torch.Generator().manual_seed(seed)
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        write_idx(raw / f"{prefix}-images-idx3-ubyte", torch.randint(0, 256, (n, 28, 28), generator=g,
                                                                     dtype=torch.uint8))
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", torch.randint(0, 10, (n,), generator=g, dtype=torch.uint8))


@pytest.fixture
def fake_root(tmp_path: Path) -> Path:
    fake_mnist(tmp_path, 30, 12)
    return tmp_path


def test_load_matches_torchvision(fake_root):
    mnist = load_mnist(fake_root, download=False)
    for train, split in ((True, mnist.train), (False, mnist.test)):
        oracle = torchvision.datasets.MNIST(str(fake_root), train=train, download=False)
        torch.testing.assert_close(split.X, oracle.data.unsqueeze(1).float() / 255)  # (N, 1, 28, 28)
        torch.testing.assert_close(split.y, oracle.targets)
    assert mnist.variant == "other" and "30 train / 12 test" in mnist.description
    with pytest.raises(ValueError, match="neither the real MNIST"):
        mnist.by_variant(mnist=0.98, mini=0.95)


def test_gzipped_idx_is_read(tmp_path):
    import gzip

    labels = torch.tensor([3, 1, 4, 1, 5], dtype=torch.uint8)
    write_idx(tmp_path / "labels", labels)
    (tmp_path / "labels.gz").write_bytes(gzip.compress((tmp_path / "labels").read_bytes()))
    torch.testing.assert_close(read_idx(tmp_path / "labels.gz"), labels)


def test_bad_idx_file_is_refused(tmp_path):
    (tmp_path / "junk").write_bytes(b"not an idx file")
    with pytest.raises(ValueError, match="not an idx file"):
        read_idx(tmp_path / "junk")
    write_idx(tmp_path / "short", torch.zeros(4, 3, dtype=torch.uint8))
    (tmp_path / "short").write_bytes((tmp_path / "short").read_bytes()[:-2])
    with pytest.raises(ValueError, match="damaged"):
        read_idx(tmp_path / "short")


def test_absent_offline_names_the_root_and_the_fixes(tmp_path, monkeypatch):
    def offline(root):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz")

    monkeypatch.setattr(data, "_download_mnist", offline)
    with pytest.raises(MNISTNotFoundError) as err:
        load_mnist(tmp_path / "nowhere", profile="full")
    message = str(err.value)
    assert str((tmp_path / "nowhere").resolve()) in message
    assert "BOOK_DATA_ROOT" in message and "BOOK_PROFILE=quick" in message and "download failed" in message
    with pytest.raises(MNISTNotFoundError, match="download=False"):
        load_mnist(tmp_path / "nowhere", download=False)


def test_download_is_used_when_files_are_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "_download_mnist", lambda root: fake_mnist(root, 8, 4))
    mnist = load_mnist(tmp_path, profile="full")
    assert (len(mnist.train), len(mnist.test)) == (8, 4)


def test_root_resolution_order(tmp_path, fake_root):
    env = {"BOOK_DATA_ROOT": "/somewhere", "BOOK_MINI_DATA_ROOT": str(fake_root)}
    assert resolve_root("/explicit", "quick", env).path == Path("/explicit")
    assert resolve_root(None, "full", env) == data.DataRoot(Path("/somewhere"), True, "$BOOK_DATA_ROOT")
    assert resolve_root(None, "full", {}).path == Path("data")
    quick = resolve_root(None, "quick", env)
    assert quick.path == fake_root and not quick.download
    # no mini set (Colab): quick falls back to downloading like full
    colab = {"BOOK_MINI_DATA_ROOT": str(tmp_path / "missing")}
    assert resolve_root(None, "quick", colab) == data.DataRoot(Path("data"), True, "the default ./data")


def test_profile_comes_from_the_environment(fake_root):
    env = {"BOOK_PROFILE": "quick", "BOOK_MINI_DATA_ROOT": str(fake_root)}
    assert load_mnist(environ=env).root == fake_root


def test_mini_set_beside_the_repo_is_found():
    repo_root = Path(__file__).resolve().parents[1]  # tests/ sits in the repository root
    assert data.repo_mini_root() == repo_root.parent / "shared" / "data" / "mini"
    assert data.mini_root({"BOOK_MINI_DATA_ROOT": "/no/such/dir"}) is None


@pytest.mark.skipif(data.mini_root() is None, reason="the offline mini set is not beside this checkout")
def test_mini_set_is_described_as_such():
    mnist = load_mnist(profile="quick")
    assert mnist.is_mini and (len(mnist.train), len(mnist.test)) == (8_000, 2_000)
    assert "mini set" in mnist.description and "8,000" in mnist.description
    assert mnist.by_variant(mnist=0.98, mini=0.95) == 0.95
    assert mnist.train.X.dtype == torch.float32 and 0 <= mnist.train.X.min() <= mnist.train.X.max() <= 1


def test_loader_without_shuffle_matches_dataloader():
    X, y = torch.randn(23, 3), torch.arange(23)
    ours = list(TensorLoader(X, y, batch_size=5))
    oracle = list(DataLoader(TensorDataset(X, y), batch_size=5))
    assert len(ours) == len(oracle) == 5
    for (a, b), (c, d) in zip(ours, oracle, strict=True):
        torch.testing.assert_close(a, c)
        torch.testing.assert_close(b, d)


def test_loader_shuffles_every_sample_once_and_reproducibly():
    X, y = torch.arange(23.0).unsqueeze(1), torch.arange(23)  # (23, 1)

    def epoch(seed):
        return torch.cat([b for _, b in TensorLoader(X, y, batch_size=4, shuffle=True,
                                                     generator=torch.Generator().manual_seed(seed))])

    assert sorted(epoch(0).tolist()) == list(range(23))
    assert torch.equal(epoch(0), epoch(0)) and not torch.equal(epoch(0), epoch(1))
    loader = TensorLoader(X, y, batch_size=4, shuffle=True, generator=torch.Generator().manual_seed(0))
    first, second = (torch.cat([b for _, b in loader]) for _ in range(2))
    assert not torch.equal(first, second)  # a fresh order each pass


def test_loader_length_and_drop_last():
    X = torch.zeros(10, 2)
    assert len(TensorLoader(X, batch_size=4)) == 3
    loader = TensorLoader(X, batch_size=4, drop_last=True, shuffle=True)
    assert len(loader) == 2 and [len(b) for (b,) in loader] == [4, 4]


def test_loader_refuses_bad_input():
    with pytest.raises(ValueError, match="same first dimension"):
        TensorLoader(torch.zeros(3), torch.zeros(4), batch_size=2)
    with pytest.raises(ValueError, match="positive integer"):
        TensorLoader(torch.zeros(3), batch_size=0)


def test_ensure_present_says_why_the_data_is_missing(tmp_path):
    def not_found(path, why):
        return FileNotFoundError(f"{path}: {why}")

    present = lambda path: (path / "ok").exists()  # noqa: E731
    with pytest.raises(FileNotFoundError, match="download=False"):
        data.ensure_present(tmp_path, present, False, lambda p: None, not_found)
    with pytest.raises(FileNotFoundError, match="left no data files"):
        data.ensure_present(tmp_path, present, True, lambda p: None, not_found)
    data.ensure_present(tmp_path, present, True, lambda p: (p / "ok").touch(), not_found)
    assert present(tmp_path)
