"""Shared fixtures: the repository root and the quick-profile build of the whole book."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def built_site() -> Path:
    """Build the whole book once per session (quick profile); return its HTML folder.

    Set BOOK_SITE_DIR to test an HTML folder that is already built instead.
    """
    if os.environ.get("BOOK_SITE_DIR"):
        site = Path(os.environ["BOOK_SITE_DIR"])
        assert (site / "index.html").exists(), f"BOOK_SITE_DIR={site} holds no index.html"
        return site
    proc = subprocess.run([sys.executable, "-m", "tools.build", "--profile", "quick"], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, f"the quick-profile build failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-6000:]}"
    return ROOT / "_build" / "quick" / "html"


@pytest.fixture
def linear_problem():
    """A seeded 3-class problem (64 points in 4-d) and a linear model, for training-loop tests."""
    g = torch.Generator().manual_seed(0)
    X = torch.randn(64, 4, generator=g)
    y = (X @ torch.randn(4, 3, generator=g)).argmax(1)  # (64,)
    torch.manual_seed(0)
    return X, y, nn.Linear(4, 3)


def pytest_collection_modifyitems(config, items):
    """Builds and browsers are slow by nature: `pytest -m "not slow"` is the fast tier."""
    for item in items:
        if item.get_closest_marker("build") or item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.slow)
