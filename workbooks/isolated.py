"""Run a parse of an uploaded file in a fresh Python process under memory and CPU limits.

The child is a new interpreter (`python -m workbooks.isolated`), never a fork: a fork of a
threaded web server copies locks that other threads hold, and Celery's daemonic prefork workers may
not use multiprocessing. The child imports neither Django nor anything of the caller's state, so it
starts in a few tens of milliseconds; it limits its own address space and CPU time before it imports
the parser, reads its request as JSON on stdin and writes the answer on stdout, pickled. The parent
unpickles that answer with a loader that builds nothing but plain values: a file that subverted the
parser still cannot make the parent run code.
"""

from __future__ import annotations

import gc
import importlib
import io
import json
import logging
import math
import os
import pickle
import queue
import resource
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Generator
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

MODULE = "workbooks.isolated"
# The directory holding the `households` package: the child's working directory, hence its import path.
PROJECT_ROOT = Path(__file__).resolve().parents[1]
# The first byte of the child's answer says what follows.
ANSWER, OUT_OF_MEMORY, CRASHED = b"a", b"m", b"e"
# A streamed answer's frames start with the kind and the body's length (stream_isolated).
FRAME_HEAD = 9


class IsolatedFailure(Exception):
    """The child gave no answer: it crashed, ran out of memory or time, or could not be started."""


class _SafeUnpickler(pickle.Unpickler):
    """The child's answer holds plain values only; anything else is refused rather than built."""

    ALLOWED = {("datetime", "date"), ("datetime", "datetime"), ("datetime", "time"), ("datetime", "timedelta")}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed")
        return super().find_class(module, name)


def safe_loads(payload: bytes) -> Any:
    """Unpickle plain values (containers, numbers, text, dates); IsolatedFailure for anything else."""
    try:
        return _SafeUnpickler(io.BytesIO(payload)).load()
    except Exception as error:
        raise IsolatedFailure(f"unreadable answer: {error}") from error


def run_isolated(
    function: str, arguments: dict[str, Any], *, memory_limit_bytes: int, timeout_seconds: float, label: str
) -> bytes:
    """function ("module:name") called with arguments in a fresh interpreter: its result, pickled.

    The child may use memory_limit_bytes of address space and timeout_seconds of wall and CPU time;
    read the result with safe_loads. Raises IsolatedFailure when the child gives no answer.
    """
    request = _request(function, arguments, memory_limit_bytes, timeout_seconds, stream=False)
    child = _start(label, stderr=subprocess.PIPE)
    try:
        answer, errors = child.communicate(request, timeout=max(timeout_seconds, 0.001))
    except subprocess.TimeoutExpired as error:
        child.kill()
        child.communicate()
        raise IsolatedFailure("deadline") from error
    except BaseException:
        # The caller itself interrupted (a Celery time limit): leave no orphan.
        child.kill()
        child.wait()
        raise
    if child.returncode != 0 or not answer:
        _log_status(label, child.returncode, errors)
        raise IsolatedFailure(f"status {child.returncode}")
    kind, body = answer[:1], answer[1:]
    if kind == OUT_OF_MEMORY:
        raise IsolatedFailure("out of memory")
    if kind != ANSWER:
        logger.error("Isolated child failed on %s:\n%s", label, body.decode(errors="replace"))
        raise IsolatedFailure("failed")
    return body


def stream_isolated(
    function: str, arguments: dict[str, Any], *, memory_limit_bytes: int, timeout_seconds: float, label: str
) -> Generator[bytes, None, None]:
    """run_isolated for a function that yields: each yielded value, pickled, as soon as the child sends it.

    The caller works on the first values while the child still produces the next (the parent parses
    the first rows of a file while the child reads the rest). The same limits apply; IsolatedFailure
    when the child fails at any point, so a caller discards what it took from the earlier values.
    Close the iterator (contextlib.closing) to stop the child early.
    """
    request = _request(function, arguments, memory_limit_bytes, timeout_seconds, stream=True)
    deadline = time.monotonic() + timeout_seconds
    with tempfile.TemporaryFile() as errors:
        child = _start(label, stderr=errors)
        frames: queue.SimpleQueue[tuple[bytes, bytes] | BaseException | None] = queue.SimpleQueue()
        # A thread moves the frames out of the pipe, so the child never waits for the caller's work.
        pump = threading.Thread(target=_pump, args=(child, request, frames, memory_limit_bytes), daemon=True)
        pump.start()
        try:
            while True:
                try:
                    frame = frames.get(timeout=max(deadline - time.monotonic(), 0.001))
                except queue.Empty:
                    raise IsolatedFailure("deadline") from None
                if frame is None:
                    break
                if isinstance(frame, BaseException):
                    raise IsolatedFailure(f"unreadable answer: {frame}") from frame
                kind, body = frame
                if kind == OUT_OF_MEMORY:
                    raise IsolatedFailure("out of memory")
                if kind != ANSWER:
                    logger.error("Isolated child failed on %s:\n%s", label, body.decode(errors="replace"))
                    raise IsolatedFailure("failed")
                yield body
            try:
                status = child.wait(timeout=max(deadline - time.monotonic(), 0.001))
            except subprocess.TimeoutExpired as error:
                raise IsolatedFailure("deadline") from error
            if status != 0:
                errors.seek(0)
                _log_status(label, status, errors.read())
                raise IsolatedFailure(f"status {status}")
        finally:
            # Done, failed or abandoned by the caller (its own error, a Celery time limit): no orphan.
            if child.poll() is None:
                child.kill()
            child.wait()
            pump.join()
            if child.stdout is not None:
                child.stdout.close()


def _pump(
    child: subprocess.Popen[bytes],
    request: bytes,
    frames: queue.SimpleQueue[tuple[bytes, bytes] | BaseException | None],
    largest: int,
) -> None:
    """Send the request, then hand over each frame the child writes; None at its end.

    A frame larger than `largest` (the child's own memory budget: it could not have built it) is
    refused before it is read, so a subverted child cannot make the parent allocate at will.
    """
    try:
        assert child.stdin is not None and child.stdout is not None
        with child.stdin:
            child.stdin.write(request)
        while head := child.stdout.read(FRAME_HEAD):
            if len(head) < FRAME_HEAD:
                raise EOFError("truncated frame")
            size = int.from_bytes(head[1:], "big")
            if size > largest:
                raise EOFError(f"a frame of {size} bytes")
            body = child.stdout.read(size)
            if len(body) < size:
                raise EOFError("truncated frame")
            frames.put((head[:1], body))
        frames.put(None)
    except Exception as error:
        # A child killed mid-way (its deadline, its memory, the caller leaving) or a bad frame: the caller is told.
        frames.put(error)


def _request(
    function: str, arguments: dict[str, Any], memory_limit_bytes: int, timeout_seconds: float, *, stream: bool
) -> bytes:
    return json.dumps(
        {
            "function": function,
            "arguments": arguments,
            "memory_limit_bytes": memory_limit_bytes,
            "timeout_seconds": timeout_seconds,
            "stream": stream,
        }
    ).encode()


def _start(label: str, *, stderr: Any) -> subprocess.Popen[bytes]:
    # The project first on the child's path, whatever PYTHONSAFEPATH or the caller's PYTHONPATH say.
    path = os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")]))
    try:
        return subprocess.Popen(
            [sys.executable or "python3", "-m", MODULE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            cwd=PROJECT_ROOT,
            env={**os.environ, "PYTHONPATH": path},
        )
    except OSError as error:
        logger.error("Could not start the isolated child for %s: %s", label, error)
        raise IsolatedFailure("not started") from error


def _log_status(label: str, status: int | None, errors: bytes) -> None:
    logger.warning(
        "Isolated child for %s ended with status %s: %s", label, status, errors[-2000:].decode(errors="replace")
    )


def _limit(memory_limit_bytes: int, timeout_seconds: float) -> None:
    """Cap this process at what it uses now plus memory_limit_bytes, and its CPU time near the deadline."""
    try:
        status = Path("/proc/self/status").read_text()
        in_use = next(int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmSize:"))
    except (OSError, StopIteration):
        in_use = 0
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = in_use + memory_limit_bytes
    resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))
    # Should the parent die without killing it, the child still stops soon after its deadline.
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    seconds = math.ceil(timeout_seconds) + 5
    resource.setrlimit(resource.RLIMIT_CPU, (seconds if hard == resource.RLIM_INFINITY else min(seconds, hard), hard))


def main() -> None:
    """The child: one request on stdin, one answer on stdout."""
    out = sys.stdout.buffer
    # Whatever a library prints must not end up in the answer.
    sys.stdout = sys.stderr
    request = json.loads(sys.stdin.buffer.read())
    _limit(request["memory_limit_bytes"], request["timeout_seconds"])
    # A short-lived process building a few million objects: the cycle collector only slows it.
    gc.disable()
    try:
        module, name = request["function"].split(":")
        result = getattr(importlib.import_module(module), name)(**request["arguments"])
        if request.get("stream"):
            for value in result:
                _write_frame(out, ANSWER, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
            return
        answer = ANSWER + pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
    except MemoryError:
        answer = OUT_OF_MEMORY
    except Exception:
        answer = CRASHED + traceback.format_exc().encode()
    if request.get("stream"):
        _write_frame(out, answer[:1], answer[1:])
        return
    out.write(answer)
    out.flush()


def _write_frame(out: Any, kind: bytes, body: bytes) -> None:
    """A streamed answer's frame: its kind, its length in FRAME_HEAD - 1 bytes, then the body."""
    out.write(kind + len(body).to_bytes(FRAME_HEAD - 1, "big"))
    out.write(body)
    out.flush()


if __name__ == "__main__":
    main()
