"""helpers.config: the one place that reads the environment, and the profile choice."""

import ast
from pathlib import Path

import pytest

from helpers.config import BookConfig, ConfigError, book_config
from helpers.profile import ProfileError

HELPERS = Path(__file__).resolve().parents[1] / "src" / "helpers"


def never():
    raise AssertionError("CUDA must not be queried when the profile is given")


@pytest.mark.parametrize("value", ["quick", "full", " Quick ", "FULL"])
def test_explicit_profile_wins_over_hardware(value):
    assert book_config({"BOOK_PROFILE": value}, cuda_available=never).profile == value.strip().lower()


@pytest.mark.parametrize(("cuda", "expected"), [(True, "full"), (False, "quick")])
def test_unset_profile_follows_cuda(cuda, expected):
    assert book_config({}, cuda_available=lambda: cuda).profile == expected
    assert book_config({"BOOK_PROFILE": ""}, cuda_available=lambda: cuda).profile == expected


def test_every_variable_reaches_its_field(tmp_path):
    env = {"BOOK_PROFILE": "full", "BOOK_DATA": "offline", "BOOK_DATA_ROOT": str(tmp_path / "d"),
           "BOOK_MINI_DATA_ROOT": str(tmp_path / "m"), "BOOK_CHECKPOINT_DIR": str(tmp_path / "c"),
           "BOOK_COMMIT": "0123456789ab"}
    config = book_config(env)
    assert config == BookConfig("full", "offline", tmp_path / "d", tmp_path / "m", tmp_path / "c", "0123456789ab")
    assert config.offline and config.checkpoint_path("vgg") == tmp_path / "c" / "full" / "vgg.pt"
    defaults = book_config({"BOOK_PROFILE": "quick"})
    assert defaults == BookConfig(profile="quick") and defaults.mini_root is None and not defaults.offline
    with pytest.raises(AttributeError):
        config.profile = "quick"  # frozen


def test_bad_values_say_what_is_valid():
    with pytest.raises(ProfileError, match=r"unknown profile 'fast'.*'quick', 'full'"):
        book_config({"BOOK_PROFILE": "fast"})
    with pytest.raises(ConfigError, match="BOOK_DATA must be one of online, offline, got 'ofline'"):
        book_config({"BOOK_PROFILE": "quick", "BOOK_DATA": "ofline"})


def test_choose_picks_by_profile():
    assert BookConfig(profile="quick").choose(quick=1, full=2) == 1
    assert BookConfig(profile="full").choose(quick=1, full=2) == 2


def test_only_config_reads_the_environment_and_nothing_guesses_the_layout():
    """No helpers module but config.py touches os.environ/os.getenv, and none uses __file__."""
    offenders = []
    for path in sorted(HELPERS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            reads_env = isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "environb")
            uses_file = isinstance(node, ast.Name) and node.id == "__file__"
            if (reads_env and path.name != "config.py") or uses_file:
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == [], f"environment or layout read outside helpers.config: {offenders}"
