"""helpers.backprop: every hand-written backward pass against autograd (float64), and a wrong one fails."""

import pytest
import torch
import torch.nn.functional as F

from helpers.backprop import (
    conv2d_backward,
    linear_backward,
    max_pool2d_backward,
    relu_backward,
    softmax_cross_entropy_backward,
)


def _randn(g, *shape, grad=True):
    return torch.randn(*shape, generator=g, dtype=torch.float64).requires_grad_(grad)


def test_linear_relu_softmax_match_autograd():
    g = torch.Generator().manual_seed(0)
    X, W, b = _randn(g, 7, 5), _randn(g, 4, 5), _randn(g, 4)
    y = torch.randint(0, 4, (7,), generator=g)
    Z = X @ W.T + b
    A = torch.relu(Z)
    loss = F.cross_entropy(A, y)
    dX_auto, dW_auto, db_auto, dZ_auto = torch.autograd.grad(loss, (X, W, b, Z))
    dA = softmax_cross_entropy_backward(A.detach(), y)
    dZ = relu_backward(dA, Z.detach())
    dX, dW, db = linear_backward(dZ, X.detach(), W.detach())
    for hand, auto in [(dZ, dZ_auto), (dX, dX_auto), (dW, dW_auto), (db, db_auto)]:
        torch.testing.assert_close(hand, auto)


@pytest.mark.parametrize("size,k,stride,padding", [(8, 3, 1, 0), (10, 3, 2, 1), (9, 3, 2, 0), (11, 5, 3, 2),
                                                   (7, 2, 2, 0)])
def test_conv2d_backward_matches_autograd(size, k, stride, padding):
    g = torch.Generator().manual_seed(size + k)
    X, W, b = _randn(g, 2, 3, size, size + 1), _randn(g, 4, 3, k, k), _randn(g, 4)
    Z = F.conv2d(X, W, b, stride=stride, padding=padding)
    G = _randn(g, *Z.shape, grad=False)
    auto = torch.autograd.grad((Z * G).sum(), (X, W, b))
    hand = conv2d_backward(G, X.detach(), W.detach(), stride=stride, padding=padding)
    for h, a in zip(hand, auto, strict=True):
        torch.testing.assert_close(h, a)


@pytest.mark.parametrize("size,k,stride", [(8, 2, None), (9, 3, 2), (7, 3, 1)])
def test_max_pool2d_backward_matches_autograd(size, k, stride):
    g = torch.Generator().manual_seed(size)
    X = _randn(g, 2, 3, size, size)
    Z = F.max_pool2d(X, k, stride)
    G = _randn(g, *Z.shape, grad=False)
    (auto,) = torch.autograd.grad((Z * G).sum(), X)
    torch.testing.assert_close(max_pool2d_backward(G, X.detach(), k, stride), auto)


def test_a_wrong_kernel_gradient_fails():
    g = torch.Generator().manual_seed(1)
    X, W = _randn(g, 1, 2, 6, 6), _randn(g, 3, 2, 3, 3)
    Z = F.conv2d(X, W)
    G = _randn(g, *Z.shape, grad=False)
    (auto,) = torch.autograd.grad((Z * G).sum(), W)
    _, dW, _ = conv2d_backward(G, X.detach(), W.detach())
    flipped = dW.flip(-1, -2)  # a convolution instead of a correlation
    with pytest.raises(AssertionError):
        torch.testing.assert_close(flipped, auto)
