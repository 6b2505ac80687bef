"""Every way the app writes reaches the log: the set-based Excel import, and each tracked table has its triggers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.db import connection

from changes.tracked import PARTS, TRACKED
from households.models import Household, Member
from tests.changes.sync import drain
from tests.conftest import Staff
from tests.factories import Tree
from tests.households.excel.test_import import check, confirm, family, workbook
from workbooks.models import ImportStatus

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def test_every_tracked_table_and_part_has_an_insert_update_and_delete_trigger() -> None:
    models = [entry.model for entry in TRACKED] + [part.model for part in PARTS]
    tables = {apps.get_model(model)._meta.db_table for model in models}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
                " WHERE t.tgname LIKE 'changes_log_%%'"
            )
            found = {(table, name.removeprefix("changes_log_")) for table, name in cursor.fetchall()}
        else:
            cursor.execute(
                "SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'changes_log_%'"
            )
            found = {(table, name.rsplit("_", 1)[1]) for table, name in cursor.fetchall()}
    assert found == {(table, event) for table in tables for event in ("insert", "update", "delete")}


def test_a_set_based_roster_import_is_logged_row_by_row(tree: Tree, staff: Staff) -> None:
    rows = family(tree.village_a1.code, "H001", "张三", 3) + family(tree.village_a1.code, "H002", "李四", 2)
    batch = confirm(check(staff.village_clerk, workbook(rows)), staff.village_clerk)
    assert batch.status == ImportStatus.APPLIED

    households = set(Household.objects.values_list("pk", flat=True))
    members = set(Member.objects.values_list("pk", flat=True))
    assert len(households) == 2 and len(members) == 5
    assert drain("households", tree.village_a1.code).rows() == dict.fromkeys(households, ("I", True))
    assert drain("members", tree.village_a1.code).rows() == dict.fromkeys(members, ("I", True))
