"""The provenance note every executed lecture shows near its top; introduced in "Optimization and SGD"."""

from __future__ import annotations

import datetime as dt
import html
import platform
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

from helpers import __version__
from helpers.config import BookConfig


@dataclass(frozen=True)
class Provenance:
    """What produced a page's outputs: profile, device, versions, commit and date."""

    profile: str
    data: str
    device: str
    torch: str
    python: str
    helpers: str
    commit: str
    date: str

    def as_text(self) -> str:
        """One line of plain text, for logs and notebooks without HTML."""
        return (
            f"Executed with profile '{self.profile}' ({self.data} data) on {self.device}; PyTorch {self.torch}, "
            f"Python {self.python}, helpers {self.helpers}; commit {self.commit}; {self.date}."
        )

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th>{html.escape(key)}</th><td><code>{html.escape(str(value))}</code></td></tr>"
            for key, value in asdict(self).items()
        )
        warning = ""
        if self.data.startswith("offline"):
            warning += (
                "<p><strong>Offline data:</strong> datasets missing on this machine are replaced "
                "by labelled stand-ins; every output names the data it used.</p>"
            )
        if self.profile == "quick":
            warning += (
                "<p><strong>Quick profile:</strong> small data and few steps, so that the page "
                "runs in seconds on a CPU. Its numbers show that the code works; they are not "
                "results.</p>"
            )
        return (
            '<div class="provenance admonition note"><p class="admonition-title">'
            f"How this page was executed</p>{warning}<table>{rows}</table></div>"
        )

    def __repr__(self) -> str:
        return self.as_text()


def git_commit(cwd: str | Path | None = None) -> str:
    """The commit checked out at `cwd` (with "-dirty" for uncommitted changes to tracked files),
    or "unknown" outside a git repository."""
    try:
        def git(*args: str) -> str:
            return subprocess.run(
                ["git", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=10
            ).stdout.strip()

        commit = git("rev-parse", "--short=12", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{commit}-dirty" if dirty else commit


def provenance(device, config: BookConfig) -> Provenance:
    """Collect the provenance of the current run (shown by displaying the returned object).

    `device` is a torch.device or its name; the profile and commit come from `config`.
    """
    import torch  # here, not at the top: the build imports git_commit without paying for torch

    from helpers.device import device_name

    return Provenance(
        profile=config.profile,
        data="offline: real data where present, else labelled stand-ins" if config.offline else "online",
        device=device_name(device),
        torch=torch.__version__,
        python=platform.python_version(),
        helpers=__version__,
        commit=config.commit or "not recorded",
        date=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    )
