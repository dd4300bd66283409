"""Grade submitted notebooks on the CPU: per-question points as JSON plus a readable summary.

Each submission runs in its own sandbox (sandbox.py: bubblewrap, no network, a read-only
view of only the Python environment and the offline data, rlimits). The tests never run
there: they run here, in the grader's own process, and call the student's functions across
the sandbox wall, sending their arguments in and getting plain data back (wire.py). So the
verdict, every reference value and every comparison is computed by code the submission
cannot reach.
"""

from __future__ import annotations

import builtins
import contextlib
import csv
import io
import json
import os
import re
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from tools.homework import wire
from tools.homework.derive import SPEC_FORMAT, autograder_spec
from tools.homework.sandbox import (
    GIB,
    Sandbox,
    SandboxExitedError,
    SandboxLimits,
    SandboxUnavailableError,
    check_available,
)
from tools.homework.source import HomeworkError, read_assignment

ROOT = Path(__file__).resolve().parents[2]
TEST_COPY = re.compile(r"^\s*#\s*TEST\b")
MAX_SUBMISSION_BYTES = 50_000_000
MAX_RESTARTS = 3
STARTUP = 60.0  # seconds a fresh sandbox gets to say it is ready

__all__ = ["Limits", "SandboxUnavailableError", "check_available", "grade_submission", "load_spec", "summary",
           "write_results"]


@dataclass(frozen=True)
class Limits:
    """The limits of one submission: wall-clock time, and what its sandbox may use."""

    time_limit: float = 120.0
    cell_timeout: float = 60.0
    grace: float = 5.0  # seconds an interrupted cell or test gets to stop before its sandbox is killed
    memory: int = 4 * GIB  # bytes, per process and for the whole sandbox
    processes: int = 64  # processes and threads in the sandbox
    file_size: int = 64 * 2**20  # bytes per file written
    disk: int = 256 * 2**20  # bytes of each private tmpfs (the working folder, /tmp)
    sandbox: bool = True  # False only with --unsafe-no-sandbox: the submission runs unconfined
    sandbox_limits: SandboxLimits = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        cpu = 2 * self.time_limit + 30  # CPU seconds per process: a bound for threads, the wall clock is the limit
        object.__setattr__(self, "sandbox_limits", SandboxLimits(memory=self.memory, cpu_time=cpu,
                                                                 processes=self.processes, file_size=self.file_size,
                                                                 disk=self.disk))


def load_spec(path: str | Path) -> dict:
    """The autograder spec from a source (.md), a derived tests.json or a derive output folder."""
    path = Path(path)
    if path.is_dir():
        path = path / "autograder" / "tests.json"
    if path.suffix == ".md":
        return autograder_spec(read_assignment(path))
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise HomeworkError(path, 1, f"is not an autograder tests file: {err}") from None
    if not isinstance(spec, dict) or spec.get("format") != SPEC_FORMAT:
        raise HomeworkError(path, 1, f"is an autograder tests file of another format (not {SPEC_FORMAT}): "
                            "derive it again from its source")
    return spec

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


class Interrupted(BaseException):
    """A cell or test ran past its timeout and was interrupted (killed=True: its sandbox too)."""

    def __init__(self, killed: bool):
        super().__init__(killed)
        self.killed = killed


class TimeLimit(BaseException):
    """The submission ran past its time limit; its sandbox is gone."""


class SandboxDied(BaseException):
    """The sandbox ended while a cell or test used it (a BaseException, so that no test can catch it)."""


class SandboxStartError(Exception):
    """A fresh sandbox did not start."""


class RemoteError(Exception):
    """The student's function raised: its exception's name and message, as text."""

    ename = "Exception"
    evalue = ""


def remote_error(ename: object, evalue: object) -> RemoteError:
    """A RemoteError that is also the builtin exception it names (so `except ValueError` in a test works)."""
    ename, evalue = str(ename)[:100], str(evalue)[:2000]
    base = getattr(builtins, ename, None) if ename.isidentifier() else None
    if not (isinstance(base, type) and issubclass(base, Exception)):
        base = Exception
    try:
        err = type(ename if ename.isidentifier() else "RemoteError", (RemoteError, base), {})(evalue)
    except Exception:
        err = RemoteError(evalue)
    err.ename, err.evalue = ename, evalue
    return err


def timeout_message(err: Interrupted, timeout: float) -> str:
    """What to report for a cell or test stopped at its time limit."""
    if err.killed:
        return f"stopped after {timeout:.0f} s (ignored the interrupt; kernel restarted)"
    return f"stopped after {timeout:.0f} s without finishing"


def limit_hint(message: str, limits: Limits) -> str:
    """The message, with which limit it ran into where it shows."""
    hints = [(("can't allocate memory", "MemoryError", "Cannot allocate memory", "bad_alloc"),
              f"the memory limit is {limits.memory / GIB:g} GiB"),
             (("Resource temporarily unavailable", "BlockingIOError", "can't start new thread"),
              f"the limit is {limits.processes} processes and threads"),
             (("File too large",), f"the limit is {limits.file_size // 2**20} MiB per file"),
             (("No space left on device",), f"the working folder and /tmp hold {limits.disk // 2**20} MiB each")]
    for needles, hint in hints:
        if any(n in message for n in needles):
            return f"{message} ({hint})"
    return message


def describe(err: BaseException, label: str) -> str:
    """'Name (line N of the test): value' for an exception raised while a test ran."""
    lines = [frame.lineno for frame in traceback.extract_tb(err.__traceback__) if frame.filename == label]
    message = getattr(err, "ename", None) or type(err).__name__
    if lines:
        message += f" (line {lines[-1]} of the test)"
    value = err.evalue if isinstance(err, RemoteError) else str(err)
    if value:
        message += f": {value}"
    return message[:500]


class Grading:
    """The student's cells in a sandbox (restarted without the culprit when it dies), then the tests here."""

    def __init__(self, spec: dict, cells: list[str], limits: Limits, workdir: Path):
        self.spec, self.cells, self.limits, self.workdir = spec, cells, limits, workdir
        self.deadline = time.monotonic() + limits.time_limit
        self.events: list[dict] = []
        self.skip: set[int] = set()  # student cells that killed or hung the sandbox
        self.recorded: set[int] = set()
        self.restarts = 0
        self.box: Sandbox | None = None
        self.prelude = compile(spec.get("prelude", ""), "<prelude>", "exec")

    def emit(self, event: str, **fields) -> None:
        self.events.append({"event": event, **fields})

    def budget(self) -> float:
        """Seconds the next cell or test may take: the cell timeout, or what is left of the time limit."""
        return min(self.limits.cell_timeout, self.deadline - time.monotonic())

    # ------------------------------------------------------------ the sandbox

    def start(self) -> None:
        limits = self.limits.sandbox_limits
        if not self.limits.sandbox:  # per-user process limits would count the TA's own processes
            limits = SandboxLimits(memory=limits.memory, cpu_time=limits.cpu_time, processes=0,
                                   file_size=limits.file_size, disk=limits.disk)
        home = self.workdir / "home"
        home.mkdir(exist_ok=True)
        self.box = Sandbox(limits, self.workdir / "sandbox.log", mini_data_root(), self.limits.sandbox, home)
        try:
            ready, _ = self.box.receive(time.monotonic() + STARTUP)
        except (SandboxExitedError, wire.DeadlineError, wire.WireError) as err:
            tail = self.box.log_tail()
            self.stop()
            raise SandboxStartError(f"the sandbox did not start ({err or 'no answer'}): {tail}") from None
        if ready.get("op") != "ready":
            self.stop()
            raise SandboxStartError("the sandbox did not start: it sent something else first")

    def stop(self) -> None:
        if self.box is not None:
            self.box.close()
            self.box = None

    def exchange(self, message: dict, buffers: list[bytes], deadline: float, callables: dict | None) -> tuple:
        """Send a request and return its reply, running the call-backs it asks for on the way."""
        if self.box is None:
            raise SandboxDied("the kernel died earlier in this test")
        self.box.send(message, buffers, deadline)
        while True:
            reply, data = self.box.receive(deadline)
            if reply.get("op") != "callback":
                return reply, data
            self.callback(reply, data, deadline, callables)

    def request(self, message: dict, buffers: list[bytes], deadline: float, callables: dict | None = None) -> tuple:
        """`exchange`, with the timeout, the time limit and the death of the sandbox turned into exceptions."""
        try:
            return self.exchange(message, buffers, deadline, callables)
        except wire.DeadlineError:
            pass
        except SandboxExitedError as err:
            self.stop()
            raise SandboxDied(str(err)) from None
        except wire.WireError as err:
            self.stop()
            raise SandboxDied(f"the submission broke the grader's protocol ({err}); the kernel was restarted") from None
        if deadline >= self.deadline - 1e-3:  # the time limit: nothing more will run
            self.stop()
            raise TimeLimit()
        self.box.interrupt()
        end = time.monotonic() + self.limits.grace
        try:
            while True:
                reply, _ = self.box.receive(end)
                if reply.get("op") != "callback":
                    raise Interrupted(killed=False)
                self.box.send({"op": "raise", "message": "interrupted"}, deadline=end)
        except (wire.DeadlineError, wire.WireError, SandboxExitedError):
            self.stop()
            raise Interrupted(killed=True) from None

    def callback(self, message: dict, data: list[bytes], deadline: float, callables: dict | None) -> None:
        """Run a function of the test's that the student's code called, and send back its result."""
        try:
            decode = wire.Decoder(data)
            args, kwargs = decode(message.get("args")), decode(message.get("kwargs"))
            function = (callables or {}).get(message.get("id"))
            if function is None or type(args) is not list or type(kwargs) is not dict:
                raise wire.WireError("a call back that the test did not offer")
            encode = wire.Encoder(callables)
            value = encode(function(*args, **kwargs))
        except Exception as err:  # the student's code gets the exception, as text
            self.box.send({"op": "raise", "message": f"{type(err).__name__}: {err}"[:2000]}, deadline=deadline)
            return
        self.box.send({"op": "return", "value": value}, encode.buffers, deadline)

    # ------------------------------------------------------------ cells

    def run_cell(self, source: str) -> tuple[str, str]:
        """Run one of the student's cells: (ok|error|timeout|died, message)."""
        timeout = self.budget()
        try:
            reply, _ = self.request({"op": "cell", "source": source}, [], time.monotonic() + timeout)
        except Interrupted as err:
            return "timeout", timeout_message(err, timeout)
        except SandboxDied as err:
            return "died", str(err)
        if reply.get("status") == "ok":
            return "ok", ""
        message = str(reply.get("ename", "Error"))[:100]
        if reply.get("evalue"):
            message += f": {str(reply['evalue'])}"
        return "error", limit_hint(message[:500], self.limits)

    # ------------------------------------------------------------ tests

    def call(self, name: str, args: tuple, kwargs: dict, deadline: float, callables: dict):
        """Call the student's function `name` in the sandbox; its result comes back as plain data."""
        encode = wire.Encoder(callables)
        message = {"op": "call", "name": name, "args": encode(list(args)), "kwargs": encode(dict(kwargs))}
        reply, data = self.request(message, encode.buffers, deadline, callables)
        if reply.get("status") != "ok":
            raise remote_error(reply.get("ename", "Error"), limit_hint(str(reply.get("evalue", "")), self.limits))
        decode = wire.Decoder(data)
        value = decode(reply.get("value"))
        mutated = reply.get("mutated") or {}
        if type(mutated) is not dict:
            raise wire.WireError("bad list of changed arguments")
        for key, item in mutated.items():
            index = int(key) if key.isdigit() else -1
            if not 0 <= index < len(encode.objects):
                raise wire.WireError("a changed argument that was not sent")
            copy_back(encode.objects[index], decode(item))
        return value

    def namespace(self, test: dict, deadline: float) -> dict:
        """The test's globals: the prelude, and the student's names it uses (functions as proxies)."""
        ns: dict = {"__name__": "__test__", "__builtins__": builtins}
        exec(self.prelude, ns)
        uses = [str(name) for name in test.get("uses", [])]
        if not uses:
            return ns
        reply, data = self.request({"op": "resolve", "names": uses}, [], deadline)
        names = reply.get("names")
        if reply.get("status") != "ok" or type(names) is not dict:
            raise remote_error(reply.get("ename", "Error"), reply.get("evalue", "the names could not be read"))
        decode, callables = wire.Decoder(data), {}
        for name in uses:
            info = names.get(name)
            kind = info.get("kind") if type(info) is dict else None
            if kind == "callable":
                ns[name] = self.proxy(name, deadline, callables)
            elif kind == "value":
                ns[name] = decode(info.get("value"))
            elif kind == "error":
                raise TypeError(str(info.get("message"))[:500])
            # missing: left out, so that the test fails with a NameError where it uses it
        return ns

    def proxy(self, name: str, deadline: float, callables: dict):
        """A stand-in for the student's function: calls it across the sandbox."""
        def remote(*args, **kwargs):
            return self.call(name, args, kwargs, deadline, callables)

        remote.__name__ = remote.__qualname__ = name
        return remote

    def run_test(self, test: dict) -> tuple[str, str]:
        """Run one test here: (passed|failed|timeout|died, message)."""
        timeout = self.budget()
        deadline = time.monotonic() + timeout
        label = f"<test {test['question']} ({test['visibility']})>"
        try:
            ns = self.namespace(test, deadline)
            exec(compile(test["source"], label, "exec"), ns)
        except Interrupted as err:
            return "timeout", timeout_message(err, timeout)
        except SandboxDied as err:
            return "died", str(err)
        except Exception as err:
            return "failed", describe(err, label)
        return "passed", ""

    # ------------------------------------------------------------ the whole submission

    def restart(self) -> str:
        """Stop the sandbox; return why grading stops if it may not be restarted, else ''."""
        self.stop()
        self.restarts += 1
        return f"the kernel had to be restarted more than {MAX_RESTARTS} times" if self.restarts > MAX_RESTARTS else ""

    def prepare(self) -> str:
        """Start a sandbox and run the student's cells; return '' or why grading stops."""
        while True:
            if self.budget() <= 0:
                return "the time limit was reached"
            self.start()
            crashed = self._run_cells()
            if crashed is None:
                return ""
            if crashed == "time":
                return "the time limit was reached"
            stop = self.restart()
            if stop:
                return stop

    def _run_cells(self) -> str | None:
        """Run the cells not skipped: None when all ran, "crash" when the sandbox must restart, "time"."""
        for i, source in enumerate(self.cells):
            if i in self.skip:
                continue
            if self.budget() <= 0:
                return "time"
            status, message = self.run_cell(source)
            if i not in self.recorded:
                self.recorded.add(i)
                self.emit("cell", index=i, status=status, message=message)
            if self.box is None:
                self.skip.add(i)
                return "crash"
        return None

    def run_tests(self) -> str:
        """Run each test; return '' or why grading stopped before the last one."""
        for j, test in enumerate(self.spec["tests"]):
            if self.budget() <= 0:
                return "the time limit was reached"
            status, message = self.run_test(test)
            self.emit("test", index=j, status=status, message=message)
            if self.box is None:
                stop = self.restart() or self.prepare()
                if stop:
                    return stop
        return ""

    def run(self) -> tuple[str, str]:
        """Grade: (why grading stopped early or '', 'error' when the sandbox could not start)."""
        try:
            return self.prepare() or self.run_tests(), ""
        except TimeLimit:
            return f"the submission ran past the time limit ({self.limits.time_limit:g} s) and was stopped", ""
        except SandboxStartError as err:
            return str(err), "error"
        finally:
            self.stop()


def copy_back(original, changed) -> None:
    """Apply to an argument of the test's the in-place change the student's function made to its copy."""
    torch = sys.modules["torch"]
    if isinstance(original, torch.Tensor) and isinstance(changed, torch.Tensor):
        with torch.no_grad():
            if original.shape == changed.shape and original.dtype == changed.dtype:
                original.copy_(changed)
            else:
                original.data = changed
    elif isinstance(original, torch.Generator) and isinstance(changed, torch.Generator):
        original.set_state(changed.get_state())
    else:
        raise wire.WireError("a changed argument of another kind")


@contextlib.contextmanager
def grading_environment():
    """The configuration the tests' given code reads through `helpers.config` (the assignments'
    `load_mnist`, for one): the quick profile and the offline mini data, as inside the sandbox."""
    wanted = {"BOOK_PROFILE": "quick"}
    if mini_data_root().exists():
        wanted["BOOK_MINI_DATA_ROOT"] = str(mini_data_root())
    saved = {key: os.environ.get(key) for key in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def grade_submission(spec: dict, submission: str | Path, limits: Limits = Limits()) -> dict:
    """Grade one submitted notebook against `spec`; never raises for a bad submission.

    Raises SandboxUnavailableError when bubblewrap cannot run here, unless `limits.sandbox` is False.
    """
    with grading_environment():
        return _grade_submission(spec, submission, limits)


def _grade_submission(spec: dict, submission: str | Path, limits: Limits) -> dict:
    if limits.sandbox:
        check_available()
    submission = Path(submission)
    start = time.monotonic()
    result = {"assignment": spec["assignment"], "submission": submission.name, "status": "graded",
              "score": 0, "max_score": _total(t["points"] for t in spec["tests"]), "questions": {},
              "tests": [], "problems": [], "written_answers": spec["written_answers"],
              "time_limit_s": limits.time_limit, "sandboxed": limits.sandbox}
    cells, unreadable = read_submission(submission)
    events: list[dict] = []
    stop = unreadable
    if unreadable:
        result["status"] = "invalid"
    else:
        result["problems"] += missing_cells(spec, cells)
        numbered = student_code(cells)
        with tempfile.TemporaryDirectory(prefix="grade-") as tmp:
            grading = Grading(spec, [code for _, code in numbered], limits, Path(tmp))
            stop, status = grading.run()
            events = grading.events
        if status:
            result["status"] = status
        elif "time limit" in stop:
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
