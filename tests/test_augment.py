"""helpers.augment: batch flips and crops agree with per-image slicing, and draw from the generator."""

import pytest
import torch
import torch.nn.functional as F

from helpers.augment import (
    Augment,
    AugmentedLoader,
    crop,
    device_generator,
    flip,
    random_crop,
    random_flip,
    random_shift,
)
from helpers.data import TensorLoader


@pytest.fixture
def images():
    return torch.randn(6, 3, 8, 10, generator=torch.Generator().manual_seed(0))  # (B, C, H, W), not square


def test_flip_matches_torch_flip_where_asked(images):
    X = images  # (B, C, H, W)
    which = torch.tensor([True, False, True, False, False, True])
    out = flip(X, which)
    for b in range(len(X)):
        torch.testing.assert_close(out[b], torch.flip(X[b], dims=[-1]) if which[b] else X[b])


def test_random_flip_is_reproducible_and_flips_about_half():
    X = torch.arange(2000.0).view(1000, 1, 1, 2)  # (B, 1, 1, 2): a flip swaps the two pixels
    out = random_flip(X, generator=device_generator("cpu", 0))
    flipped = out[:, 0, 0, 0] != X[:, 0, 0, 0]
    assert 400 < int(flipped.sum()) < 600
    torch.testing.assert_close(out, random_flip(X, generator=device_generator("cpu", 0)))
    torch.testing.assert_close(random_flip(X, generator=device_generator("cpu", 0), p=0.0), X)


def test_crop_matches_slicing_the_padded_images_one_by_one(images):
    X = images  # (B, C, H, W)
    offsets = torch.tensor([[0, 0], [4, 4], [1, 3], [2, 0], [0, 4], [3, 2]])
    for mode in ("constant", "reflect"):
        padded = F.pad(X, (2, 2, 2, 2), mode=mode)  # (B, C, H + 4, W + 4)
        out = crop(X, 2, offsets, mode)
        for b, (i, j) in enumerate(offsets.tolist()):
            torch.testing.assert_close(out[b], padded[b, :, i:i + 8, j:j + 10])


def test_zero_padded_crop_is_a_shift(images):
    X = images  # (B, C, H, W)
    out = crop(X, 2, torch.tensor([[2, 2]] * 6))
    torch.testing.assert_close(out, X)  # the centre window is the image itself
    down_right = crop(X, 2, torch.tensor([[1, 0]] * 6))  # the window starts 1 row up, 2 columns left
    torch.testing.assert_close(down_right[:, :, 1:, 2:], X[:, :, :-1, :-2])
    assert (down_right[:, :, :1] == 0).all() and (down_right[:, :, :, :2] == 0).all()


def test_random_crop_and_shift_keep_shape_and_values(images):
    X = images  # (B, C, H, W)
    g = device_generator("cpu", 1)
    out = random_crop(X, 3, generator=g)
    assert out.shape == X.shape and out.dtype == X.dtype
    shifted = random_shift(X, 2, generator=device_generator("cpu", 1))
    assert shifted.shape == X.shape
    # every nonzero value of a shifted image comes from that image
    for b in range(len(X)):
        values = set(X[b].flatten().tolist())
        assert set(shifted[b][shifted[b] != 0].tolist()) <= values
    torch.testing.assert_close(random_crop(X, 0, generator=g), X)


def test_bad_input_says_what_to_do(images):
    X = images  # (B, C, H, W)
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        random_flip(X[0], generator=device_generator("cpu", 0))
    with pytest.raises(ValueError, match="padding_mode"):
        crop(X, 1, torch.zeros(6, 2, dtype=torch.long), "wrap")
    with pytest.raises(ValueError, match="non-negative"):
        random_crop(X, -1, generator=device_generator("cpu", 0))


def test_augmented_loader_augments_every_batch_freshly(images):
    X = images  # (B, C, H, W)
    y = torch.arange(6)
    loader = AugmentedLoader(TensorLoader(X, y, batch_size=4), Augment(flip_p=1.0, padding=0),
                             device_generator("cpu", 0))
    assert len(loader) == 2
    batches = list(loader)
    torch.testing.assert_close(torch.cat([b[0] for b in batches]), X.flip(-1))
    torch.testing.assert_close(torch.cat([b[1] for b in batches]), y)
    aug = AugmentedLoader(TensorLoader(X, y, batch_size=6), Augment(padding=2), device_generator("cpu", 0))
    first, second = next(iter(aug))[0], next(iter(aug))[0]
    assert not torch.equal(first, second)  # a new draw on every pass
