"""helpers.seed: the same seed gives the same numbers on the CPU."""

import random

import numpy as np
import pytest
import torch

from helpers.seed import seed_everything


def _draw(generator):
    return (random.random(), np.random.rand(3), torch.randn(4), torch.randn(4, generator=generator))


def test_same_seed_same_numbers():
    a = _draw(seed_everything(123))
    b = _draw(seed_everything(123))
    assert a[0] == b[0]
    np.testing.assert_array_equal(a[1], b[1])
    torch.testing.assert_close(a[2], b[2], rtol=0, atol=0)
    torch.testing.assert_close(a[3], b[3], rtol=0, atol=0)


def test_different_seed_different_numbers():
    a = _draw(seed_everything(1))
    b = _draw(seed_everything(2))
    assert not torch.equal(a[2], b[2])
    assert a[0] != b[0]


def test_returned_generator_is_independent_of_the_global_stream():
    generator = seed_everything(7)
    torch.randn(10)  # consuming the global stream must not move the returned generator
    expected = torch.randn(3, generator=torch.Generator().manual_seed(7))
    torch.testing.assert_close(torch.randn(3, generator=generator), expected, rtol=0, atol=0)


@pytest.mark.parametrize("bad", [-1, 2**32, 1.5, "0", True])
def test_bad_seed_is_rejected(bad):
    with pytest.raises(ValueError, match="seed must be an integer"):
        seed_everything(bad)
