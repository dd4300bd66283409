"""Hostile submissions: each is graded in a sandbox it cannot leave, and cannot change its own verdict.

Every fixture bounds itself (a fork bomb stops at 200 processes and 10 s, a memory bomb at
8 GiB, a loop at 60 s), so that a broken sandbox fails a test instead of taking the machine down.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import time

import nbformat
import pytest
from test_homework_grade import FAST, GOOD, TINY

from tools.homework.derive import derive
from tools.homework.grade import Limits, grade_submission, load_spec, summary

pytestmark = pytest.mark.slow  # each grading starts sandboxes and interpreters

HW1 = "hw1-gradients-sgd"

# Every answer wrong, and the checker patched every way a cell can reach it.
CHEAT = '''import torch
import torch.testing

torch.testing.assert_close = lambda *args, **kwargs: None
torch.allclose = lambda *args, **kwargs: True
torch.equal = lambda *args, **kwargs: True
torch.Tensor.__eq__ = lambda self, other: True
torch.Tensor.__lt__ = lambda self, other: True
torch.Tensor.__gt__ = lambda self, other: True
torch.linalg.norm = lambda *args, **kwargs: 0.0
grad_by_hand = None


def grad_quadratic(A, b, w):
    return torch.zeros_like(w)


def gradient_descent(grad_fn, w0, lr, num_steps):
    return torch.zeros_like(w0)


def critical_step_size(A):
    return 0.0


def per_sample_grad(X, y, w, i):
    return torch.zeros_like(w)


def sgd(X, y, w0, lr, num_steps, generator):
    return None
'''

LIAR = '''import torch


class Liar(int):
    def __eq__(self, other):
        return True

    __hash__ = int.__hash__


class LyingTensor(torch.Tensor):
    def __eq__(self, other):
        return torch.ones_like(other, dtype=torch.bool)


def double(x):
    return Liar(0)


def triple(x):
    return torch.zeros(()).as_subclass(LyingTensor)
'''


@pytest.fixture(scope="module")
def hw1(root, tmp_path_factory):
    out = tmp_path_factory.mktemp("hw1")
    paths = derive(root / "homework" / f"{HW1}.md", out)
    return load_spec(root / "homework" / f"{HW1}.md"), nbformat.read(paths["student"], as_version=4), out


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-hostile")
    source = folder / "tiny.md"
    source.write_text(TINY, encoding="utf-8")
    paths = derive(source, folder / "out")
    return load_spec(source), nbformat.read(paths["student"], as_version=4), folder


def notebook(student, cells: list[str]) -> nbformat.NotebookNode:
    """The student notebook with `cells` in place of its answer cell."""
    nb = copy.deepcopy(student)
    answer = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "NotImplementedError" in c.source)
    new = [nbformat.v4.new_code_cell(code) for code in cells]
    new[0].id = nb.cells[answer].id  # so that it is not reported as deleted
    nb.cells[answer:answer + 1] = new
    return nb


def submit(tiny, name: str, cells: list[str], limits: Limits = FAST) -> dict:
    spec, student, folder = tiny
    path = folder / f"{name}.ipynb"
    nbformat.write(notebook(student, cells), path)
    return grade_submission(spec, path, limits)


def sandbox_processes() -> list[str]:
    """Command lines of running sandboxed workers (none should outlive their grading)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "/grader/worker.py" in cmd and "bwrap" not in cmd:
            found.append(cmd[:80])
    return found


# ---------------------------------------------------------------- verdicts out of reach


def test_a_patched_checker_earns_nothing(hw1):
    spec, student, folder = hw1
    nb = copy.deepcopy(student)
    nb.cells.append(nbformat.v4.new_code_cell(CHEAT))
    nbformat.write(nb, folder / "cheat.ipynb")
    result = grade_submission(spec, folder / "cheat.ipynb")
    assert result["status"] == "graded" and result["max_score"] == 15
    assert result["score"] == 0, summary(result)
    assert all(t["status"] == "failed" for t in result["tests"]), summary(result)


def test_objects_that_lie_about_equality_earn_nothing(tiny):
    result = submit(tiny, "liar", [LIAR])
    assert result["status"] == "graded" and result["score"] == 0, summary(result)


def test_patched_builtins_change_nothing(tiny):
    patch = ("import builtins\nbuiltins.AssertionError = type('Fake', (Exception,), {})\n"
             "builtins.isinstance = lambda *args: True\nbuiltins.abs = lambda x: 0\n")
    result = submit(tiny, "patched-builtins", [GOOD.replace("return 3 * x", "return 0"), patch])
    assert result["status"] == "graded" and result["score"] == 3, summary(result)


# ---------------------------------------------------------------- what the sandbox lets it see and touch


def test_it_cannot_read_the_solutions_the_tests_or_other_submissions(tiny, root):
    spec, student, folder = tiny
    nbformat.write(student, folder / "another-student.ipynb")
    secrets = [root / "homework" / f"{HW1}.md", root / "homework", root / ".git", root / "tools",
               folder / "tiny.md", folder / "out" / "autograder" / "tests.json", folder / "another-student.ipynb",
               root / "_build" / "homework"]
    probe = (f"import os\nsecrets = {[str(p) for p in secrets]!r}\n"
             "leaks = [p for p in secrets if os.path.exists(p)]\n"
             "if leaks:\n    raise RuntimeError(f'LEAK {leaks}')\n"
             "exec(open(secrets[4]).read())\n")
    result = submit(tiny, "reader", [probe])
    assert result["score"] == 0, summary(result)
    assert not any("LEAK" in p for p in result["problems"]), result["problems"]
    assert any("FileNotFoundError" in p for p in result["problems"]), result["problems"]


def test_it_cannot_write_outside_its_folder(tiny, root):
    spec, student, folder = tiny
    import torch  # noqa: F401  (its site-packages folder, below)

    site = os.path.dirname(os.path.dirname(sys.modules["torch"].__file__))
    targets = [folder / "pwned.txt", root / "pwned.txt", folder.parent / "pwned.txt", os.path.join(site, "pwned.py")]
    writer = (f"import os\ntargets = {[str(p) for p in targets]!r}\nerrors = []\n"
              "for target in targets:\n"
              "    try:\n        open(target, 'w').write('x')\n"
              "    except OSError as err:\n        errors.append(type(err).__name__)\n"
              "open('mine.txt', 'w').write('in my own folder')\nopen('/tmp/mine.txt', 'w').write('and in /tmp')\n"
              "raise RuntimeError(f'write failures: {len(errors)} of {len(targets)}')\n")
    result = submit(tiny, "writer", [writer, GOOD])
    assert result["score"] == 6, summary(result)
    assert any(f"write failures: {len(targets)} of {len(targets)}" in p for p in result["problems"]), result
    assert not any(os.path.exists(t) for t in targets)


# ---------------------------------------------------------------- limits


def test_a_memory_bomb_is_stopped_by_the_memory_limit(tiny):
    bomb = ("import torch\nchunks = []\n"
            "for _ in range(32):  # 256 MiB at a time, at most 8 GiB\n"
            "    chunks.append(torch.ones(2**26))\n")
    limits = Limits(time_limit=60, cell_timeout=20, memory=2 * 2**30)
    result = submit(tiny, "memory-bomb", [bomb, GOOD], limits)
    assert result["status"] == "graded" and result["score"] == 6, summary(result)
    assert any("can't allocate memory" in p and "memory limit is 2 GiB" in p for p in result["problems"]), result


def test_a_memory_bomb_spread_over_processes_is_stopped(tiny):
    # Each process stays under the per-process limit; together they pass it, and the sandbox is killed.
    bomb = ("import os, time\nimport torch\n"
            "for _ in range(3):  # at most 3 x 1 GiB, for at most 10 s\n"
            "    if os.fork() == 0:\n"
            "        try:\n"
            "            block = torch.ones(2**28)\n"
            "            time.sleep(10)\n"
            "        finally:\n"
            "            os._exit(0)\n"
            "time.sleep(10)\n")
    limits = Limits(time_limit=60, cell_timeout=20, memory=2 * 2**30)
    start = time.monotonic()
    result = submit(tiny, "spread-bomb", [bomb, GOOD], limits)
    assert time.monotonic() - start < 40
    assert result["status"] == "graded" and result["score"] == 6, summary(result)
    assert any("more than the memory limit (2 GiB)" in p for p in result["problems"]), result["problems"]


def test_a_fork_bomb_is_stopped_by_the_process_limit(tiny):
    bomb = ("import os, time\nstart = time.monotonic()\n"
            "for _ in range(200):  # at most 200 processes, each gone after 10 s\n"
            "    if time.monotonic() - start > 10:\n        break\n"
            "    if os.fork() == 0:\n        time.sleep(max(0.0, 10 - (time.monotonic() - start)))\n"
            "        os._exit(0)\n")
    start = time.monotonic()
    result = submit(tiny, "fork-bomb", [bomb, GOOD])
    assert time.monotonic() - start < 30
    assert result["status"] == "graded" and result["score"] == 6, summary(result)
    # RLIMIT_NPROC makes fork fail; where the grader runs as root (exempt from it), the grader's count kills it.
    assert any("BlockingIOError" in p and "64 processes" in p or "more than 64 processes" in p
               for p in result["problems"]), result["problems"]
    assert not sandbox_processes()


def test_an_endless_loop_is_stopped_at_the_time_limit(tiny):
    loop = "import time\nstart = time.monotonic()\nwhile time.monotonic() - start < 60:\n    pass\n"
    start = time.monotonic()
    result = submit(tiny, "loop", [GOOD, loop], Limits(time_limit=5, cell_timeout=30))
    assert time.monotonic() - start < 20
    assert result["status"] == "time-limit" and result["score"] == 0
    assert all(t["status"] == "not run" for t in result["tests"])
    assert "past the time limit (5 s)" in summary(result)
    assert not sandbox_processes()


# ---------------------------------------------------------------- exits and kills


def test_sys_exit_in_a_cell_and_in_a_function(tiny):
    in_cell = submit(tiny, "sys-exit", [GOOD + "\nimport sys\n\nsys.exit(3)\n"])
    assert in_cell["status"] == "graded" and in_cell["score"] == 6
    assert any("raised SystemExit: 3" in p for p in in_cell["problems"]), in_cell["problems"]
    in_function = submit(tiny, "sys-exit-in-test", [GOOD.replace("return 3 * x", "import sys\n    sys.exit(0)")])
    assert in_function["score"] == 3
    assert next(t for t in in_function["tests"] if t["question"] == "q2")["message"].startswith("SystemExit")


def test_killing_its_parent_or_everything_it_can(tiny):
    killer = ("import os, signal\n"
              "for pid in (os.getppid(), 1, -1):\n"
              "    try:\n        os.kill(pid, signal.SIGKILL)\n    except OSError:\n        pass\n")
    result = submit(tiny, "killer", [killer, GOOD])
    assert result["status"] == "graded", summary(result)
    # Whatever the kill reached inside the sandbox, the cells after it ran (again, without it) and were graded.
    assert result["score"] == 6, summary(result)


def test_garbage_on_the_grader_pipes(tiny):
    garbage = ("import os\nfor fd in range(3, 64):\n"
               "    try:\n        os.write(fd, b'\\xff' * 64)\n    except OSError:\n        pass\n")
    result = submit(tiny, "garbage", [GOOD, garbage])
    assert result["status"] == "graded" and result["score"] == 6, summary(result)
    assert any("protocol" in p for p in result["problems"]), result["problems"]


# ---------------------------------------------------------------- no sandbox, no grading


def test_without_bubblewrap_grading_refuses_unless_told_unsafe(tiny, tmp_path, root):
    spec, student, folder = tiny
    nb = notebook(student, [GOOD])
    nbformat.write(nb, tmp_path / "good.ipynb")
    env = dict(os.environ, BOOK_BWRAP=str(tmp_path / "no-bwrap"))
    cmd = [sys.executable, "-m", "tools.homework", "grade", str(folder / "tiny.md"), str(tmp_path / "good.ipynb"),
           "--out", str(tmp_path / "grades")]
    refused = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "bubblewrap" in refused.stderr and "--unsafe-no-sandbox" in refused.stderr
    assert not (tmp_path / "grades").exists()
    unsafe = subprocess.run([*cmd, "--unsafe-no-sandbox"], cwd=root, env=env, capture_output=True, text=True,
                            timeout=120)
    assert unsafe.returncode == 0, unsafe.stderr
    assert "Score: 6 / 6" in unsafe.stdout and "unconfined" in unsafe.stderr
