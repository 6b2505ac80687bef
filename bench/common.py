"""What every bench script shares: the load average beside each figure, the throwaway databases on the
bench's PostgreSQL server, the verdict on an aim, and the dispatch of a script's child steps."""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit


def load_average() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def with_database(url: str, name: str) -> str:
    """The server's URL with another database named."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def server_execute(server_url: str, *statements: str) -> None:
    """Statements outside a transaction (CREATE / DROP DATABASE) on the bench's server."""
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement)


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def run_main(
    args: argparse.Namespace,
    children: Mapping[str, Callable[[argparse.Namespace], dict[str, Any]]],
    parent_main: Callable[[argparse.Namespace], None],
) -> None:
    """A script runs as the parent, or as one of its child steps (`--child=<step> --result=<file>`), each
    in a process of its own, which writes what it measured to the file the parent reads."""
    if args.child:
        result = children[args.child](args)
        Path(args.result).write_text(json.dumps(result, ensure_ascii=False, default=str))
    else:
        parent_main(args)


def write_results(output: Path, payload: dict[str, Any], *, started: float, table: str, results: Any) -> None:
    """The run's JSON beside the others in bench/results/: what it measured with what it ran on."""
    payload = {
        **payload,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "total_s": round(time.perf_counter() - started, 1),
        "table": table,
        "results": results,
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(payload, ensure_ascii=False, indent=1, default=str))
    print(f"results written to {output.resolve().relative_to(Path(__file__).resolve().parent.parent)}")
