"""The admin's django-import-export buttons: scoped rows, masked by role, formula-safe, recorded."""

from __future__ import annotations

import io
import zipfile

import openpyxl
from django.test import Client
from django.urls import reverse

from households.excel.models import ExportRecord
from tests.conftest import Staff
from tests.factories import PASSWORD, Tree, household


def export(client: Client, model: str) -> bytes:
    url = reverse(f"admin:households_{model}_export")
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["form"]
    # Every column the export form offers, ticked as it is by default.
    data = {
        "format": "0",
        "resource": "0",
        **{name: "on" for name, field in form.fields.items() if field.initial is True},
    }
    response = client.post(url, data)
    assert response.status_code == 200, response.content[:500]
    return response.content


def test_admin_export_is_scoped_masked_formula_safe_and_recorded(tree: Tree, staff: Staff) -> None:
    mine = household(staff.village_clerk, tree.village_a1, phone="13812345678", address='=HYPERLINK("http://x")')
    household(staff.other_township_admin, tree.village_b1, number="ELSEWHERE")
    client = Client()
    assert client.login(username=staff.county_viewer.username, password=PASSWORD)
    content = export(client, "household")
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    numbers = [row[0] for row in rows[1:]]
    assert mine.number in numbers and "ELSEWHERE" in numbers  # the county sees both townships
    assert "13812345678" not in content.decode("latin-1")
    assert any(cell == "138****5678" for row in rows for cell in row)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode()
    assert any(cell == '=HYPERLINK("http://x")' for row in rows for cell in row)
    record = ExportRecord.objects.get()
    assert record.exported_by == staff.county_viewer and record.masked

    township = Client()
    assert township.login(username=staff.township_admin.username, password=PASSWORD)
    scoped = openpyxl.load_workbook(io.BytesIO(export(township, "household"))).active
    assert scoped is not None
    assert "ELSEWHERE" not in [row[0] for row in scoped.iter_rows(values_only=True)]
