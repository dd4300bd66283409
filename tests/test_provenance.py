"""helpers.provenance: the note that says how a page was executed."""

import torch

from helpers import provenance as prov


def test_note_states_profile_device_versions_commit_and_date(monkeypatch):
    monkeypatch.setenv("BOOK_PROFILE", "quick")
    monkeypatch.setenv(prov.COMMIT_ENV_VAR, "abc123def456")
    note = prov.provenance("cpu")
    assert note.profile == "quick"
    assert note.device.startswith("cpu")
    assert note.torch == torch.__version__
    assert note.commit == "abc123def456"
    html = note._repr_html_()
    for text in ("quick", "cpu", torch.__version__, "abc123def456", note.date, "not results"):
        assert text in html
    assert "abc123def456" in repr(note)


def test_full_profile_note_has_no_quick_warning(monkeypatch):
    monkeypatch.setenv("BOOK_PROFILE", "full")
    assert "not results" not in prov.provenance("cpu")._repr_html_()


def test_commit_from_git_when_not_given(monkeypatch, root):
    monkeypatch.delenv(prov.COMMIT_ENV_VAR, raising=False)
    commit = prov.git_commit(root)
    assert commit == "unknown" or len(commit.split("-")[0]) == 12


def test_commit_is_unknown_outside_a_repository(monkeypatch, tmp_path):
    monkeypatch.delenv(prov.COMMIT_ENV_VAR, raising=False)
    assert prov.git_commit(tmp_path) == "unknown"


def test_html_is_escaped(monkeypatch):
    monkeypatch.setenv(prov.COMMIT_ENV_VAR, "<script>")
    assert "<script>" not in prov.provenance("cpu")._repr_html_()
