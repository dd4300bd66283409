"""Backward passes of the course's layers, no autograd; from "Weight initialization, VGGNet and backpropagation"."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def linear_backward(grad_out: torch.Tensor, X: torch.Tensor, W: torch.Tensor):
    """For Z = X W^T + b with X (B, n_in), W (n_out, n_in): (dX, dW, db) from dZ = grad_out (B, n_out)."""
    return grad_out @ W, grad_out.T @ X, grad_out.sum(dim=0)


def relu_backward(grad_out: torch.Tensor, Z: torch.Tensor) -> torch.Tensor:
    """dZ for A = max(Z, 0), taking the derivative 0 at 0."""
    return grad_out * (Z > 0).to(grad_out.dtype)


def softmax_cross_entropy_backward(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Gradient of the mean cross-entropy F.cross_entropy(logits, y) with respect to logits (B, K): (P - Y) / B."""
    P = torch.softmax(logits, dim=1)
    return (P - F.one_hot(y, logits.shape[1]).to(logits.dtype)) / len(y)


def conv2d_backward(grad_out: torch.Tensor, X: torch.Tensor, W: torch.Tensor, *, stride: int = 1,
                    padding: int = 0):
    """(dX, dW, db) for Z = F.conv2d(X, W, b, stride=stride, padding=padding).

    X (B, C_in, H, W_in), W (C_out, C_in, k, k), grad_out (B, C_out, H_out, W_out). The kernel gradient is
    the correlation of the padded input with the output gradient dilated by the stride; the input gradient
    is the transposed convolution of the output gradient with the same kernel.
    """
    k = W.shape[-1]
    # dW[o, c, p, q] = sum_{b, i, j} G[b, o, i, j] X_pad[b, c, s i + p, s j + q]: channels play the batch
    dW = F.conv2d(X.transpose(0, 1), grad_out.transpose(0, 1), padding=padding,
                  dilation=stride)  # (C_in, C_out, >= k, >= k)
    dW = dW[:, :, :k, :k].transpose(0, 1)  # (C_out, C_in, k, k); extra rows come from unread input rows
    extra = [(size + 2 * padding - k) % stride for size in X.shape[-2:]]  # input rows/cols never read
    dX = F.conv_transpose2d(grad_out, W, stride=stride, padding=padding, output_padding=tuple(extra))
    return dX, dW, grad_out.sum(dim=(0, 2, 3))


def max_pool2d_backward(grad_out: torch.Tensor, X: torch.Tensor, kernel_size: int,
                        stride: int | None = None) -> torch.Tensor:
    """dX for F.max_pool2d(X, kernel_size, stride) (no padding): each window sends its gradient to its maximum.

    Ties go to the first maximum of the window in row-major order; overlapping windows add up.
    """
    stride = stride or kernel_size
    B, C, H, W_in = X.shape
    windows = F.unfold(X.reshape(B * C, 1, H, W_in), kernel_size, stride=stride)  # (B C, k^2, L)
    winner = F.one_hot(windows.argmax(dim=1), windows.shape[1]).transpose(1, 2)  # (B C, k^2, L)
    routed = winner.to(grad_out.dtype) * grad_out.reshape(B * C, 1, -1)  # (B C, k^2, L)
    dX = F.fold(routed, (H, W_in), kernel_size, stride=stride)  # (B C, 1, H, W): sums overlaps
    return dX.reshape(B, C, H, W_in)
