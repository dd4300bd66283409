"""Run a submission's code cells, then each test, in a Jupyter kernel: the child process that `grade` starts.

Usage (by tools.homework.grade only): `python -m tools.homework.runner JOB.json EVENTS.jsonl`.
It appends one JSON line per event to EVENTS, so the parent still knows what ran if it
has to kill this process at the wall-clock limit.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import sys
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

MAX_RESTARTS = 3
KILL_AFTER = 5  # seconds an interrupted cell gets to stop before its kernel is killed
ANSI = re.compile(r"\x1b\[[0-9;]*m")


class Events:
    """Append-only JSON-lines log of what happened, flushed after every line."""

    def __init__(self, path: Path):
        self.file = path.open("a", encoding="utf-8")

    def __call__(self, event: str, **fields) -> None:
        self.file.write(json.dumps({"event": event, **fields}) + "\n")
        self.file.flush()


class Watchdog:
    """Interrupt the kernel after `seconds`, and kill it if it is still busy `KILL_AFTER` seconds later."""

    def __init__(self, pgid: int, seconds: float):
        self.pgid, self.fired = pgid, ""
        self.timers = [threading.Timer(seconds, self._signal, (signal.SIGINT, "interrupted")),
                       threading.Timer(seconds + KILL_AFTER, self._signal, (signal.SIGKILL, "killed"))]

    def _signal(self, signum: int, what: str) -> None:
        """Send `signum` to the kernel's process group and remember that it fired."""
        self.fired = what
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pgid, signum)

    def __enter__(self) -> Watchdog:
        for timer in self.timers:
            timer.daemon = True
            timer.start()
        return self

    def __exit__(self, *exc) -> None:
        for timer in self.timers:
            timer.cancel()


class Kernel:
    """One restartable Jupyter kernel that runs one piece of code at a time."""

    def __init__(self, workdir: Path, emit: Events):
        self.workdir, self.emit = workdir, emit
        self.stack: ExitStack | None = None
        self.healthy = False

    def start(self) -> None:
        """Start a fresh kernel in the work folder."""
        self.nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("")])
        # No nbclient timeout: the Watchdog bounds each cell, so no reply is ever abandoned half-read.
        self.client = NotebookClient(self.nb, kernel_name="python3", allow_errors=True, timeout=None,
                                     shutdown_kernel="immediate", resources={"metadata": {"path": str(self.workdir)}})
        self.stack = ExitStack()
        self.stack.enter_context(self.client.setup_kernel())
        provisioner = self.client.km.provisioner
        self.pgid = getattr(provisioner, "pgid", None) or getattr(provisioner, "pid", None)
        self.emit("kernel", pid=getattr(provisioner, "pid", None), pgid=self.pgid)
        self.healthy = True

    def stop(self) -> None:
        """Shut the kernel down (immediately); never raises."""
        if self.stack is not None:
            try:
                self.stack.close()
            except Exception as err:  # a dead or stuck kernel may fail to shut down cleanly
                self.emit("warning", message=f"kernel shutdown: {err}")
            self.stack = None
            self.emit("kernel-stopped")

    def run(self, source: str, timeout: float) -> tuple[str, str, str]:
        """Execute `source`; return (status, message, stdout), status ok|error|timeout|died."""
        cell = nbformat.v4.new_code_cell(source)
        self.nb.cells[0] = cell
        try:
            with Watchdog(self.pgid, max(1.0, timeout)) as dog:
                self.client.execute_cell(cell, 0)
        except DeadKernelError:
            self.healthy = False
            if dog.fired:
                return "timeout", f"stopped after {timeout:.0f} s (ignored the interrupt; kernel restarted)", ""
            return "died", "the kernel died (the code exited the process or ran out of memory)", ""
        if dog.fired:
            return "timeout", f"stopped after {timeout:.0f} s without finishing", ""
        stdout = "".join(o.get("text", "") for o in cell.outputs
                         if o.output_type == "stream" and o.name == "stdout")
        errors = [o for o in cell.outputs if o.output_type == "error"]
        if errors:
            return "error", describe_error(errors[0]), stdout
        return "ok", "", stdout


def describe_error(output: dict) -> str:
    """'Name (line N of the test): value' from an error output."""
    message = output.get("ename", "Error")
    trace = ANSI.sub("", "\n".join(output.get("traceback", [])))
    lines = re.findall(r'<test [^>]*>(?::|", line )(\d+)', trace)
    if lines:
        message += f" (line {lines[-1]} of the test)"
    if output.get("evalue"):
        message += f": {output['evalue']}"
    return message[:500]


def wrap_test(test: dict, nonce: str) -> str:
    """Code that runs a test in a copy of the kernel's namespace, then prints `nonce` if it passed."""
    label = f"<test {test['question']} ({test['visibility']})>"
    return (f"exec(compile({test['source']!r}, {label!r}, 'exec'), dict(globals()))\n"
            f"print({nonce!r})\n")


class Grading:
    """The student's cells, then the tests, in a kernel restarted (without the culprit) when it dies."""

    def __init__(self, job: dict, emit: Events):
        self.job, self.emit = job, emit
        self.deadline = time.monotonic() + job["time_limit"]
        self.kernel = Kernel(Path(job["workdir"]), emit)
        self.skip: set[int] = set()  # student cells that killed or hung the kernel
        self.recorded: set[int] = set()
        self.restarts = 0

    def budget(self) -> float:
        """Seconds the next cell may take: the cell timeout, or what is left of the time limit."""
        return min(self.job["cell_timeout"], self.deadline - time.monotonic())

    def restart(self) -> str:
        """Stop the kernel; return why grading stops if it may not be restarted, else ''."""
        self.kernel.stop()
        self.restarts += 1
        return f"the kernel had to be restarted more than {MAX_RESTARTS} times" if self.restarts > MAX_RESTARTS else ""

    def prepare(self) -> str:
        """Start a kernel and run the student's cells; return '' or why grading stops."""
        while True:
            if self.budget() <= 0:
                return "the time limit was reached"
            self.kernel.start()
            crashed = self._run_cells()
            if crashed is None:
                return ""
            if crashed == "time":
                return "the time limit was reached"
            stop = self.restart()
            if stop:
                return stop

    def _run_cells(self) -> str | None:
        """Run the cells not skipped: None when all ran, "crash" when the kernel must restart, "time"."""
        for i, source in enumerate(self.job["cells"]):
            if i in self.skip:
                continue
            if self.budget() <= 0:
                return "time"
            status, message, _ = self.kernel.run(source, self.budget())
            if i not in self.recorded:
                self.recorded.add(i)
                self.emit("cell", index=i, status=status, message=message)
            if not self.kernel.healthy:
                self.skip.add(i)
                return "crash"
        return None

    def run_tests(self) -> str:
        """Run each test; return '' or why grading stopped before the last one."""
        nonce = self.job["nonce"]
        for j, test in enumerate(self.job["tests"]):
            if self.budget() <= 0:
                return "the time limit was reached"
            status, message, stdout = self.kernel.run(wrap_test(test, nonce), self.budget())
            if status == "ok" and nonce not in stdout:
                status, message = "error", "the test did not finish normally (was sys.stdout replaced?)"
            status = {"ok": "passed", "error": "failed"}.get(status, status)
            self.emit("test", index=j, status=status, message=message)
            if not self.kernel.healthy:
                stop = self.restart() or self.prepare()
                if stop:
                    return stop
        return ""


def main(job_file: str, events_file: str) -> int:
    """Grade the job, logging every step to the events file."""
    job = json.loads(Path(job_file).read_text(encoding="utf-8"))
    emit = Events(Path(events_file))
    grading = Grading(job, emit)
    stop = grading.prepare() or grading.run_tests()
    if stop:
        emit("stopped", reason=stop)
    grading.kernel.stop()
    emit("done")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
