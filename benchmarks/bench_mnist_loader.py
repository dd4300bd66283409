"""One pass over MNIST's training split: helpers.data's tensor loader vs torchvision's per-sample pipeline.

Usage: `.venv/bin/python benchmarks/bench_mnist_loader.py [--root DIR] [--batch-size 128] [--repeats 3]`
from the repository root. Without --root it uses the offline mini set (8,000 training digits)
where there is one, else BOOK_DATA_ROOT or ./data. Both loaders read the same idx files on
this machine, in the same run, with batch size 128 and shuffling; each is timed from
construction (reading the files) to the end of one full pass, best of --repeats; the
helpers' load also reads the test split, so its total is an overestimate.
Target (issue: Weeks 2-3): the tensor loader is at least 10x faster.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
import torchvision
from torch.utils.data import DataLoader
from torchvision.transforms import ToTensor

from helpers.config import BookConfig, book_config
from helpers.data import TensorLoader, read_mnist, resolve_root


def one_pass(loader) -> tuple[int, float]:
    """Iterate once, touching every batch; return (samples seen, a checksum)."""
    n, total = 0, 0.0
    for X, y in loader:
        n += len(y)
        total += float(X[:, 0, 0, 0].sum())  # touch each batch so nothing stays lazy
    return n, total


def time_helpers(root, batch_size: int) -> tuple[float, float, int]:
    """(seconds to load, seconds for one pass, samples); loading reads both splits, to be conservative."""
    start = time.perf_counter()
    mnist = read_mnist(root)
    loader = TensorLoader(mnist.train.X, mnist.train.y, batch_size=batch_size, shuffle=True,
                          generator=torch.Generator().manual_seed(0))
    loaded = time.perf_counter()
    n, _ = one_pass(loader)
    return loaded - start, time.perf_counter() - loaded, n


def time_torchvision(root, batch_size: int) -> tuple[float, float, int]:
    """(seconds to construct, seconds for one pass, samples) for the per-sample PIL pipeline."""
    start = time.perf_counter()
    dataset = torchvision.datasets.MNIST(str(root), train=True, download=False, transform=ToTensor())
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, generator=torch.Generator().manual_seed(0))
    loaded = time.perf_counter()
    n, _ = one_pass(loader)
    return loaded - start, time.perf_counter() - loaded, n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=None, help="an MNIST root (holding MNIST/raw); default: the mini set")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    config = book_config()
    root = Path(args.root) if args.root else resolve_root(BookConfig(profile="quick", mini_root=config.mini_root)).path
    description = read_mnist(root).description
    ours = [time_helpers(root, args.batch_size) for _ in range(args.repeats)]
    theirs = [time_torchvision(root, args.batch_size) for _ in range(args.repeats)]
    (load_o, pass_o, n_ours), (load_t, pass_t, n_theirs) = (min(runs, key=lambda r: r[0] + r[1])
                                                          for runs in (ours, theirs))
    assert n_ours == n_theirs, f"the loaders saw different numbers of samples: {n_ours} vs {n_theirs}"
    print(f"data: training split of {description}, from {root}")
    print(f"device: cpu ({torch.get_num_threads()} threads); batch size {args.batch_size}; shuffled; "
          f"best of {args.repeats}; {n_ours:,} samples per pass")
    print(f"{'':44}{'load':>10}{'one pass':>12}{'total':>12}")
    for name, load, one in (("helpers.data: read_mnist + TensorLoader", load_o, pass_o),
                            ("DataLoader(torchvision MNIST, ToTensor())", load_t, pass_t)):
        print(f"{name:44}{load * 1e3:8.1f} ms{one * 1e3:9.1f} ms{(load + one) * 1e3:9.1f} ms")
    ratio = (load_t + pass_t) / (load_o + pass_o)
    print(f"ratio (total): the tensor loader is {ratio:.1f}x faster (target >= 10x): "
          f"{'met' if ratio >= 10 else 'NOT met'}; one pass alone: {pass_t / pass_o:.0f}x")
    return 0 if ratio >= 10 else 1


if __name__ == "__main__":
    sys.exit(main())
