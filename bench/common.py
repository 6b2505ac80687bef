"""What every bench script shares: the load average beside each figure, the throwaway databases on the
bench's PostgreSQL server, the verdict on an aim, and the dispatch of a script's child steps."""

from __future__ import annotations

import argparse
import json
import os
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
