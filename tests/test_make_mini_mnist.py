"""tools/make_mini_mnist.py: re-splitting MNIST's test set reproduces the offline mini set."""

from __future__ import annotations

import struct

import pytest

from tools.make_mini_mnist import split_idx


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
