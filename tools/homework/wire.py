"""Plain data across the sandbox wall: framed JSON plus raw tensor bytes, never pickle.

Shared by the grader (`grade.py`) and the sandboxed worker (`worker.py`), so it imports
nothing from the project and torch only when a tensor or generator crosses. A value is
None, a bool, int, float or str, a tensor (any dense CPU dtype below), a torch.Generator
(its state), a torch.dtype, or a list, tuple or dict (str keys) of values. From the grader's
side a callable crosses too, as a handle the worker calls back. Anything else is refused
by `encode` with the type it found, and `decode` checks every field of what it reads, so a
hostile peer can only ever send plain data.
"""

from __future__ import annotations

import json
import os
import select
import struct
import time

HEADER = struct.Struct("<II")  # JSON length, number of buffers
LENGTH = struct.Struct("<Q")
MAX_JSON = 64 * 2**20
MAX_DEPTH = 64
DTYPES = ("float16", "bfloat16", "float32", "float64", "complex64", "complex128",
          "uint8", "int8", "int16", "int32", "int64", "bool")


class WireError(ValueError):
    """A value cannot be sent, or what arrived is not a well-formed message."""


class PeerClosedError(EOFError):
    """The other side closed its end (or died)."""


class DeadlineError(TimeoutError):
    """Nothing (complete) arrived before the deadline."""


def _torch():
    import torch

    return torch


def _tensor_bytes(t) -> bytes:
    """The raw bytes of a dense CPU tensor, in C order."""
    torch = _torch()
    if t.layout != torch.strided or t.is_quantized or t.device.type == "meta":
        raise WireError(f"a {t.layout} tensor cannot be sent: send a dense tensor")
    t = t.detach().cpu().resolve_conj().resolve_neg().contiguous().reshape(-1)
    return t.view(torch.uint8).numpy().tobytes() if t.numel() else b""


class Encoder:
    """Turn a value into JSON-able data plus a list of byte buffers."""

    def __init__(self, callables: dict | None = None):
        self.buffers: list[bytes] = []
        self.objects: list = []  # the tensor or generator behind each buffer
        self.callables = callables  # id -> function, where callables may be sent

    def _buffer(self, data: bytes, obj) -> int:
        self.buffers.append(data)
        self.objects.append(obj)
        return len(self.buffers) - 1

    def __call__(self, value, depth: int = 0):
        if depth > MAX_DEPTH:
            raise WireError("the value is nested too deeply")
        if value is None:
            return None
        if isinstance(value, bool):
            return bool(value)
        if isinstance(value, int):
            return int(value)
        if isinstance(value, float):
            return float(value)
        if isinstance(value, str):
            return str(value)
        if isinstance(value, (list, tuple)):
            items = [self(v, depth + 1) for v in value]
            return items if isinstance(value, list) else {"tuple": items}
        if isinstance(value, dict):
            if not all(isinstance(k, str) for k in value):
                raise WireError("only dicts with str keys can be sent")
            return {"dict": [[str(k), self(v, depth + 1)] for k, v in value.items()]}
        module = type(value).__module__ or ""
        if module.startswith("torch"):
            torch = _torch()
            if isinstance(value, torch.Tensor):
                dtype = str(value.dtype).removeprefix("torch.")
                if dtype not in DTYPES:
                    raise WireError(f"a tensor of dtype {value.dtype} cannot be sent")
                return {"tensor": self._buffer(_tensor_bytes(value), value), "dtype": dtype,
                        "shape": [int(n) for n in value.shape]}
            if isinstance(value, torch.Generator):
                return {"generator": self._buffer(_tensor_bytes(value.get_state()), value)}
            if isinstance(value, torch.dtype):
                return {"dtype": str(value).removeprefix("torch.")}
        if self.callables is not None and callable(value):
            self.callables[id(value)] = value
            return {"callable": id(value)}
        if hasattr(value, "dtype") and hasattr(value, "shape") and hasattr(value, "tolist"):
            # A NumPy scalar or array: send its numbers.
            return self(value.tolist(), depth + 1)
        raise WireError(f"an object of type {type(value).__module__}.{type(value).__qualname__} cannot be "
                        "checked: use tensors, numbers, strings, None, and lists, tuples or dicts of them")


class Decoder:
    """Rebuild a value from JSON data and buffers, checking everything."""

    def __init__(self, buffers: list[bytes], make_callable=None):
        self.buffers, self.make_callable = buffers, make_callable
        self.objects: dict[int, object] = {}  # buffer index -> the tensor or generator built from it

    def _buffer(self, index) -> bytes:
        if type(index) is not int or not 0 <= index < len(self.buffers) or index in self.objects:
            raise WireError(f"bad buffer reference {index!r}")
        return self.buffers[index]

    def __call__(self, data, depth: int = 0):
        if depth > MAX_DEPTH:
            raise WireError("nested too deeply")
        if data is None or type(data) in (bool, int, float, str):
            return data
        if type(data) is list:
            return [self(v, depth + 1) for v in data]
        if type(data) is not dict or len(data) not in (1, 3):
            raise WireError(f"unexpected {type(data).__name__} in a message")
        if set(data) == {"tuple"} and type(data["tuple"]) is list:
            return tuple(self(v, depth + 1) for v in data["tuple"])
        if set(data) == {"dict"} and type(data["dict"]) is list:
            out = {}
            for pair in data["dict"]:
                if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str:
                    raise WireError("bad dict entry")
                out[pair[0]] = self(pair[1], depth + 1)
            return out
        if set(data) == {"tensor", "dtype", "shape"}:
            return self._tensor(data)
        if set(data) == {"generator"}:
            torch = _torch()
            index = data["generator"]
            state = torch.frombuffer(bytearray(self._buffer(index)), dtype=torch.uint8)
            gen = torch.Generator()
            try:
                gen.set_state(state)
            except Exception as err:
                raise WireError(f"bad generator state: {err}") from None
            self.objects[index] = gen
            return gen
        if set(data) == {"dtype"} and data["dtype"] in DTYPES:
            return getattr(_torch(), data["dtype"])
        if set(data) == {"callable"} and type(data["callable"]) is int and self.make_callable:
            return self.make_callable(data["callable"])
        raise WireError(f"unexpected object in a message: {sorted(data)}")

    def _tensor(self, data: dict):
        torch = _torch()
        dtype, shape, index = data["dtype"], data["shape"], data["tensor"]
        if dtype not in DTYPES or type(shape) is not list or not all(type(n) is int and n >= 0 for n in shape):
            raise WireError("bad tensor header")
        dtype = getattr(torch, dtype)
        raw = self._buffer(index)
        count = 1
        for n in shape:
            count *= n
        itemsize = torch.empty((), dtype=dtype).element_size()
        if count * itemsize != len(raw) or len(shape) > 32:
            raise WireError(f"a tensor of shape {shape} and dtype {dtype} cannot have {len(raw)} bytes")
        if count == 0:
            tensor = torch.empty(shape, dtype=dtype)
        else:
            tensor = torch.frombuffer(bytearray(raw), dtype=torch.uint8).view(dtype).reshape(shape)
        self.objects[index] = tensor
        return tensor


# ---------------------------------------------------------------- framing over pipes


def _wait(fd: int, write: bool, deadline: float | None) -> None:
    """Block until `fd` is ready, or raise DeadlineError at `deadline` (monotonic seconds)."""
    while True:
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            raise DeadlineError()
        ready = select.select([], [fd], [], left) if write else select.select([fd], [], [], left)
        if ready[1 if write else 0]:
            return


def write_message(fd: int, message: dict, buffers: list[bytes] = (), deadline: float | None = None) -> None:
    """Send one message: header, JSON, then each buffer with its length."""
    data = json.dumps(message, separators=(",", ":")).encode("utf-8")
    parts = [HEADER.pack(len(data), len(buffers)), data]
    for buf in buffers:
        parts += [LENGTH.pack(len(buf)), buf]
    for part in parts:
        view = memoryview(part)
        while view:
            if deadline is not None:
                _wait(fd, True, deadline)
            try:
                n = os.write(fd, view[: 1 << 20])
            except BrokenPipeError:
                raise PeerClosedError() from None
            view = view[n:]


def _read_exact(fd: int, n: int, deadline: float | None) -> bytes:
    chunks, left = [], n
    while left:
        if deadline is not None:
            _wait(fd, False, deadline)
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise PeerClosedError()
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_message(fd: int, deadline: float | None = None, max_bytes: int | None = None) -> tuple[dict, list[bytes]]:
    """Receive one message; refuse one larger than `max_bytes` in all."""
    size, count = HEADER.unpack(_read_exact(fd, HEADER.size, deadline))
    budget = max_bytes if max_bytes is not None else 1 << 62
    if size > min(MAX_JSON, budget) or count > 100_000:
        raise WireError(f"a message of {size} bytes and {count} buffers is too large")
    budget -= size
    try:
        message = json.loads(_read_exact(fd, size, deadline).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise WireError(f"not a JSON message: {str(err)[:100]}") from None
    if type(message) is not dict:
        raise WireError("a message is a JSON object")
    buffers = []
    for _ in range(count):
        (length,) = LENGTH.unpack(_read_exact(fd, LENGTH.size, deadline))
        if length > budget:
            raise WireError(f"the reply is larger than {max_bytes // 2**20} MiB")
        budget -= length
        buffers.append(_read_exact(fd, length, deadline))
    return message, buffers
