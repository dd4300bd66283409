"""One submission's sandbox: the worker process in bubblewrap, under limits, and the grader's end of its pipes.

The worker (worker.py) runs in new user, PID, network, IPC, UTS and cgroup namespaces, as an
unprivileged user, with a read-only view of only the Python environment (the venv, the
Python it links to, /usr), the `helpers` package, the offline data and the two files of its
own code; its working folder and /tmp are private, size-limited tmpfs. It lowers its own
rlimits first (memory, CPU time, processes, file size, open files); this side watches the
memory of the whole process tree and kills the sandbox (the whole PID namespace) at the
wall-clock limit or above the memory limit.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import sysconfig
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from tools.homework import wire

HERE = Path(__file__).resolve().parent
SANDBOX_CODE = "/grader"  # where worker.py and wire.py appear inside the sandbox
HOME = "/home/student"
DATA = "/data/mini"
GIB, MIB = 2**30, 2**20
MAX_REPLY = 512 * MIB  # the most a submission may send back at once


class SandboxUnavailableError(RuntimeError):
    """bubblewrap is missing or cannot create namespaces here."""


@dataclass(frozen=True)
class SandboxLimits:
    """What one sandbox may use."""

    memory: int = 4 * GIB  # per process (RLIMIT_DATA) and for the whole tree (watched)
    cpu_time: float = 600.0  # seconds of CPU per process (RLIMIT_CPU)
    processes: int = 64  # tasks (processes and threads) in the sandbox (RLIMIT_NPROC in its own user namespace)
    file_size: int = 64 * MIB  # per file written (RLIMIT_FSIZE)
    disk: int = 256 * MIB  # each private tmpfs: the working folder, /tmp, /dev/shm
    open_files: int = 1024


def _bwrap() -> str | None:
    return os.environ.get("BOOK_BWRAP") or shutil.which("bwrap")


_PROBED: dict[str, str] = {}


def check_available() -> None:
    """Raise SandboxUnavailableError, saying what to do, unless bubblewrap can sandbox here."""
    bwrap = _bwrap()
    hint = ("install bubblewrap (`bash tools/install_bubblewrap.sh`, or Debian's `bubblewrap` package), on Linux "
            "with unprivileged user namespaces; or, on a throwaway machine only, pass --unsafe-no-sandbox")
    if not bwrap or not Path(bwrap).exists():
        raise SandboxUnavailableError(f"grading needs bubblewrap (bwrap), which is not installed: {hint}")
    if bwrap in _PROBED:
        if _PROBED[bwrap]:
            raise SandboxUnavailableError(_PROBED[bwrap])
        return
    cmd = [bwrap, *base_args(SandboxLimits()), "--remount-ro", "/", "--", "/bin/true"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        problem = "" if proc.returncode == 0 else proc.stderr.strip()[-300:] or f"exit {proc.returncode}"
    except (OSError, subprocess.TimeoutExpired) as err:
        problem = str(err)
    if problem:
        _PROBED[bwrap] = (f"bubblewrap cannot create a sandbox here ({problem}); it needs Linux with user "
                          "namespaces enabled (sysctl kernel.unprivileged_userns_clone=1, or on Ubuntu 24.04 "
                          f"the AppArmor profile for bwrap): {hint}")
        raise SandboxUnavailableError(_PROBED[bwrap])
    _PROBED[bwrap] = ""


def _system_dirs() -> list[str]:
    """bwrap arguments for /usr and the top-level folders that are links into it (or folders)."""
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    for name in ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "alternatives"):
        if (Path("/etc") / name).exists():
            args += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    return args


def base_args(limits: SandboxLimits) -> list[str]:
    """The namespaces, and an empty root with /usr, /proc, /dev and private tmpfs (made read-only last)."""
    size = str(limits.disk)
    return ["--unshare-all", "--unshare-user", "--uid", "1000", "--gid", "1000", "--hostname", "sandbox",
            "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--clearenv",
            *_system_dirs(), "--proc", "/proc", "--dev", "/dev", "--size", size, "--tmpfs", "/dev/shm",
            "--size", size, "--tmpfs", "/tmp", "--size", size, "--tmpfs", HOME, "--remount-ro", "/dev"]


def python_paths() -> list[Path]:
    """What the Python environment needs, outside /usr: the venv, its base Python, the editable `helpers`."""
    paths = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix),
             Path(os.path.realpath(sys.executable)).parent}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        with contextlib.suppress(KeyError):
            paths.add(Path(sysconfig.get_paths()[key]))
    spec = importlib.util.find_spec("helpers")
    if spec and spec.submodule_search_locations:
        paths.update(Path(p) for p in spec.submodule_search_locations)
    keep = sorted({p.resolve() for p in paths if p.exists()}, key=lambda p: len(p.parts))
    out: list[Path] = []
    for p in keep:  # leave out folders inside /usr or inside another kept folder
        if p.parts[:2] == ("/", "usr") or any(p.is_relative_to(q) for q in out):
            continue
        out.append(p)
    return out


def sandbox_command(limits: SandboxLimits, config: dict, data_root: Path | None) -> tuple[list[str], dict]:
    """The bwrap command line that starts the worker, and the environment it sees."""
    args = [_bwrap(), *base_args(limits)]
    for path in python_paths():
        args += ["--ro-bind", str(path), str(path)]
    env = {"HOME": HOME, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "MPLBACKEND": "Agg",
           "CUDA_VISIBLE_DEVICES": "", "BOOK_PROFILE": "quick", "OMP_NUM_THREADS": "1",
           "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1",
           "PYTHONUNBUFFERED": "1", "TMPDIR": "/tmp", "MPLCONFIGDIR": "/tmp/matplotlib"}
    if data_root is not None and data_root.exists():
        args += ["--ro-bind", str(data_root), DATA]
        env["BOOK_MINI_DATA_ROOT"] = DATA
    args += ["--ro-bind", str(HERE / "worker.py"), f"{SANDBOX_CODE}/worker.py",
             "--ro-bind", str(HERE / "wire.py"), f"{SANDBOX_CODE}/wire.py"]
    for key, value in env.items():
        args += ["--setenv", key, value]
    args += ["--remount-ro", "/", "--chdir", HOME, "--",
             sys.executable, "-s", f"{SANDBOX_CODE}/worker.py", json.dumps(config)]
    return args, env


class SandboxExitedError(RuntimeError):
    """The sandbox's process ended (or was killed) while the grader waited for it."""


class Sandbox:
    """One running worker, and the grader's end of its pipes."""

    def __init__(self, limits: SandboxLimits, log_path: Path, data_root: Path | None, sandboxed: bool = True,
                 home: Path | None = None):
        self.limits, self.log_path = limits, log_path
        req_r, self.req_w = os.pipe()
        self.rep_r, rep_w = os.pipe()
        int_r, self.int_w = os.pipe()
        fds = (req_r, rep_w, int_r)
        config = {"fds": fds, "memory": limits.memory, "cpu": int(limits.cpu_time), "processes": limits.processes,
                  "file_size": limits.file_size, "open_files": limits.open_files}
        if sandboxed:
            cmd, _ = sandbox_command(limits, config, data_root)
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        else:
            cmd = [sys.executable, "-s", str(HERE / "worker.py"), json.dumps(config)]
            env = dict(os.environ, MPLBACKEND="Agg", CUDA_VISIBLE_DEVICES="", BOOK_PROFILE="quick",
                       PYTHONHASHSEED="0")
            if data_root is not None:
                env["BOOK_MINI_DATA_ROOT"] = str(data_root)
        self.note = ""
        with log_path.open("ab") as log:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         env=env, start_new_session=True, pass_fds=fds,
                                         cwd=home if not sandboxed and home else None)
        for fd in fds:
            os.close(fd)
        self._watch = threading.Thread(target=self._watch_memory, daemon=True)
        self._watch.start()

    # ------------------------------------------------------------ life

    def _watch_memory(self) -> None:
        """Kill the sandbox when its process tree holds more memory, or more tasks, than the limits allow.

        The kernel enforces RLIMIT_NPROC per user namespace, except for a sandbox started by root
        (it exempts uid 0): counting here covers that case.
        """
        while self.proc.poll() is None:
            if self._over_limits(memory=True):
                self.kill()
                return
            time.sleep(0.25)

    def _over_limits(self, memory: bool) -> bool:
        """Whether the sandbox's tree exceeds the task limit (or, with `memory`, the memory limit); the
        reason goes into `note`. Tasks first: counting them is cheap, reading the memory of hundreds of
        forks is not, and short-lived forks must be seen before they are gone."""
        pids = tree_pids(self.proc.pid)
        if self.limits.processes and tree_tasks(pids) > self.limits.processes + 2:  # + bwrap and its init
            self.note = (f"the submission started more than {self.limits.processes} processes and threads "
                         "(the limit) and was stopped")
        elif memory and tree_memory(pids) > self.limits.memory:
            self.note = (f"the submission used more than the memory limit ({self.limits.memory / GIB:g} GiB) "
                         "and was stopped")
        return bool(self.note)

    def kill(self) -> None:
        """SIGKILL bwrap and its process group: the PID namespace, and everything in it, goes with it."""
        pids = tree_pids(self.proc.pid) if self.proc.poll() is None else []
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        self.proc.wait()
        end = time.monotonic() + 5
        while time.monotonic() < end and any(_alive(p) for p in pids):  # the namespace empties asynchronously
            time.sleep(0.02)

    def close(self) -> None:
        """Kill the sandbox (nothing in it is worth waiting for) and close the grader's ends of its pipes."""
        self.kill()
        for fd in (self.req_w, self.rep_r, self.int_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    def interrupt(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self.int_w, b"!")

    def death(self) -> str:
        """Why the worker ended, in words."""
        code = self.proc.poll()
        if self.note:
            return self.note
        if code is None:
            return "the kernel stopped answering"
        signum = code - 128 if code > 128 else -code if code < 0 else 0
        if signum == signal.SIGXCPU:
            return f"the kernel used up its CPU time ({self.limits.cpu_time:g} s) and was stopped"
        if signum:
            return f"the kernel died (killed by {signal.Signals(signum).name}: the code killed it or ran out of memory)"
        return f"the kernel died (the code exited the process, status {code})"

    # ------------------------------------------------------------ messages

    def send(self, message: dict, buffers=(), deadline: float | None = None) -> None:
        try:
            wire.write_message(self.req_w, message, list(buffers), deadline)
        except (wire.PeerClosedError, OSError):
            raise SandboxExitedError(self.death()) from None

    def receive(self, deadline: float | None = None) -> tuple[dict, list[bytes]]:
        # Wait in short steps, so that a worker that died is noticed even while processes it forked
        # still hold its end of the pipe open.
        while not select.select([self.rep_r], [], [], 0.2)[0]:
            if self.proc.poll() is not None:
                raise SandboxExitedError(self.death())
            if deadline is not None and time.monotonic() >= deadline:
                raise wire.DeadlineError()
        try:
            message = wire.read_message(self.rep_r, deadline, MAX_REPLY)
        except (wire.PeerClosedError, OSError):
            self.kill()
            raise SandboxExitedError(self.death()) from None
        # Checked on every answer too, not only by the watcher's polling: a cell that forks and
        # returns at once would otherwise finish between two polls (as root, RLIMIT_NPROC does not apply).
        if self.proc.poll() is None and self._over_limits(memory=False):
            self.kill()
            raise SandboxExitedError(self.death())
        return message

    def log_tail(self, lines: int = 3) -> str:
        with contextlib.suppress(OSError):
            text = self.log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
            return " | ".join(text[-lines:])
        return ""


def tree_pids(pid: int) -> list[int]:
    """`pid` and all its descendants."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        if p in out:
            continue
        out.append(p)
        with contextlib.suppress(OSError, ValueError):
            for task in os.listdir(f"/proc/{p}/task"):
                todo += [int(c) for c in Path(f"/proc/{p}/task/{task}/children").read_text().split()]
    return out


def tree_tasks(pids: list[int]) -> int:
    """The number of tasks (processes and threads) among `pids`."""
    tasks = 0
    for p in pids:
        with contextlib.suppress(OSError):
            tasks += len(os.listdir(f"/proc/{p}/task"))
    return tasks


def tree_memory(pids: list[int]) -> int:
    """Bytes of anonymous and shared memory (proportional set) of `pids`."""
    total = 0
    for p in pids:
        with contextlib.suppress(OSError, ValueError):
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith(("Pss_Anon:", "Pss_Shmem:")):
                    total += int(line.split()[1]) * 1024
    return total


def _alive(pid: int) -> bool:
    """Whether `pid` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"
