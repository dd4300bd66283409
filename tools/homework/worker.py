"""The sandboxed side of grading: run a submission's cells, then call its functions on request.

Started by tools/homework/sandbox.py (inside bubblewrap), never by hand:
`python worker.py CONFIG_JSON`, with the pipes for the grader's requests, the replies and
interrupts at the three fds that CONFIG names. It imports nothing from the project but
`wire.py` beside it. It first lowers its own resource limits (memory, CPU time, processes,
file size), before it reads any student code; then it answers requests (plain data only,
see wire.py):

- {"op": "cell", "source"}: run a code cell with IPython semantics (magics, shell escapes);
- {"op": "resolve", "names"}: what each name of the notebook is (a function, a value, missing);
- {"op": "call", "name", "args", "kwargs"}: call a function of the notebook and send back its
  result and the tensor or generator arguments it changed in place. A callable argument is
  a handle: calling it asks the grader to run the function and send back its result.

Nothing here decides a test: the grader does, in its own process, on what comes back.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import wire  # noqa: E402

REQUESTS, REPLIES, INTERRUPTS = -1, -1, -1  # set by main() from the config


def limit_resources(config: dict) -> None:
    """Lower soft and hard limits at once, so that the submission cannot raise them again."""
    limits = {"memory": resource.RLIMIT_DATA, "cpu": resource.RLIMIT_CPU, "processes": resource.RLIMIT_NPROC,
              "file_size": resource.RLIMIT_FSIZE, "open_files": resource.RLIMIT_NOFILE}
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    for key, which in limits.items():
        value = config.get(key)
        if value:
            hard = int(value) + (5 if key == "cpu" else 0)  # SIGXCPU at the soft limit, SIGKILL 5 s later
            resource.setrlimit(which, (int(value), hard))


class Interrupts(threading.Thread):
    """Turn a byte on the interrupt pipe into SIGINT for the main thread (KeyboardInterrupt)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.main = threading.main_thread().ident

    def run(self) -> None:
        while True:
            try:
                data = os.read(INTERRUPTS, 1)
            except OSError:
                return
            if not data:
                return
            signal.pthread_kill(self.main, signal.SIGINT)


class CallbackError(Exception):
    """A function of the grader's, called back from the submission, raised."""


def describe(err: BaseException) -> dict:
    return {"status": "error", "ename": type(err).__name__, "evalue": str(err)[:2000],
            "interrupted": isinstance(err, KeyboardInterrupt)}


class Worker:
    """The submission's namespace, and the request loop."""

    def __init__(self):
        from IPython.core.interactiveshell import InteractiveShell
        from traitlets.config import Config

        config = Config()
        config.HistoryManager.enabled = False
        self.shell = InteractiveShell.instance(config=config)
        self.namespace = self.shell.user_ns

    def send(self, message: dict, buffers=()) -> None:
        wire.write_message(REPLIES, message, list(buffers))

    def receive(self) -> tuple[dict, list[bytes]]:
        while True:
            try:
                return wire.read_message(REQUESTS)
            except KeyboardInterrupt:  # a late interrupt, after the work it was meant for ended
                continue

    def serve(self) -> None:
        self.send({"op": "ready", "pid": os.getpid()})
        while True:
            message, buffers = self.receive()
            op = message.get("op")
            if op == "exit":
                return
            handler = {"cell": self.cell, "resolve": self.resolve, "call": self.call}.get(op)
            if handler is None:
                self.send({"status": "error", "ename": "ProtocolError", "evalue": f"unknown request {op!r}"})
                continue
            try:
                reply, out = handler(message, buffers)
            except BaseException as err:  # the reply must always come, whatever the submission did
                reply, out = describe(err), []
            self.send(reply, out)

    def cell(self, message: dict, buffers) -> tuple[dict, list]:
        result = self.shell.run_cell(str(message["source"]), store_history=False)
        err = result.error_before_exec or result.error_in_exec
        return (describe(err) if err is not None else {"status": "ok"}), []

    def resolve(self, message: dict, buffers) -> tuple[dict, list]:
        encode, names = wire.Encoder(), {}
        for name in message["names"]:
            if name not in self.namespace:
                names[name] = {"kind": "missing"}
                continue
            value = self.namespace[name]
            if callable(value):
                names[name] = {"kind": "callable"}
                continue
            try:
                names[name] = {"kind": "value", "value": encode(value)}
            except Exception as err:
                names[name] = {"kind": "error", "message": f"{name}: {err}"}
        return {"status": "ok", "names": names}, encode.buffers

    def call(self, message: dict, buffers) -> tuple[dict, list]:
        decode = wire.Decoder(buffers, make_callable=self.callback)
        args, kwargs = decode(message["args"]), decode(message["kwargs"])
        function = self.namespace.get(message["name"])
        if function is None or not callable(function):
            raise NameError(f"name {message['name']!r} is not defined")
        value = function(*args, **kwargs)
        encode = wire.Encoder()
        try:
            result = encode(value)
        except wire.WireError as err:
            raise TypeError(f"{message['name']} returned {err.args[0].removeprefix('an object')}") from None
        mutated = {}
        for index, obj in decode.objects.items():  # the arguments it changed in place come back
            try:
                after = encode(obj)
            except Exception:
                continue
            if encode.buffers[-1] != buffers[index]:
                mutated[str(index)] = after
            else:
                encode.buffers.pop()
                encode.objects.pop()
        return {"status": "ok", "value": result, "mutated": mutated}, encode.buffers

    def callback(self, handle: int):
        """A stand-in for a function of the grader's, passed as an argument."""
        def call_grader(*args, **kwargs):
            encode = wire.Encoder()
            self.send({"op": "callback", "id": handle, "args": encode(list(args)), "kwargs": encode(kwargs)},
                      encode.buffers)
            while True:
                message, buffers = wire.read_message(REQUESTS)
                op = message.get("op")
                if op == "return":
                    return wire.Decoder(buffers, make_callable=self.callback)(message["value"])
                if op == "raise":
                    raise CallbackError(str(message.get("message", ""))[:2000])
                if op == "call":  # the grader's function called the submission again
                    try:
                        reply, out = self.call(message, buffers)
                    except BaseException as err:
                        reply, out = describe(err), []
                    self.send(reply, out)
                else:
                    raise CallbackError(f"unexpected request {op!r} during a call back")

        return call_grader


def main() -> int:
    global REQUESTS, REPLIES, INTERRUPTS
    config = json.loads(sys.argv[1])
    REQUESTS, REPLIES, INTERRUPTS = config["fds"]
    limit_resources(config)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    Interrupts().start()
    Worker().serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
