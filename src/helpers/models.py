"""The convolutional networks of Weeks 4-6 (LeNet-5, a small CNN, VGG); built in "Convolutional layers and LeNet"."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

# VGG's recipe (stacks of 3x3 convolutions, each stack ending in a 2x2 max-pool, "M") sized for
# 32x32 inputs: four stacks of two convolutions, 64 to 512 channels.
VGG_CIFAR: tuple[int | str, ...] = (64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M")


def lenet5(num_classes: int = 10) -> nn.Sequential:
    """LeNet-5 for 28x28 inputs, modernized: ReLU, max-pooling, full C3 connections, linear output.

    Padding 2 makes the first layer see the 32x32 input of the original. 61,706 parameters.
    """
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool2d(2),  # (B, 6, 14, 14)
        nn.Conv2d(6, 16, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2),  # (B, 16, 5, 5)
        nn.Flatten(),  # (B, 400)
        nn.Linear(400, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, num_classes),
    )


def _channels(channels: int, width: float) -> int:
    if width <= 0:
        raise ValueError(f"width must be positive, got {width}")
    return max(1, round(channels * width))


def small_cnn(*, width: float = 1.0, dropout: float = 0.0, num_classes: int = 10) -> nn.Sequential:
    """Three stacks of two 3x3 convolutions (32, 64, 128 channels times `width`) and a two-layer head.

    `dropout` is the drop probability of the two dropout layers in the head (0 turns them off).
    """
    layers: list[nn.Module] = []
    c_in = 3
    for c in (32, 64, 128):
        c_out = _channels(c, width)
        layers += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(),
                   nn.Conv2d(c_out, c_out, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
        c_in = c_out
    hidden = _channels(256, width)
    layers += [nn.Flatten(),  # (B, c_in * 4 * 4)
               nn.Dropout(dropout), nn.Linear(c_in * 16, hidden), nn.ReLU(),
               nn.Dropout(dropout), nn.Linear(hidden, num_classes)]
    return nn.Sequential(*layers)


def vgg(config: Sequence[int | str] = VGG_CIFAR, *, width: float = 1.0, batch_norm: bool = True,
        in_channels: int = 3, num_classes: int = 10) -> nn.Sequential:
    """A VGG network: 3x3 convolutions (padding 1) with ReLU, "M" = 2x2 max-pool; then a global
    max-pool and one linear layer. Channel counts are multiplied by `width`."""
    layers: list[nn.Module] = []
    c_in = in_channels
    for item in config:
        if item == "M":
            layers.append(nn.MaxPool2d(2))
            continue
        if not isinstance(item, int):
            raise ValueError(f"a VGG config holds channel counts and 'M', got {item!r}")
        c_out = _channels(item, width)
        layers.append(nn.Conv2d(c_in, c_out, 3, padding=1, bias=not batch_norm))  # BN has its own shift
        layers += [nn.BatchNorm2d(c_out), nn.ReLU()] if batch_norm else [nn.ReLU()]
        c_in = c_out
    layers += [nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(c_in, num_classes)]  # (B, C, 1, 1) -> (B, C)
    return nn.Sequential(*layers)


def he_init_(model: nn.Module) -> nn.Module:
    """He (Kaiming) normal initialization, variance 2 / fan_in, of every convolution and linear layer;
    zero biases. Derived in "Weight initialization, VGGNet and backpropagation"."""
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(module.weight, mode="fan_in", nonlinearity="relu")
            if module.bias is not None:
                nn.init.zeros_(module.bias)
    return model


def count_parameters(model: nn.Module) -> int:
    """The number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
