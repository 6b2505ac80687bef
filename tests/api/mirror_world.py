"""What the mirror tests compare: every tracked table's rows (and the link tables that are part of them) as
text, rows of reference lists named by their code (each database seeds its own ids)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from django.apps import apps

from api.principal import ApiPrincipal
from api.resources import RESOURCES
from changes.tracked import PARTS, TRACKED
from households.models import Member
from tests.operations.processes import REPOSITORY

TRACKED_MODELS = {apps.get_model(entry.model) for entry in TRACKED}


def _column(model: Any, field: Any, alias: str = "t") -> str:
    """SQL for one column; a reference list's row by its code."""
    related = field.related_model if field.is_relation else None
    if related is not None and related not in TRACKED_MODELS:
        return f"(SELECT r.code FROM {related._meta.db_table} r WHERE r.id = {alias}.{field.column})"
    return f"{alias}.{field.column}"


def tables() -> dict[str, tuple[Any, list[str]]]:
    """table → (model, column SQL): the tracked tables, and the parts that are not tracked themselves."""
    found: dict[str, tuple[Any, list[str]]] = {}
    for model_name in [entry.model for entry in TRACKED] + [part.model for part in PARTS]:
        model = apps.get_model(model_name)
        if model._meta.db_table in found:
            continue
        fields = list(model._meta.concrete_fields)
        if model not in TRACKED_MODELS:  # a link table: its own id is each database's
            fields = [field for field in fields if not field.primary_key]
        found[model._meta.db_table] = (model, [_column(model, field) for field in fields])
    return found


def rows(cursor: Any, vendor: str, only: dict[str, set[int]] | None = None) -> dict[str, list[str]]:
    """Every row of every compared table as text, sorted; with `only`, the rows of each table (or of its
    owner, for a link table) whose id is in it. The database writes each value as text itself, so no
    driver's conversion stands between the two databases."""
    as_text = "CAST(({}) AS TEXT)" if vendor == "sqlite" else "({})::text"
    snapshot: dict[str, list[str]] = {}
    for table, (model, columns) in tables().items():
        sql = f"SELECT {', '.join(as_text.format(column) for column in columns)} FROM {table} t"
        if only is not None:
            key, ids = _owner(model, only)
            sql += f" WHERE t.{key} IN ({', '.join(str(pk) for pk in sorted(ids)) or 'NULL'})"
        cursor.execute(sql)
        snapshot[table] = sorted(repr(tuple(row)) for row in cursor.fetchall())
    return snapshot


def _owner(model: Any, only: dict[str, set[int]]) -> tuple[str, set[int]]:
    if model in TRACKED_MODELS:
        return model._meta.pk.column, only[model._meta.db_table]
    for field in model._meta.concrete_fields:  # a link table: its owner's rows
        if field.is_relation and field.related_model in TRACKED_MODELS and field.related_model._meta.db_table in only:
            part = next(part for part in PARTS if apps.get_model(part.model) is model)
            if field.name == part.owner:
                return field.column, only[field.related_model._meta.db_table]
    raise AssertionError(f"no owner for {model}")


def in_scope(client: Any) -> dict[str, set[int]]:
    """The ids of every tracked table's rows the client may read through the API (members: its households')."""
    principal = ApiPrincipal(client)
    ids = {
        resource.model._meta.db_table: set(resource.rows(principal).values_list("pk", flat=True))
        for resource in RESOURCES.values()
    }
    ids[Member._meta.db_table] = set(
        Member.objects.filter(household_id__in=ids["households_household"]).values_list("pk", flat=True)
    )
    return ids


def digest(snapshot: dict[str, list[str]]) -> dict[str, str]:
    return {table: hashlib.sha256("\n".join(lines).encode()).hexdigest() for table, lines in snapshot.items()}


def sync_pull(url: str, token: str, database_url: str, *, timeout: float = 300) -> str:
    """manage.py sync_pull in a process of its own, writing into `database_url`; its output."""
    environment = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    result = subprocess.run(
        [sys.executable, "manage.py", "sync_pull", url, "--token", token],
        cwd=REPOSITORY,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def migrate(database_url: str) -> None:
    environment = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"],
        cwd=REPOSITORY,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def sqlite_template(directory: Path) -> Path:
    """An empty, migrated SQLite database file (copied for each mirror)."""
    template = directory / "mirror-template.sqlite3"
    if not template.exists():
        migrate(f"sqlite:///{template}")
    return template


def fresh_sqlite(template: Path, target: Path) -> str:
    shutil.copy(template, target)
    return f"sqlite:///{target}"
