"""Print the digest that says whether .venv is current: `make env` rebuilds .venv when it differs
from the one in .venv/.installed.

It covers requirements.txt and what pip reads from pyproject.toml (the [build-system] and
[project] tables): a change to a tool's settings there ([tool.*]) needs no new environment.
Standard library only: it runs on the bare Python that creates .venv.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent


def env_hash(root: Path = ROOT) -> str:
    pyproject = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    installed = {key: pyproject.get(key) for key in ("build-system", "project")}
    digest = hashlib.sha256((root / "requirements.txt").read_bytes())
    digest.update(json.dumps(installed, sort_keys=True).encode())
    digest.update(f"python={sys.version_info.major}.{sys.version_info.minor}".encode())
    return digest.hexdigest()


if __name__ == "__main__":
    print(env_hash(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT))
