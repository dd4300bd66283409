"""helpers.imaging: PSNR, luminance, patches and the blur/downsampling operators with their adjoints."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from helpers.imaging import (
    circular_blur,
    circular_blur_adjoint,
    downsample,
    downsample_adjoint,
    gaussian_kernel,
    psnr,
    random_patches,
    to_luminance,
)


def test_psnr_matches_definition_and_crops_border():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(1, 1, 20, 20, generator=g)
    y = x + 0.1 * torch.randn(x.shape, generator=g)
    mse = F.mse_loss(y.double(), x.double()).item()
    assert math.isclose(psnr(y, x), 10 * math.log10(1 / mse), rel_tol=1e-9)
    z = x.clone()
    z[..., 0, :] += 1.0  # an error only on the border
    assert psnr(z, x, border=1) == float("inf")
    assert psnr(z, x) < 30
    assert math.isclose(psnr(255 * y, 255 * x, peak=255.0), psnr(y, x), rel_tol=1e-5)
    with pytest.raises(ValueError, match="shapes differ"):
        psnr(x, x[..., :10])


def test_luminance_weights_and_scaling():
    rgb = np.zeros((2, 2, 3), dtype=np.uint8)
    rgb[0, 0] = (255, 0, 0)
    rgb[0, 1] = (0, 255, 0)
    rgb[1, 0] = (0, 0, 255)
    rgb[1, 1] = (255, 255, 255)
    y = to_luminance(rgb)
    torch.testing.assert_close(y, torch.tensor([[0.299, 0.587], [0.114, 1.0]], dtype=torch.float64))
    grey = to_luminance(np.full((3, 3), 51, dtype=np.uint8))
    torch.testing.assert_close(grey, torch.full((3, 3), 0.2, dtype=torch.float64))
    with pytest.raises(ValueError, match="expected"):
        to_luminance(np.zeros((2, 2, 5)))


def test_random_patches_are_crops():
    g = torch.Generator().manual_seed(0)
    image = torch.arange(100.0).reshape(10, 10)
    patches = random_patches([image], 4, 6, generator=g)
    assert patches.shape == (6, 1, 4, 4)
    for patch in patches[:, 0]:
        i, j = divmod(int(patch[0, 0]), 10)
        torch.testing.assert_close(patch, image[i:i + 4, j:j + 4])
    with pytest.raises(ValueError, match="at least"):
        random_patches([image], 11, 1, generator=g)


def test_circular_blur_is_a_periodic_convolution():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1, 1, 8, 8, generator=g, dtype=torch.float64)
    kernel = torch.rand(3, 3, generator=g, dtype=torch.float64)
    # oracle: the convolution theorem with the kernel centred at the origin
    placed = torch.zeros(8, 8, dtype=torch.float64)
    placed[:3, :3] = kernel
    placed = placed.roll((-1, -1), (0, 1))
    expected = torch.fft.ifft2(torch.fft.fft2(placed) * torch.fft.fft2(x)).real
    torch.testing.assert_close(circular_blur(x, kernel), expected)


@pytest.mark.parametrize("which", ["blur", "downsample"])
def test_adjoints(which):
    g = torch.Generator().manual_seed(1)
    kernel = torch.rand(5, 3, generator=g, dtype=torch.float64)  # asymmetric
    if which == "blur":
        A = lambda x: circular_blur(x, kernel)  # noqa: E731
        A_T = lambda y: circular_blur_adjoint(y, kernel)  # noqa: E731
    else:
        A = lambda x: downsample(x, 3)  # noqa: E731
        A_T = lambda y: downsample_adjoint(y, 3)  # noqa: E731
    x = torch.randn(2, 1, 12, 12, generator=g, dtype=torch.float64, requires_grad=True)
    y = torch.randn(A(x).shape, generator=g, dtype=torch.float64)
    # oracle: autograd's vector-Jacobian product of a linear map is its adjoint
    (vjp,) = torch.autograd.grad((A(x) * y).sum(), x)
    torch.testing.assert_close(A_T(y), vjp)


def test_gaussian_kernel():
    kernel = gaussian_kernel(1.0)
    assert kernel.shape == (7, 7)
    torch.testing.assert_close(kernel.sum(), torch.tensor(1.0, dtype=torch.float64))
    torch.testing.assert_close(kernel, kernel.T)
    assert kernel[3, 3] == kernel.max()
    with pytest.raises(ValueError, match="odd"):
        circular_blur(torch.zeros(1, 1, 4, 4), torch.ones(2, 2))
