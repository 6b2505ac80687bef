"""Parse some columns in a forked child while this process parses the others.

An import runs on one core; the machine has two. The 身份证号 column is the costliest to parse
(200,000 distinct values, each checked digit by digit) and needs nothing but the cells, so a
forked child — sharing this process's memory until it writes — parses it meanwhile and sends the
results back through a pipe. The child touches no database connection and leaves by os._exit.
Anything going wrong there (a crash, an unreadable answer) only means parsing here after all:
the answer is the same either way, as normalise.parse_column gives it. A process running other
threads (a threaded web server running the preview in process) is never forked: the child would
inherit locks those threads hold; it parses here.
"""

from __future__ import annotations

import gc
import logging
import os
import pickle
import select
import signal
import threading
import time
from collections.abc import Sequence
from typing import Any

from households.excel.columns import Column
from households.excel.normalise import FAILED, parse_column

logger = logging.getLogger(__name__)

Parsed = tuple[list[Any], list[tuple[int, str]]]
# The child parses what this process would parse in a second or two; far beyond that, it is stuck.
TIMEOUT_SECONDS = 120.0


class ForkedParse:
    """parse_column of each column, computed by a child process; result(key) waits for it."""

    def __init__(self, columns: Sequence[tuple[Column, Sequence[Any]]]) -> None:
        self.columns = {column.key: (column, values) for column, values in columns}
        self.results: dict[str, Parsed] | None = None
        self.pid: int | None = None
        self.closed = False
        if not _single_threaded():
            return
        read_end, write_end = os.pipe()
        try:
            self.pid = os.fork()
        except OSError:
            os.close(read_end)
            os.close(write_end)
            logger.warning("Could not fork a column parser; parsing in process", exc_info=True)
            return
        if self.pid == 0:
            _child(columns, read_end, write_end)
        os.close(write_end)
        self.read_end = read_end

    def result(self, key: str) -> Parsed:
        self.close()
        if self.results is None:
            raise RuntimeError("the forked parse was abandoned")
        return self.results[key]

    def close(self) -> None:
        """Wait for the child (it only parses, so not for long): no process is left behind."""
        if self.results is not None or self.closed:
            return
        self.closed = True  # once, whatever happens below
        self.results = self._here() if self.pid is None else self._collect(self.pid)

    def _here(self) -> dict[str, Parsed]:
        return {key: parse_column(column, values) for key, (column, values) in self.columns.items()}

    def _collect(self, pid: int) -> dict[str, Parsed]:
        chunks: list[bytes] = []
        deadline = time.monotonic() + TIMEOUT_SECONDS
        status = -1
        try:
            while (remaining := deadline - time.monotonic()) > 0:
                if not select.select([self.read_end], [], [], remaining)[0]:
                    break
                chunk = os.read(self.read_end, 1 << 20)
                if not chunk:
                    _, status = os.waitpid(pid, 0)
                    break
                chunks.append(chunk)
        finally:
            os.close(self.read_end)
            if status == -1:  # the deadline, or this process interrupted (a task time limit)
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
        try:
            if status != 0:
                raise ValueError(f"status {status}")
            answer: dict[str, tuple[list[Any], list[tuple[int, str]]]] = pickle.loads(b"".join(chunks))
        except Exception:
            logger.warning("Forked column parse failed; parsing in process", exc_info=True)
            return self._here()
        # FAILED does not survive pickling as itself: the failed cells are marked again.
        for parsed, failures in answer.values():
            for index, _ in failures:
                parsed[index] = FAILED
        return answer


def _single_threaded() -> bool:
    return threading.active_count() == 1


def _child(columns: Sequence[tuple[Column, Sequence[Any]]], read_end: int, write_end: int) -> None:
    status = 1
    try:
        os.close(read_end)
        gc.disable()
        answer = {}
        for column, values in columns:
            parsed, failures = parse_column(column, values)
            answer[column.key] = ([None if value is FAILED else value for value in parsed], failures)
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL))
        status = 0
    finally:
        os._exit(status)
