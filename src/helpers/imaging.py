"""Photographs, PSNR and linear image operators; introduced in "ResNeXt, SENet and inverse problems"."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

# ITU-R BT.601 luma weights for R, G, B (full range: Y in [0, 1] for RGB in [0, 1]).
LUMA_WEIGHTS = (0.299, 0.587, 0.114)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


def psnr(x: torch.Tensor, reference: torch.Tensor, *, peak: float = 1.0,
         border: int = 0) -> float:
    """Peak signal-to-noise ratio 10 log10(peak^2 / MSE) in dB, `border` pixels cropped."""
    if x.shape != reference.shape:
        raise ValueError(f"psnr: shapes differ, {tuple(x.shape)} vs {tuple(reference.shape)}")
    if border < 0:
        raise ValueError(f"psnr: border must be >= 0, got {border}")
    if border:
        x = x[..., border:-border, border:-border]
        reference = reference[..., border:-border, border:-border]
    mse = (x.double() - reference.double()).pow(2).mean()
    if mse == 0:
        return float("inf")
    return float(10 * torch.log10(peak**2 / mse))


def to_luminance(image: np.ndarray | torch.Tensor) -> torch.Tensor:
    """A float64 (H, W) image in [0, 1]: BT.601 luma of RGB(A), or a grey image rescaled."""
    array = np.asarray(image)
    if array.dtype == np.uint8:
        array = array / 255.0
    elif array.dtype == bool:
        array = array.astype(np.float64)
    array = np.asarray(array, dtype=np.float64)
    if array.ndim == 3:
        if array.shape[-1] not in (3, 4):
            raise ValueError(f"to_luminance: expected (H, W, 3) or (H, W, 4), got {array.shape}")
        array = array[..., :3] @ np.array(LUMA_WEIGHTS)
    elif array.ndim != 2:
        raise ValueError(f"to_luminance: expected a 2-D or 3-D image, got shape {array.shape}")
    return torch.from_numpy(np.ascontiguousarray(array))


def load_photos(names: list[str] | tuple[str, ...]) -> dict[str, torch.Tensor]:
    """skimage.data photographs by name, as luminance (H, W) tensors in [0, 1]."""
    import skimage.data  # imported here: skimage is slow to import

    photos = {}
    for name in names:
        loader = getattr(skimage.data, name, None)
        if loader is None:
            raise ValueError(f"load_photos: skimage.data has no image {name!r}")
        image = loader()
        if isinstance(image, tuple):  # stereo pairs: the left view
            image = image[0]
        photos[name] = to_luminance(image)
    return photos


def load_image_folder(folder: Path | str) -> dict[str, torch.Tensor]:
    """Every image file directly in `folder`, as luminance tensors; {} if it does not exist."""
    folder = Path(folder)
    if not folder.is_dir():
        return {}
    import skimage.io

    return {path.stem: to_luminance(skimage.io.imread(path))
            for path in sorted(folder.iterdir()) if path.suffix.lower() in IMAGE_SUFFIXES}


def random_patches(images: list[torch.Tensor], size: int, count: int, *,
                   generator: torch.Generator) -> torch.Tensor:
    """`count` random `size` x `size` crops, images drawn uniformly: shape (count, 1, size, size)."""
    if not images:
        raise ValueError("random_patches: no images given")
    for image in images:
        if image.ndim != 2 or min(image.shape) < size:
            raise ValueError(f"random_patches: every image must be 2-D and at least {size} "
                             f"pixels on each side, got {tuple(image.shape)}")
    which = torch.randint(len(images), (count,), generator=generator)
    patches = []
    for k in which.tolist():
        height, width = images[k].shape
        i = int(torch.randint(height - size + 1, (1,), generator=generator))
        j = int(torch.randint(width - size + 1, (1,), generator=generator))
        patches.append(images[k][i:i + size, j:j + size])
    return torch.stack(patches).unsqueeze(1)  # (count, 1, size, size)


def circular_blur(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """A x: convolution with `kernel` (kh, kw, odd sides), periodic boundary; x is (B, 1, H, W)."""
    kh, kw = kernel.shape
    if kh % 2 == 0 or kw % 2 == 0:
        raise ValueError(f"circular_blur: kernel sides must be odd, got {tuple(kernel.shape)}")
    padded = F.pad(x, (kw // 2, kw // 2, kh // 2, kh // 2), mode="circular")
    # conv2d computes a correlation; flipping the kernel makes it a convolution
    weight = kernel.flip(0, 1).reshape(1, 1, kh, kw).to(x)
    return F.conv2d(padded, weight)


def circular_blur_adjoint(y: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """A^T y for `circular_blur`: correlation with the kernel, i.e. convolution with it flipped."""
    return circular_blur(y, kernel.flip(0, 1))


def downsample(x: torch.Tensor, factor: int) -> torch.Tensor:
    """S x: the mean of each `factor` x `factor` block, (B, C, H, W) -> (B, C, H/f, W/f)."""
    return F.avg_pool2d(x, factor)


def downsample_adjoint(y: torch.Tensor, factor: int) -> torch.Tensor:
    """S^T y: each value copied to its block and divided by factor^2."""
    return y.repeat_interleave(factor, dim=-2).repeat_interleave(factor, dim=-1) / factor**2


def gaussian_kernel(std: float, radius: int | None = None) -> torch.Tensor:
    """A normalized (2r+1, 2r+1) Gaussian kernel in float64, r = ceil(3 std) by default."""
    radius = int(np.ceil(3 * std)) if radius is None else radius
    t = torch.arange(-radius, radius + 1, dtype=torch.float64)
    g = torch.exp(-t**2 / (2 * std**2))
    kernel = torch.outer(g, g)
    return kernel / kernel.sum()
