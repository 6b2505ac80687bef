"""Parse some columns in a forked child while this process parses the others.

An import runs on one core; the machine has two. The 身份证号 column is the costliest to parse
(200,000 distinct values, each checked digit by digit) and needs nothing but the cells, so a
forked child — sharing this process's memory until it writes — parses it meanwhile and sends the
results back through a pipe. The child touches no database connection and leaves by os._exit.
Anything going wrong there (a crash, an unreadable answer) only means parsing here after all:
the answer is the same either way, as normalise.parse_column gives it.
"""

from __future__ import annotations

import gc
import logging
import os
import pickle
from collections.abc import Sequence
from typing import Any

from households.excel.columns import Column
from households.excel.normalise import FAILED, parse_column

logger = logging.getLogger(__name__)

Parsed = tuple[list[Any], list[tuple[int, str]]]


class ForkedParse:
    """parse_column of each column, computed by a child process; result(key) waits for it."""

    def __init__(self, columns: Sequence[tuple[Column, Sequence[Any]]]) -> None:
        self.columns = {column.key: (column, values) for column, values in columns}
        self.results: dict[str, Parsed] | None = None
        read_end, write_end = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            _child(columns, read_end, write_end)
        os.close(write_end)
        self.read_end = read_end

    def result(self, key: str) -> Parsed:
        self.close()
        assert self.results is not None
        return self.results[key]

    def close(self) -> None:
        """Wait for the child (it only parses, so not for long): no process is left behind."""
        if self.results is None:
            self.results = self._collect()

    def _collect(self) -> dict[str, Parsed]:
        chunks: list[bytes] = []
        try:
            while chunk := os.read(self.read_end, 1 << 20):
                chunks.append(chunk)
        finally:
            os.close(self.read_end)
            _, status = os.waitpid(self.pid, 0)
        try:
            if status != 0:
                raise ValueError(f"status {status}")
            answer: dict[str, tuple[list[Any], list[tuple[int, str]]]] = pickle.loads(b"".join(chunks))
        except Exception:
            logger.warning("Forked column parse failed; parsing in process", exc_info=True)
            return {key: parse_column(column, values) for key, (column, values) in self.columns.items()}
        # FAILED does not survive pickling as itself: the failed cells are marked again.
        for parsed, failures in answer.values():
            for index, _ in failures:
                parsed[index] = FAILED
        return answer


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
