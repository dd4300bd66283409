"""helpers.models: output shapes and parameter counts by formula, and He initialization's variance."""

import math

import pytest
import torch
from torch import nn

from helpers.models import VGG_CIFAR, count_parameters, he_init_, lenet5, small_cnn, vgg


def conv_params(c_in, c_out, k, bias=True):
    return c_out * (c_in * k * k + bias)


def test_lenet5_shapes_and_parameter_count():
    model = lenet5()
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    expected = conv_params(1, 6, 5) + conv_params(6, 16, 5) + 400 * 120 + 120 + 120 * 84 + 84 + 84 * 10 + 10
    assert count_parameters(model) == expected == 61_706


def test_vgg_counts_and_width():
    model = vgg()
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    convs = [c for c in VGG_CIFAR if c != "M"]
    expected = sum(conv_params(a, b, 3, bias=False) + 2 * b for a, b in zip([3, *convs], convs, strict=False))
    assert count_parameters(model) == expected + 512 * 10 + 10
    narrow = vgg(width=0.125, batch_norm=False)
    assert narrow(torch.zeros(1, 3, 32, 32)).shape == (1, 10)
    assert [m.out_channels for m in narrow if isinstance(m, nn.Conv2d)] == [c // 8 for c in convs]
    assert not any(isinstance(m, nn.BatchNorm2d) for m in narrow)
    with pytest.raises(ValueError, match="config"):
        vgg((64, "pool"))
    with pytest.raises(ValueError, match="width"):
        vgg(width=0)


def test_small_cnn_dropout_and_shapes():
    model = small_cnn(width=0.25, dropout=0.5)
    assert model(torch.zeros(3, 3, 32, 32)).shape == (3, 10)
    assert [m.p for m in model if isinstance(m, nn.Dropout)] == [0.5, 0.5]
    X = torch.randn(3, 3, 32, 32)
    without = nn.Sequential(*[nn.Identity() if isinstance(m, nn.Dropout) else m for m in model])
    assert not torch.allclose(model(X), without(X))  # training mode: dropout acts
    model.eval()
    torch.testing.assert_close(model(X), without(X))  # evaluation: the network without dropout


def test_he_init_has_variance_two_over_fan_in():
    torch.manual_seed(0)
    layer = he_init_(nn.Sequential(nn.Conv2d(64, 128, 3)))[0]
    fan_in = 64 * 9
    assert layer.weight.var().item() == pytest.approx(2 / fan_in, rel=0.03)
    assert layer.bias.abs().max().item() == 0
    assert math.isclose(torch.nn.init.calculate_gain("relu") ** 2, 2.0)
