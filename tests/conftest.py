"""App-level fixtures: a region tree and one staff account per role."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from regions.models import Role, User
from tests.factories import Tree, build_tree, make_superuser, make_user


@dataclass
class Staff:
    village_clerk: User  # 大村村 (township A)
    other_village_clerk: User  # 石丫村 (township A)
    township_admin: User  # 金碧镇
    other_township_admin: User  # 湾碧乡
    county_viewer: User
    county_admin: User
    city_viewer: User
    superuser: User


@pytest.fixture
def tree(db: None) -> Tree:
    return build_tree()


@pytest.fixture
def staff(tree: Tree) -> Staff:
    return Staff(
        village_clerk=make_user("cun", Role.VILLAGE_CLERK, tree.village_a1),
        other_village_clerk=make_user("cun2", Role.VILLAGE_CLERK, tree.village_a2),
        township_admin=make_user("xiang", Role.TOWNSHIP_ADMIN, tree.township_a),
        other_township_admin=make_user("xiang2", Role.TOWNSHIP_ADMIN, tree.township_b),
        county_viewer=make_user("xian", Role.COUNTY_VIEWER, tree.county),
        county_admin=make_user("xianadmin", Role.COUNTY_ADMIN, tree.county),
        city_viewer=make_user("zhou", Role.CITY_VIEWER, tree.prefecture),
        superuser=make_superuser(),
    )


@pytest.fixture
def celery_worker(transactional_db: None) -> Iterator[None]:
    """A real worker consuming from Redis when REDIS_URL is set; tasks run in process otherwise."""
    if not os.environ.get("REDIS_URL"):
        yield
        return
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
        yield


@pytest.fixture(autouse=True)
def reference_lists(request: pytest.FixtureRequest) -> None:
    """Put back the rows a migration seeds (risk types, assistance measures) for a transactional test:
    the flush after the previous transactional test emptied them, so without this a test would pass
    or fail by which transactional test ran before it."""
    marker = request.node.get_closest_marker("django_db")
    transactional_marker = marker is not None and marker.kwargs.get("transaction", False)
    if not ({"transactional_db", "live_server"} & set(request.fixturenames) or transactional_marker):
        return
    import importlib

    from django.apps import apps

    request.getfixturevalue("transactional_db")
    for migration in (
        "households.migrations.0003_seed_reference_lists",
        "industries.migrations.0002_seed_reference_lists",
        "cooperatives.migrations.0003_seed_reference_lists",
        "funds.migrations.0002_seed_project_types",
    ):
        importlib.import_module(migration).seed(apps, None)


@pytest.fixture(autouse=True)
def empty_local_cache() -> None:
    """Each test starts with an empty in-process cache. On SQLite the ids a rolled-back test used are
    handed out again, so a test could find the previous one's dashboard alert counts under the same
    stamp; PostgreSQL never reuses ids, and the Redis cache is left alone (the Celery broker shares
    its database)."""
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    if isinstance(caches["default"], LocMemCache):
        caches["default"].clear()


@pytest.fixture(autouse=True)
def fresh_reference_lists() -> None:
    """Each test starts with the cached reference lists stale (regions/reference.py): its database is
    not the one the last test's lists were read from, and a rolled-back test never told the cache."""
    from regions.reference import reference_stale

    reference_stale()
