"""Columns the import does not understand are named in the preview and by the command, never dropped silently."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from households.models import Household
from tests.conftest import Staff
from tests.factories import PASSWORD, Tree
from tests.households.excel.test_import import ROSTER_HEADER, check, confirm, family, workbook
from workbooks.models import ImportStatus

PHONE = ROSTER_HEADER.index("联系电话")
RENAMED = [("联系方式" if text == "联系电话" else text) for text in ROSTER_HEADER]
WARNING = "以下列未被识别，其中的数据不会导入：联系方式（F列）"


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def renamed_with_new_phones(rows: list[list[Any]]) -> bytes:
    """The same rows with 199… numbers, under a 联系方式 header the register does not know."""
    for row in rows:
        row[PHONE] = "19912345678"
    return workbook(rows, header=RENAMED)


def test_a_renamed_phone_column_is_named_in_the_preview_instead_of_unchanged_in_silence(
    tree: Tree, staff: Staff
) -> None:
    rows = family(tree.village_a1.code, "H001", "张三", 2)
    confirm(check(staff.village_clerk, workbook(rows)), staff.village_clerk)
    batch = check(staff.village_clerk, renamed_with_new_phones(rows))
    assert batch.status == ImportStatus.UNCHANGED, batch.errors
    assert batch.ignored_columns == ["联系方式（F列）"]
    client = Client()
    client.login(username=staff.village_clerk.username, password=PASSWORD)
    page = client.get(reverse("import_batch", args=[batch.pk])).content.decode()
    assert WARNING in page
    assert Household.objects.get(number="H001").phone == "13800000000"


def test_a_file_whose_columns_are_all_known_shows_no_warning(tree: Tree, staff: Staff) -> None:
    batch = check(staff.village_clerk, workbook(family(tree.village_a1.code, "H001", "张三", 2)))
    assert batch.ignored_columns == []
    client = Client()
    client.login(username=staff.village_clerk.username, password=PASSWORD)
    assert "未被识别" not in client.get(reverse("import_batch", args=[batch.pk])).content.decode()


def test_the_import_command_prints_the_ignored_columns(tree: Tree, staff: Staff, tmp_path: Path) -> None:
    path = tmp_path / "renamed.xlsx"
    path.write_bytes(renamed_with_new_phones(family(tree.village_a1.code, "H001", "张三", 2)))
    out = io.StringIO()
    call_command("import_roster", str(path), "--dry-run", stdout=out)
    assert WARNING in out.getvalue()
