"""manage.py sync_pull against a real server: a county mirrored into an empty database equals the source row
for row, stays equal through creates, updates, deletes, moves and out-of-order commits, and a run with
nothing new changes nothing."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
from django.db import connection

from api.models import ApiClient
from changes.models import Change
from households.models import Household, IncomeRecord, Member, MonitoringCase, RiskType
from regions.models import Region
from tests.api.mirror_world import digest, fresh_sqlite, in_scope, migrate, rows, sqlite_template, sync_pull
from tests.api.world import World, build_world, make_client
from tests.changes.test_concurrency import other_connection
from tests.conftest import Staff
from tests.factories import Tree, household, income
from tests.operations.processes import current_database_url, gunicorn, with_postgresql

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def empty_change_log(transactional_db: None) -> None:
    Change.objects.all().delete()


@pytest.fixture
def world(tree: Tree, staff: Staff) -> World:
    return build_world(tree, staff)


def source_rows(client: ApiClient) -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        return rows(cursor, connection.vendor, in_scope(client))


def assert_mirror_equals_source(client: ApiClient, mirror: dict[str, list[str]]) -> None:
    source = source_rows(client)
    assert source["households_household"] and source["households_member"] and source["funds_payment"]
    differing = sorted(table for table in source if source[table] != mirror[table])
    assert not differing, {table: (source[table][:3], mirror[table][:3]) for table in differing}
    assert digest(source) == digest(mirror)


# ---------------------------------------------------------------------------------------------
# PostgreSQL: gunicorn serving the test database, the mirror another database on the same server
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def postgresql_template() -> Iterator[str]:
    """An empty, migrated database on the test server, copied (CREATE DATABASE … TEMPLATE) for each mirror."""
    server = os.environ["DATABASE_URL"]
    name = f"mirror_template_{os.getpid()}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    migrate(urlsplit(server)._replace(path=f"/{name}").geturl())
    yield name
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgresql_mirror(postgresql_template: str) -> Iterator[str]:
    server = os.environ["DATABASE_URL"]
    name = f"mirror_{os.getpid()}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{postgresql_template}"')
    yield urlsplit(server)._replace(path=f"/{name}").geturl()
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgresql_rows(url: str) -> dict[str, list[str]]:
    with psycopg.connect(url) as mirror, mirror.cursor() as cursor:
        return rows(cursor, "postgresql")


def mirrored_phone(url: str, pk: int) -> str | None:
    with psycopg.connect(url) as mirror:
        row = mirror.execute("SELECT phone FROM households_household WHERE id = %s", [pk]).fetchone()
    return None if row is None else str(row[0])


@with_postgresql
def test_a_county_mirrored_through_the_api_stays_equal_to_the_source_row_for_row(
    world: World, tree: Tree, staff: Staff, postgresql_mirror: str, tmp_path: Path
) -> None:
    client, token = make_client(tree.county, personal=True)
    with gunicorn(database_url=current_database_url(), log=tmp_path / "gunicorn.log") as base:
        url = f"{base}/api/v1/"

        first = sync_pull(url, token, postgresql_mirror)
        assert "全量" in first
        mirror = postgresql_rows(postgresql_mirror)
        assert_mirror_equals_source(client, mirror)
        assert not any(line.startswith(f"('{world.other_household.pk}',") for line in mirror["households_household"])

        # Creates, updates, deletes and moves on the source.
        added = household(staff.county_admin, tree.village_b1, phone="13900000009")
        income(staff.county_admin, added, "2025Q2", wages_migrant_work="1500")
        Household.objects.filter(pk=world.household.pk).update(address="新地址", version=world.household.version + 1)
        Member.objects.filter(household=added, relation="spouse").update(work_months=9, work_place="广东")
        case = MonitoringCase.objects.get(pk=world.case.pk)
        case.risk_types.set(RiskType.objects.order_by("code")[1:3])
        IncomeRecord.history.filter(id=world.income.pk).delete()
        IncomeRecord.objects.filter(pk=world.income.pk).delete()
        moving = household(staff.county_admin, tree.village_a1)
        income(staff.county_admin, moving, "2025Q1", wages_migrant_work="800")
        Household.objects.filter(pk=moving.pk).update(village=tree.village_a2)  # to another village
        leaving = household(staff.county_admin, tree.village_a2)
        income(staff.county_admin, leaving, "2025Q1", wages_migrant_work="900")
        second = sync_pull(url, token, postgresql_mirror)
        Household.objects.filter(pk=leaving.pk).update(village=Region.objects.get(code="532301100201"))  # out

        # Two transactions committing out of order: A writes first and stays open while B commits.
        with other_connection() as older:
            older.execute("UPDATE households_household SET phone = '13900000001' WHERE id = %s", [added.pk])
            Household.objects.filter(pk=moving.pk).update(phone="13900000002")
            sync_pull(url, token, postgresql_mirror)  # B is held back while A, older, is open
            assert mirrored_phone(postgresql_mirror, moving.pk) != "13900000002"
            older.commit()
        third = sync_pull(url, token, postgresql_mirror)

        assert "新增或修改" in second
        assert mirrored_phone(postgresql_mirror, moving.pk) == "13900000002"
        assert mirrored_phone(postgresql_mirror, added.pk) == "13900000001"
        assert_mirror_equals_source(client, postgresql_rows(postgresql_mirror))
        mirrored = {line for line in postgresql_rows(postgresql_mirror)["households_household"]}
        assert not any(line.startswith(f"('{leaving.pk}',") for line in mirrored)  # left the county: gone
        assert "增量" in third

        # Nothing new: a run changes nothing.
        before = postgresql_rows(postgresql_mirror)
        again = sync_pull(url, token, postgresql_mirror)
        assert "增量 0 条" in again
        assert postgresql_rows(postgresql_mirror) == before


# ---------------------------------------------------------------------------------------------
# SQLite: the test server in a thread (live_server), the mirror a migrated file
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sqlite_mirror_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sqlite_template(tmp_path_factory.mktemp("mirror"))


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the PostgreSQL leg mirrors through gunicorn above")
def test_a_mirror_of_the_embedded_default_is_equal_and_a_second_run_changes_nothing(
    world: World, tree: Tree, staff: Staff, live_server: Any, sqlite_mirror_template: Path, tmp_path: Path
) -> None:
    client, token = make_client(tree.county, personal=True)
    database = tmp_path / "mirror.sqlite3"
    url = fresh_sqlite(sqlite_mirror_template, database)

    sync_pull(f"{live_server.url}/api/v1/", token, url)
    with sqlite3.connect(database) as mirror:
        first = rows(mirror.cursor(), "sqlite")
    assert_mirror_equals_source(client, first)

    Household.objects.filter(pk=world.household.pk).update(address="新地址")
    MonitoringCase.objects.get(pk=world.case.pk).risk_types.clear()
    output = sync_pull(f"{live_server.url}/api/v1/", token, url)
    assert "新增或修改" in output
    with sqlite3.connect(database) as mirror:
        second = rows(mirror.cursor(), "sqlite")
    assert_mirror_equals_source(client, second)

    assert "增量 0 条" in sync_pull(f"{live_server.url}/api/v1/", token, url)
    with sqlite3.connect(database) as mirror:
        assert rows(mirror.cursor(), "sqlite") == second


def test_sync_pull_refuses_a_client_that_gets_masked_data(
    world: World, tree: Tree, live_server: Any, tmp_path: Path
) -> None:
    import subprocess
    import sys

    from tests.operations.processes import REPOSITORY

    _client, token = make_client(tree.county, personal=False)
    environment = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'never-written.sqlite3'}"}
    result = subprocess.run(
        [sys.executable, "manage.py", "sync_pull", f"{live_server.url}/api/v1/", "--token", token],
        cwd=REPOSITORY,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode != 0 and "不能查看个人信息" in result.stderr


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the PostgreSQL leg mirrors through gunicorn above")
def test_a_mirror_follows_swapped_numbers_and_a_new_head_in_one_run(
    world: World, tree: Tree, staff: Staff, live_server: Any, sqlite_mirror_template: Path, tmp_path: Path
) -> None:
    """Changes that are valid on the source only together: two households' 户编号 swapped, two members'
    身份证号 swapped (a clerk's mix-up corrected), and the 户主 handed to the spouse. The mirror applies
    each record's latest state, so it must never hold a value twice in between."""
    client, token = make_client(tree.county, personal=True)
    first, second = world.household, household(staff.county_admin, tree.village_a1)
    database = tmp_path / "mirror.sqlite3"
    url = fresh_sqlite(sqlite_mirror_template, database)
    sync_pull(f"{live_server.url}/api/v1/", token, url)

    numbers = (first.number, second.number)
    Household.objects.filter(pk=first.pk).update(number="交换中")
    Household.objects.filter(pk=second.pk).update(number=numbers[0])
    Household.objects.filter(pk=first.pk).update(number=numbers[1])
    head = Member.objects.get(household=second, relation="head")
    spouse = Member.objects.get(household=second, relation="spouse")
    Member.objects.filter(pk=head.pk).update(relation="spouse", id_number="000000000000000000")
    Member.objects.filter(pk=spouse.pk).update(relation="head", id_number=head.id_number)
    Member.objects.filter(pk=head.pk).update(id_number=spouse.id_number)

    sync_pull(f"{live_server.url}/api/v1/", token, url)
    with sqlite3.connect(database) as mirror:
        cursor = mirror.cursor()
        assert_mirror_equals_source(client, rows(cursor, "sqlite"))
        cursor.execute("SELECT number FROM households_household WHERE id = ?", [second.pk])
        assert cursor.fetchone() == (numbers[0],)
