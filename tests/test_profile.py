"""helpers.profile: choosing the quick or full profile."""

import pytest

from helpers.profile import ENV_VAR, ProfileError, choose, get_profile


@pytest.mark.parametrize("value", ["quick", "full", " Quick ", "FULL"])
def test_explicit_profile_wins_over_hardware(value):
    expected = value.strip().lower()
    assert get_profile({ENV_VAR: value}, cuda_available=True) == expected
    assert get_profile({ENV_VAR: value}, cuda_available=False) == expected


@pytest.mark.parametrize(("cuda", "expected"), [(True, "full"), (False, "quick")])
def test_unset_profile_follows_cuda(cuda, expected):
    assert get_profile({}, cuda_available=cuda) == expected
    assert get_profile({ENV_VAR: ""}, cuda_available=cuda) == expected


def test_unknown_profile_lists_the_valid_ones():
    with pytest.raises(ProfileError, match=r"unknown profile 'fast'.*'quick', 'full'"):
        get_profile({ENV_VAR: "fast"}, cuda_available=False)


def test_choose_picks_by_profile(monkeypatch):
    assert choose(quick=1, full=2, profile="quick") == 1
    assert choose(quick=1, full=2, profile="full") == 2
    monkeypatch.setenv(ENV_VAR, "full")
    assert choose(quick="a", full="b") == "b"
    with pytest.raises(ProfileError):
        choose(quick=1, full=2, profile="medium")
