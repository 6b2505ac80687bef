"""The error workbook: the uploaded table with its bad cells marked, for every file the reader accepts."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import Staff
from tests.factories import PASSWORD, Tree
from tests.households.excel.test_import import ROSTER_HEADER, check, family, workbook
from tests.households.excel.workbooks import write_csv
from workbooks import errors_workbook as errors_workbook_module
from workbooks.errors_workbook import errors_workbook
from workbooks.models import ImportBatch, ImportStatus

LABOUR = ROSTER_HEADER.index("劳动技能") + 1
ID_NUMBER = ROSTER_HEADER.index("身份证号") + 1


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def bad_rows(tree: Tree) -> list[list[Any]]:
    """Two households; the second member of the first has an unknown 劳动技能 (row 3 under a header in row 1)."""
    rows = family(tree.village_a1.code, "H001", "张三", 2) + family(tree.village_a1.code, "H002", "李四", 2)
    rows[1][LABOUR - 1] = "很能干"
    return rows


def csv_batch(tree: Tree, staff: Staff, tmp_path: Path, encoding: str, delimiter: str) -> ImportBatch:
    path = write_csv(tmp_path / "花名册.csv", [ROSTER_HEADER, *bad_rows(tree)], encoding=encoding, delimiter=delimiter)
    batch = check(staff.village_clerk, path.read_bytes(), name="花名册.csv")
    assert batch.status == ImportStatus.INVALID, batch.refusal
    assert [(e["row"], e["column"]) for e in batch.errors] == [(3, "劳动技能")]
    return batch


def marked(content: bytes) -> tuple[list[Any], Any]:
    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    return [cell.value for cell in sheet[1]], sheet


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("utf-8-sig", ","), ("utf-8", ","), ("gbk", ","), ("gbk", ";"), ("utf-16", "\t"), ("utf-8-sig", "\t")],
)
def test_the_error_workbook_of_a_csv_marks_the_bad_cell_in_every_encoding_and_delimiter(
    tree: Tree, staff: Staff, tmp_path: Path, encoding: str, delimiter: str
) -> None:
    header, sheet = marked(errors_workbook(csv_batch(tree, staff, tmp_path, encoding, delimiter)))
    assert header == [*ROSTER_HEADER, "错误说明"]
    assert sheet.cell(row=3, column=LABOUR).value == "很能干"
    assert sheet.cell(row=3, column=LABOUR).fill.fgColor.rgb.endswith("FFC7CE")
    assert "劳动技能" in sheet.cell(row=3, column=len(header)).value
    assert sheet.cell(row=2, column=len(header)).value is None
    # Text stays text: the 身份证号 keeps its 18 characters.
    id_number = sheet.cell(row=3, column=ID_NUMBER).value
    assert isinstance(id_number, str) and len(id_number) == 18


def test_the_error_workbook_download_of_a_utf16_csv_answers(tree: Tree, staff: Staff, tmp_path: Path) -> None:
    batch = csv_batch(tree, staff, tmp_path, "utf-16", "\t")
    client = Client()
    client.login(username=staff.village_clerk.username, password=PASSWORD)
    response = client.get(reverse("import_batch_errors", args=[batch.pk]))
    assert response.status_code == 200
    header, _ = marked(response.content)
    assert header[-1] == "错误说明"


def test_the_upload_is_never_opened_with_openpyxl_in_the_calling_process(
    tree: Tree, staff: Staff, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the upload was opened in the web process")

    monkeypatch.setattr(openpyxl, "load_workbook", refuse)
    monkeypatch.setattr(errors_workbook_module, "load_workbook", refuse, raising=False)
    batch = check(staff.village_clerk, workbook(bad_rows(tree)))
    content = errors_workbook(batch)
    monkeypatch.undo()
    sheet = openpyxl.load_workbook(io.BytesIO(content))["花名册"]
    header = [cell.value for cell in sheet[2]]
    assert header[-1] == "错误说明"
    assert sheet.cell(row=1, column=1).value == "大村村花名册"
    assert sheet.cell(row=4, column=LABOUR).fill.fgColor.rgb.endswith("FFC7CE")


def test_text_that_looks_like_a_formula_comes_back_as_text(tree: Tree, staff: Staff, tmp_path: Path) -> None:
    rows = bad_rows(tree)
    rows[1][LABOUR - 1] = '=HYPERLINK("http://example.com")'
    path = write_csv(tmp_path / "花名册.csv", [ROSTER_HEADER, *rows])
    batch = check(staff.village_clerk, path.read_bytes(), name="花名册.csv")
    _, sheet = marked(errors_workbook(batch))
    cell = sheet.cell(row=3, column=LABOUR)
    assert (cell.value, cell.data_type) == (rows[1][LABOUR - 1], "s")


def test_an_aliased_header_still_gets_its_cells_marked(tree: Tree, staff: Staff) -> None:
    header = [("身份证号码" if text == "身份证号" else text) for text in ROSTER_HEADER]
    rows = bad_rows(tree)
    rows[1][ID_NUMBER - 1] = "123"
    batch = check(staff.village_clerk, workbook(rows, header=header))
    sheet = openpyxl.load_workbook(io.BytesIO(errors_workbook(batch)))["花名册"]
    assert sheet.cell(row=4, column=ID_NUMBER).fill.fgColor.rgb.endswith("FFC7CE")


def test_without_the_upload_the_errors_are_still_listed(tree: Tree, staff: Staff) -> None:
    batch = check(staff.village_clerk, workbook(bad_rows(tree)))
    Path(batch.file.path).unlink()
    sheet = openpyxl.load_workbook(io.BytesIO(errors_workbook(batch))).worksheets[0]
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == ["工作表", "行", "列", "户编号 / 姓名", "原因"]
    assert values[1][:3] == ["花名册", 4, "劳动技能"]
