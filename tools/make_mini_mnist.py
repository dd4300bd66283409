"""Recreate the offline mini MNIST set (for a CI machine that has internet but no ../shared).

Usage: `python tools/make_mini_mnist.py DEST` (e.g. ../shared/data/mini). Downloads the real
MNIST test set with torchvision and re-splits it as ../shared/data/README.md describes:
`train-*` = its first 8,000 images, `t10k-*` = its last 2,000, uncompressed idx files in
DEST/MNIST/raw/. Does nothing, and needs neither torchvision nor the network, when DEST
already holds a valid mini set (the four files, with their headers, counts and sizes).
"""

from __future__ import annotations

import struct
import sys
import tempfile
from pathlib import Path

SPLIT = 8000
FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def split_idx(data: bytes, start: int, stop: int) -> bytes:
    """Items [start, stop) of an idx file (images: magic 2051, labels: magic 2049)."""
    magic, count = struct.unpack(">II", data[:8])
    header = 16 if magic == 2051 else 8
    item = 28 * 28 if magic == 2051 else 1
    if magic not in (2049, 2051) or len(data) != header + count * item:
        raise ValueError(f"not an MNIST idx file (magic {magic}, {len(data)} bytes)")
    rest = data[8:header]
    return struct.pack(">II", magic, stop - start) + rest + data[header + start * item:header + stop * item]


def problems(raw: Path) -> list[str]:
    """What is wrong with the mini set in `raw` (an empty list: it is valid)."""
    found = []
    for name in FILES:
        path = raw / name
        if not path.is_file():
            found.append(f"{name} is missing")
            continue
        images = "images" in name
        expected_magic, header, item = (2051, 16, 28 * 28) if images else (2049, 8, 1)
        count = SPLIT if name.startswith("train") else 10000 - SPLIT
        with path.open("rb") as f:
            head = f.read(header)
        size = path.stat().st_size
        if len(head) < 8 or struct.unpack(">II", head[:8]) != (expected_magic, count):
            found.append(f"{name}: not an idx file of {count} items")
        elif images and struct.unpack(">II", head[8:16]) != (28, 28):
            found.append(f"{name}: images are not 28x28")
        elif size != header + count * item:
            found.append(f"{name}: {size} bytes, expected {header + count * item}")
    return found


def main(dest: str) -> int:
    raw = Path(dest) / "MNIST" / "raw"
    wrong = problems(raw)
    if not wrong:
        print(f"{raw}: a valid mini set is already there; nothing to do")
        return 0
    if raw.exists():
        print(f"{raw}: recreating the mini set ({'; '.join(wrong)})")
    from torchvision.datasets import MNIST

    with tempfile.TemporaryDirectory() as tmp:
        MNIST(tmp, train=False, download=True)
        source = Path(tmp) / "MNIST" / "raw"
        images = (source / "t10k-images-idx3-ubyte").read_bytes()
        labels = (source / "t10k-labels-idx1-ubyte").read_bytes()
    raw.mkdir(parents=True, exist_ok=True)
    for prefix, (start, stop) in {"train": (0, SPLIT), "t10k": (SPLIT, 10000)}.items():
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(split_idx(images, start, stop))
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(split_idx(labels, start, stop))
    print(f"{raw}: wrote the mini set ({SPLIT} training and {10000 - SPLIT} test digits)")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
