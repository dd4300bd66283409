"""helpers.device: picking CUDA, then MPS, then the CPU."""

import pytest
import torch

from helpers.device import device_name, get_device


def test_falls_back_to_cpu_without_accelerators(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert get_device() == torch.device("cpu")


def test_prefers_cuda_then_mps(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert get_device() == torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert get_device() == torch.device("mps")


def test_unavailable_preference_is_an_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match="'cuda' was requested but is not available"):
        get_device("cuda")
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        get_device("tpu")
    assert get_device("cpu") == torch.device("cpu")


def test_device_name_is_readable():
    assert device_name("cpu") == f"cpu ({torch.get_num_threads()} threads)"
