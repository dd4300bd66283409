"""Grade submitted notebooks on the CPU: per-question points as JSON plus a readable summary."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from tools.homework.derive import autograder_spec
from tools.homework.source import HomeworkError, read_assignment

ROOT = Path(__file__).resolve().parents[2]
TEST_COPY = re.compile(r"^\s*#\s*TEST\b")
MAX_SUBMISSION_BYTES = 50_000_000


@dataclass(frozen=True)
class Limits:
    """Wall-clock limits: the whole submission, and one cell or test within it."""

    time_limit: float = 120.0
    cell_timeout: float = 60.0
    grace: float = 15.0  # beyond the time limit, for the runner to shut its kernel down before it is killed


def load_spec(path: str | Path) -> dict:
    """The autograder spec from a source (.md), a derived tests.json or a derive output folder."""
    path = Path(path)
    if path.is_dir():
        path = path / "autograder" / "tests.json"
    if path.suffix == ".md":
        return autograder_spec(read_assignment(path))
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise HomeworkError(path, 1, f"is not an autograder tests file: {err}") from None


def mini_data_root(root: Path = ROOT) -> Path:
    """The offline mini datasets: $BOOK_MINI_DATA_ROOT, else ../shared/data/mini beside the repository."""
    env = os.environ.get("BOOK_MINI_DATA_ROOT")
    return Path(env) if env else (root.parent / "shared" / "data" / "mini").resolve()


def read_submission(path: Path) -> tuple[list[dict], str]:
    """The cells of a submitted notebook, or ([], why it cannot be graded)."""
    try:
        if path.stat().st_size > MAX_SUBMISSION_BYTES:
            return [], f"the file is larger than {MAX_SUBMISSION_BYTES // 1_000_000} MB"
        text = path.read_text(encoding="utf-8")
        nb = nbformat.reads(text, as_version=nbformat.NO_CONVERT)
        if nb.get("nbformat") != 4:
            nb = nbformat.convert(nb, 4)
    except Exception as err:  # any failure to read means: not a gradable notebook
        return [], f"not a readable Jupyter notebook ({type(err).__name__}: {str(err)[:200]})"
    cells = [c for c in nb.get("cells", []) if isinstance(c, dict)]
    for cell in cells:
        if isinstance(cell.get("source"), list):
            cell["source"] = "".join(cell["source"])
        cell["source"] = cell.get("source") if isinstance(cell.get("source"), str) else ""
    return cells, ""


def student_code(cells: list[dict]) -> list[tuple[int, str]]:
    """(1-based cell number, code) of each code cell the student's notebook runs, its test copies left out."""
    return [(n, c["source"]) for n, c in enumerate(cells, start=1)
            if c.get("cell_type") == "code" and not TEST_COPY.match(c["source"])]


def missing_cells(spec: dict, cells: list[dict]) -> list[str]:
    """Template cells the submission lacks: given cells by their text, answer cells by their id."""
    def norm(text: str) -> str:
        return "\n".join(line.rstrip() for line in text.strip().split("\n"))

    sources = {norm(c["source"]) for c in cells if c.get("cell_type") == "code"}
    ids = {c.get("id") for c in cells}
    has_ids = any(t["id"] in ids for t in spec["template"])
    missing = []
    for n, t in enumerate(spec["template"], start=1):
        first = next((line for line in t["source"].split("\n") if line.strip()), "")[:60]
        if t["role"] == "given" and norm(t["source"]) not in sources:
            missing.append(f"given code cell {n} ({t['id']}, {first!r}) is missing or was edited")
        elif t["role"] == "answer" and has_ids and t["id"] not in ids:
            missing.append(f"answer cell {n} ({t['id']}) is missing (deleted?)")
    return missing


def _kill_group(pgid: int | None) -> None:
    """SIGKILL a process group, if there is one."""
    if not pgid:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def run_job(job: dict, limits: Limits, workdir: Path) -> tuple[list[dict], str]:
    """Run the runner in a subprocess under a hard wall-clock limit; return its events and any failure."""
    job_file, events_file, log_file = workdir / "job.json", workdir / "events.jsonl", workdir / "runner.log"
    job_file.write_text(json.dumps(job), encoding="utf-8")
    env = dict(os.environ)
    env.update(PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
               MPLBACKEND="Agg", CUDA_VISIBLE_DEVICES="", PYTHONHASHSEED="0",
               BOOK_MINI_DATA_ROOT=str(mini_data_root()))
    with log_file.open("w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "tools.homework.runner", str(job_file), str(events_file)],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        failure = ""
        try:
            proc.wait(timeout=limits.time_limit + limits.grace)
        except subprocess.TimeoutExpired:
            _kill_group(proc.pid)
            proc.wait()
            failure = "killed"
    events = _read_events(events_file)
    _kill_group(_running_kernel(events))  # the runner was killed before it could stop its kernel
    if not failure and not any(e["event"] == "done" for e in events):
        tail = log_file.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:]
        failure = f"the grading process failed (exit {proc.returncode}): {' | '.join(tail)}"
    return events, failure


def _read_events(path: Path) -> list[dict]:
    """The runner's events, up to a line cut short when it was killed."""
    events = []
    for line in path.read_text(encoding="utf-8").splitlines() if path.exists() else []:
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            break
    return events


def _running_kernel(events: list[dict]) -> int | None:
    """The process group of a kernel the runner started and did not stop, if any."""
    pgid = None
    for e in events:
        if e["event"] == "kernel":
            pgid = e.get("pgid")
        elif e["event"] == "kernel-stopped":
            pgid = None
    return pgid


def grade_submission(spec: dict, submission: str | Path, limits: Limits = Limits()) -> dict:
    """Grade one submitted notebook against `spec`; never raises for a bad submission."""
    submission = Path(submission)
    start = time.monotonic()
    result = {"assignment": spec["assignment"], "submission": submission.name, "status": "graded",
              "score": 0, "max_score": _total(t["points"] for t in spec["tests"]), "questions": {},
              "tests": [], "problems": [], "written_answers": spec["written_answers"],
              "time_limit_s": limits.time_limit}
    cells, unreadable = read_submission(submission)
    events: list[dict] = []
    stop = unreadable
    if unreadable:
        result["status"] = "invalid"
    else:
        result["problems"] += missing_cells(spec, cells)
        numbered = student_code(cells)
        with tempfile.TemporaryDirectory(prefix="grade-") as tmp:
            workdir = Path(tmp) / "work"
            workdir.mkdir()
            job = {"cells": [code for _, code in numbered], "tests": spec["tests"], "time_limit": limits.time_limit,
                   "cell_timeout": limits.cell_timeout, "nonce": secrets.token_hex(16), "workdir": str(workdir)}
            events, failure = run_job(job, limits, Path(tmp))
        stop = next((e["reason"] for e in events if e["event"] == "stopped"), "")
        if failure == "killed":
            stop = f"the submission ran past the time limit ({limits.time_limit:g} s) and was stopped"
        elif failure:
            stop, result["status"] = failure, "error"
        if "time limit" in stop:
            result["status"] = "time-limit"
        result["problems"] += _cell_problems(events, [n for n, _ in numbered])
    _score(result, spec, events, stop)
    result["elapsed_s"] = round(time.monotonic() - start, 1)
    return result


def _total(points) -> int | float:
    """A sum of points, as an int when it is whole."""
    total = sum(points)
    return int(total) if float(total).is_integer() else round(total, 3)


def _cell_problems(events: list[dict], numbers: list[int]) -> list[str]:
    """One line per submitted cell that raised, timed out or killed the kernel."""
    problems = []
    for e in events:
        if e["event"] == "cell" and e["status"] != "ok":
            what = {"error": "raised", "timeout": "timed out:", "died": "killed the kernel:"}[e["status"]]
            problems.append(f"cell {numbers[e['index']]} of the notebook {what} {e['message']}")
    return problems


def _score(result: dict, spec: dict, events: list[dict], stop: str) -> None:
    """Fill in the per-test and per-question results from the runner's events."""
    outcome = {e["index"]: e for e in events if e["event"] == "test"}
    questions: dict[str, dict] = {}
    for j, test in enumerate(spec["tests"]):
        e = outcome.get(j)
        passed = e is not None and e["status"] == "passed"
        message = "" if passed else e["message"] if e else f"not run: {stop or 'grading stopped'}"
        earned = test["points"] if passed else 0
        result["tests"].append({"question": test["question"], "visibility": test["visibility"],
                                "points": test["points"], "earned": earned,
                                "status": e["status"] if e else "not run", "message": message})
        q = questions.setdefault(test["question"], {"score": 0, "max_score": 0})
        q["score"], q["max_score"] = _total([q["score"], earned]), _total([q["max_score"], test["points"]])
    result["questions"] = questions
    result["score"] = _total(q["score"] for q in questions.values())
    if stop and result["status"] != "invalid":
        result["problems"].append(f"grading stopped: {stop}")
    elif stop:
        result["problems"].append(stop)


def summary(result: dict) -> str:
    """A readable report of one graded submission."""
    out = io.StringIO()
    out.write(f"{result['assignment']} · {result['submission']}\n")
    out.write(f"Score: {result['score']} / {result['max_score']}   (status: {result['status']}, "
              f"{result.get('elapsed_s', 0)} s)\n\n")
    out.write(f"{'question':<10}{'points':>9}   tests\n")
    by_question: dict[str, list[dict]] = {}
    for test in result["tests"]:
        by_question.setdefault(test["question"], []).append(test)
    for question, q in result["questions"].items():
        notes = "; ".join(_test_note(t) for t in by_question[question])
        out.write(f"{question:<10}{q['score']:>4} / {q['max_score']:<3}  {notes}\n")
    if result["problems"]:
        out.write("\nProblems:\n" + "".join(f"  - {p}\n" for p in result["problems"]))
    if result["written_answers"]:
        out.write(f"\nWritten answers: {result['written_answers']}, graded by hand (not included above).\n")
    return out.getvalue()


def _test_note(test: dict) -> str:
    """One test's outcome in a few words."""
    if test["status"] in ("passed", "not run"):
        return f"{test['visibility']} {test['status']}"
    first = test["message"].split("\n")[0]
    return f"{test['visibility']} failed ({first[:90]}{'...' if len(first) > 90 else ''})"


def write_results(results: list[dict], out: Path) -> list[Path]:
    """Write <submission>.json and <submission>.txt per result, and scores.csv for all."""
    out.mkdir(parents=True, exist_ok=True)
    written, seen = [], set()
    for result in results:
        stem = Path(result["submission"]).stem
        while stem in seen:
            stem += "_"
        seen.add(stem)
        (out / f"{stem}.json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        (out / f"{stem}.txt").write_text(summary(result), encoding="utf-8")
        written += [out / f"{stem}.json", out / f"{stem}.txt"]
    questions = sorted({q for r in results for q in r["questions"]}, key=_question_key)
    with (out / "scores.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["submission", "status", "score", "max_score", *questions])
        for r in results:
            writer.writerow([r["submission"], r["status"], r["score"], r["max_score"],
                             *(r["questions"].get(q, {}).get("score", "") for q in questions)])
    return [*written, out / "scores.csv"]


def _question_key(question: str) -> list:
    """Sort q2 before q10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", question)]
