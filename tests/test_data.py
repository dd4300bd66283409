"""helpers.data: MNIST from idx files as tensors, root resolution, and the indexing loader."""

from pathlib import Path

import pytest
import torch
import torchvision
from torch.utils.data import DataLoader, TensorDataset

from helpers import data
from helpers.config import BookConfig
from helpers.data import MNISTNotFoundError, TensorLoader, load_mnist, read_idx, read_mnist, resolve_root

MINI = Path(__file__).resolve().parents[2] / "shared" / "data" / "mini"  # beside the checkout, if at all


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
    mnist = read_mnist(fake_root)
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
        load_mnist(BookConfig(profile="full", data_root=tmp_path / "nowhere"))
    message = str(err.value)
    assert str((tmp_path / "nowhere").resolve()) in message
    assert "BOOK_DATA_ROOT" in message and "BOOK_DATA=offline" in message and "download failed" in message
    with pytest.raises(MNISTNotFoundError, match="downloading is off"):
        load_mnist(BookConfig(profile="full", data_mode="offline", data_root=tmp_path / "nowhere"))


def test_download_is_used_when_files_are_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "_download_mnist", lambda root: fake_mnist(root, 8, 4))
    mnist = load_mnist(BookConfig(profile="full", data_root=tmp_path))
    assert (len(mnist.train), len(mnist.test)) == (8, 4)


def test_root_resolution(tmp_path, fake_root):
    real, missing = tmp_path / "real", tmp_path / "missing"
    fake_mnist(real, 6, 2)
    quick = resolve_root(BookConfig(profile="quick", data_root=real, mini_root=fake_root))
    assert quick.path == fake_root and not quick.download
    full = resolve_root(BookConfig(profile="full", data_root=missing, mini_root=fake_root))
    assert full == data.DataRoot(missing, True, full.source)  # online: never the mini set
    # no mini set (Colab): quick downloads like full
    colab = resolve_root(BookConfig(profile="quick", data_root=missing, mini_root=tmp_path / "none"))
    assert colab.path == missing and colab.download
    # offline full: the real files where present, else the mini set as a stand-in, never a download
    offline = BookConfig(profile="full", data_mode="offline", data_root=real, mini_root=fake_root)
    assert resolve_root(offline).path == real
    stand_in = resolve_root(BookConfig(profile="full", data_mode="offline", data_root=missing, mini_root=fake_root))
    assert stand_in.path == fake_root and not stand_in.download and "stand" in stand_in.source


@pytest.mark.skipif(not data.has_mnist(MINI), reason="the offline mini set is not beside this checkout")
def test_mini_set_is_described_as_such():
    mnist = load_mnist(BookConfig(profile="quick", mini_root=MINI))
    assert mnist.is_mini and (len(mnist.train), len(mnist.test)) == (8_000, 2_000)
    assert "mini set" in mnist.description and "8,000" in mnist.description
    assert mnist.by_variant(mnist=0.98, mini=0.95) == 0.95
    assert mnist.train.X.dtype == torch.float32 and 0 <= mnist.train.X.min() <= mnist.train.X.max() <= 1
    with pytest.raises(ValueError, match="neither"):
        data.MNISTData(mnist.train, mnist.test, MINI, "other", "x").by_variant(mnist=1, mini=2)


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
    with pytest.raises(FileNotFoundError, match="downloading is off"):
        data.ensure_present(tmp_path, present, False, lambda p: None, not_found)
    with pytest.raises(FileNotFoundError, match="left no data files"):
        data.ensure_present(tmp_path, present, True, lambda p: None, not_found)
    data.ensure_present(tmp_path, present, True, lambda p: (p / "ok").touch(), not_found)
    assert present(tmp_path)
