"""tools/make_mini_mnist.py: re-splitting MNIST's test set reproduces the offline mini set."""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import pytest

from tools.make_mini_mnist import problems, split_idx

SCRIPT = Path(__file__).resolve().parent.parent / "tools" / "make_mini_mnist.py"


@pytest.fixture(scope="module")
def raw(root):
    folder = root.parent / "shared" / "data" / "mini" / "MNIST" / "raw"
    assert folder.exists(), f"the offline mini set is missing at {folder} (see ../shared/data/README.md)"
    return folder


@pytest.mark.parametrize("kind", ["images-idx3", "labels-idx1"])
def test_split_reproduces_the_mini_set(raw, kind):
    train = (raw / f"train-{kind}-ubyte").read_bytes()
    test = (raw / f"t10k-{kind}-ubyte").read_bytes()
    header = 16 if kind.startswith("images") else 8
    magic = struct.unpack(">I", train[:4])[0]
    whole = struct.pack(">II", magic, 10000) + train[8:header] + train[header:] + test[header:]
    assert split_idx(whole, 0, 8000) == train
    assert split_idx(whole, 8000, 10000) == test


def test_split_rejects_what_is_not_an_idx_file():
    with pytest.raises(ValueError, match="not an MNIST idx file"):
        split_idx(struct.pack(">II", 1234, 1) + b"x", 0, 1)


def test_a_valid_mini_set_is_left_alone_without_torchvision(raw, tmp_path):
    dest = tmp_path / "mini"
    (dest / "MNIST").mkdir(parents=True)
    (dest / "MNIST" / "raw").symlink_to(raw)
    assert problems(raw) == []
    # -S: no site-packages, so torchvision cannot be imported; a valid set needs neither it nor the network.
    proc = subprocess.run([sys.executable, "-S", str(SCRIPT), str(dest)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "already there" in proc.stdout


def test_a_damaged_mini_set_is_noticed(raw, tmp_path):
    copy = tmp_path / "raw"
    copy.mkdir()
    for path in raw.iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    assert problems(copy) == []
    images = copy / "t10k-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:-1])
    (copy / "train-labels-idx1-ubyte").unlink()
    found = problems(copy)
    assert any("t10k-images" in p and "bytes" in p for p in found)
    assert any("train-labels" in p and "missing" in p for p in found)
