"""helpers.accel: the precision choice (GPU capability injected), the CPU no-op, and honest timing."""

import pytest
import torch
from torch import nn

from helpers.accel import (
    Precision,
    autocast,
    choose_precision,
    grad_scaler,
    synchronize,
    time_it,
    to_memory_format,
)


def test_cuda_with_bf16_gets_bf16_autocast_without_scaler():
    p = choose_precision("cuda", bf16_supported=lambda: True)
    assert (p.dtype, p.use_scaler, p.channels_last) == (torch.bfloat16, False, True)
    assert p.autocast_enabled and p.name == "bf16 autocast, channels_last (cuda)"


def test_cuda_without_bf16_gets_fp16_with_a_grad_scaler():
    p = choose_precision(torch.device("cuda", 0), bf16_supported=lambda: False)
    assert (p.dtype, p.use_scaler, p.channels_last) == (torch.float16, True, True)
    assert "GradScaler" in p.name


def test_cpu_and_mixed_false_are_plain_fp32():
    def never(): raise AssertionError("the GPU capability must not be queried off CUDA")
    for p in (choose_precision("cpu", bf16_supported=never), choose_precision("mps", bf16_supported=never),
              choose_precision("cuda", mixed=False, bf16_supported=never)):
        assert p.dtype == torch.float32 and not p.use_scaler and not p.autocast_enabled
    assert not choose_precision("cuda", mixed=False).channels_last


def test_fp32_precision_is_a_no_op_on_cpu():
    torch.manual_seed(0)
    model, X = nn.Conv2d(3, 4, 3), torch.randn(2, 3, 8, 8)
    p = choose_precision("cpu")
    with autocast(p):
        y_hat = model(X)
    torch.testing.assert_close(y_hat, model(X), rtol=0, atol=0)
    assert y_hat.dtype == torch.float32
    assert to_memory_format(model, p) is model and to_memory_format(X, p) is X
    assert not grad_scaler(p).is_enabled()


def test_autocast_and_channels_last_act_when_asked():
    p = Precision("cpu", torch.bfloat16, channels_last=True)  # CPU autocast exists, so the branch runs here
    A, B = torch.randn(8, 8), torch.randn(8, 8)
    with autocast(p):
        out = A @ B
    assert out.dtype == torch.bfloat16
    torch.testing.assert_close(out.float(), A @ B, rtol=2e-2, atol=5e-2)
    X = to_memory_format(torch.randn(2, 3, 4, 5), p)
    assert X.is_contiguous(memory_format=torch.channels_last)
    assert to_memory_format(torch.randn(3, 4), p).is_contiguous()  # only (B, C, H, W) batches change


def test_time_it_warms_up_and_times_every_repeat():
    calls = []
    timing = time_it(lambda: calls.append(1), "cpu", repeats=4, warmup=2)
    assert len(calls) == 6 and len(timing.seconds) == 4
    assert all(s >= 0 for s in timing.seconds) and min(timing.seconds) <= timing.median <= max(timing.seconds)
    synchronize("cpu")  # nothing to wait for, and no error
    with pytest.raises(ValueError, match="repeats"):
        time_it(lambda: None, "cpu", repeats=0)
