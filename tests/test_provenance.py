"""helpers.provenance: the note that says how a page was executed."""

import subprocess

import torch

from helpers import provenance as prov
from helpers.config import BookConfig


def test_note_states_profile_device_versions_commit_and_date():
    note = prov.provenance("cpu", BookConfig(profile="quick", commit="abc123def456"))
    assert note.profile == "quick"
    assert note.device.startswith("cpu")
    assert note.torch == torch.__version__
    assert note.commit == "abc123def456"
    html = note._repr_html_()
    for text in ("quick", "cpu", torch.__version__, "abc123def456", note.date, "not results"):
        assert text in html
    assert "abc123def456" in repr(note)
    assert prov.provenance("cpu", BookConfig(profile="quick")).commit == "not recorded"


def test_full_profile_note_has_no_quick_warning_and_names_offline_data():
    online = prov.provenance("cpu", BookConfig(profile="full"))._repr_html_()
    assert "not results" not in online and "stand-in" not in online
    offline = prov.provenance("cpu", BookConfig(profile="full", data_mode="offline"))
    assert "stand-ins" in offline._repr_html_() and "offline" in offline.as_text()


def git(repo, *args):
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


def test_commit_from_git_is_the_checked_out_commit_and_says_dirty(tmp_path):
    git(tmp_path, "init", "-q")
    (tmp_path / "a.txt").write_text("one\n")
    git(tmp_path, "add", "a.txt")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "first")
    head = git(tmp_path, "rev-parse", "--short=12", "HEAD")
    assert len(head) == 12 and prov.git_commit(tmp_path) == head
    (tmp_path / "a.txt").write_text("two\n")
    assert prov.git_commit(tmp_path) == f"{head}-dirty"


def test_commit_is_unknown_outside_a_repository(tmp_path):
    assert prov.git_commit(tmp_path) == "unknown"


def test_html_is_escaped():
    assert "<script>" not in prov.provenance("cpu", BookConfig(commit="<script>"))._repr_html_()
