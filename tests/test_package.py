"""The helpers package: importing any module has no side effects (checked in a fresh interpreter)."""

import subprocess
import sys
from pathlib import Path

MODULES = sorted(p.stem for p in (Path(__file__).resolve().parents[1] / "src" / "helpers").glob("*.py"))

# One fresh interpreter imports the modules one by one and compares the global state before and after
# each. A module imported earlier through another one has its side effects reported under that one.
PROBE = """
import importlib, os, sys, torch, matplotlib as mpl

def state():
    return (dict(mpl.rcParams), torch.get_rng_state(), torch.get_default_dtype(), dict(os.environ),
            sorted(os.listdir('.')), torch.get_num_threads())

names = ("matplotlib rcParams", "torch RNG state", "default dtype", "environment", "files in cwd", "threads")
for name in sys.argv[1:]:
    before = state()
    module = importlib.import_module(name)
    after = state()
    changed = [n for n, b, a in zip(names, before, after) if not (torch.equal(b, a) if torch.is_tensor(b) else b == a)]
    if not (module.__doc__ or "").strip():
        changed.append("no module docstring")
    print(f"{name}: {','.join(changed) or 'ok'}")
"""


def probe(modules, cwd, env=None):
    proc = subprocess.run([sys.executable, "-c", PROBE, *modules], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout.strip().splitlines()


def test_importing_any_helpers_module_changes_nothing(tmp_path):
    names = ["helpers" if m == "__init__" else f"helpers.{m}" for m in MODULES]
    lines = probe(names, tmp_path)
    assert lines == [f"{name}: ok" for name in names]


def test_the_probe_can_fail(tmp_path):
    """The probe sees a module that does change global state."""
    (tmp_path / "lib").mkdir()
    (tmp_path / "run").mkdir()
    (tmp_path / "lib" / "bad_module.py").write_text('"""Bad."""\nimport torch\ntorch.manual_seed(1)\n')
    lines = probe(["bad_module"], tmp_path / "run", env={"PYTHONPATH": str(tmp_path / "lib"), "PATH": "/usr/bin"})
    assert lines == ["bad_module: torch RNG state"]
