"""Hostile files through the web path: each ends on a page that says why, writes nothing, and the server lives on.

test_reader.py checks the reader's defences file by file; here each file goes the way a clerk's does
(the upload form, storage, the queued check, the batch page), in process on SQLite and on a real
worker with PostgreSQL and Redis. Every file is built in memory, so the only files on disk are the
ones the upload stored.
"""

from __future__ import annotations

import csv
import io
import random
import re
import struct
import time
import zipfile
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.test import Client
from django.test.client import BOUNDARY, encode_multipart
from django.urls import reverse

from households.models import Household, Member
from tests.conftest import Staff
from tests.factories import Tree
from tests.households.excel.test_import import ROSTER_HEADER, family, workbook
from workbooks.models import ImportBatch, ImportStatus, StagedRow

MiB = 2**20
SHARED_STRINGS = "xl/sharedStrings.xml"
SHEET_XML = "xl/worksheets/sheet1.xml"
STORED_NAME = re.compile(r"^imports/\d{4}/\d{2}/[0-9a-f]{16}\.[a-z]+$")
# The reader's messages, as the clerk reads them on the batch page.
TOO_LARGE = "文件解压后过大，疑似异常文件，已拒绝"
CORRUPT = "文件已损坏或格式不正确，无法读取，请在 Excel 中重新保存为 .xlsx 后再上传"
XLS_REFUSED = "不支持 .xls 格式，请在 Excel 中“另存为” .xlsx 后再上传"


@dataclass
class Uploaded:
    """What the clerk saw: the upload's answer, then (when a batch was made) the batch page."""

    status_code: int
    batch: ImportBatch | None
    page: str


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    root = tmp_path / "media"
    settings.MEDIA_ROOT = root
    return root


@pytest.fixture
def clerk(transactional_db: None, celery_worker: None, staff: Staff) -> Client:
    """大村村's clerk, logged in; checks run in process, or on a real worker when REDIS_URL is set."""
    client = Client(raise_request_exception=False)
    client.force_login(staff.village_clerk)
    return client


def wait_until_done(batch_id: int, *, timeout: float = 60) -> ImportBatch:
    """The batch once its check or confirmation is over: at once in process, a moment later on a worker."""
    deadline = time.monotonic() + timeout
    while True:
        batch = ImportBatch.objects.get(pk=batch_id)
        if not batch.in_progress:
            return batch
        assert time.monotonic() < deadline, f"batch {batch_id} still {batch.status} after {timeout} s"
        time.sleep(0.1)


def upload(client: Client, name: str, content: bytes) -> Uploaded:
    """POST the file to /imports/ as the upload form does (the file name sent as given), then open the batch page."""
    before = set(ImportBatch.objects.values_list("pk", flat=True))
    # Built by hand: the test client's own encoder would strip the directories from the file name.
    body = encode_multipart(BOUNDARY, {"kind": "roster"}).removesuffix(f"--{BOUNDARY}--\r\n".encode())
    body += (
        (
            f"--{BOUNDARY}\r\n"
            f'Content-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    response = client.post(reverse("import_upload"), body, content_type=f"multipart/form-data; boundary={BOUNDARY}")
    assert response.status_code in (200, 302), response.status_code
    created = ImportBatch.objects.exclude(pk__in=before)
    if response.status_code == 200:
        assert not created.exists()
        return Uploaded(200, None, response.content.decode())
    (batch,) = created
    assert response["Location"] == reverse("import_batch", args=[batch.pk])
    batch = wait_until_done(batch.pk)
    page = client.get(response["Location"])
    assert page.status_code == 200, page.status_code
    return Uploaded(302, batch, page.content.decode())


def assert_nothing_written(media: Path) -> None:
    """No household or member, and every file on disk stored under MEDIA_ROOT/imports/ by its digest."""
    assert not Household.objects.exists() and not Member.objects.exists()
    imports = (media / "imports").resolve()
    on_disk = [path for path in media.parent.rglob("*") if path.is_file()]
    assert all(imports in path.resolve().parents for path in on_disk), on_disk
    for batch in ImportBatch.objects.all():
        assert STORED_NAME.match(batch.file.name), batch.file.name
        assert imports in Path(batch.file.path).resolve().parents


def assert_refused(result: Uploaded, reason: str) -> None:
    """文件被拒绝, the reason on the page, nothing staged and nothing to confirm."""
    assert result.batch is not None
    assert (result.batch.status, result.batch.refusal) == (ImportStatus.REFUSED, reason)
    assert 'data-testid="batch-status-label">文件被拒绝<' in result.page
    assert f'data-testid="refusal">{reason}<' in result.page
    assert "确认导入</button>" not in result.page
    assert not StagedRow.objects.filter(batch=result.batch).exists()


def assert_a_valid_roster_still_imports(client: Client, tree: Tree) -> None:
    """The server survived: a normal roster is checked, confirmed and written as ever."""
    rows = family(tree.village_a1.code, "H101", "赵六", 3) + family(tree.village_a1.code, "H102", "钱七", 2)
    result = upload(client, "大村村花名册.xlsx", workbook(rows))
    assert result.batch is not None and result.batch.status == ImportStatus.READY, result.batch
    assert client.post(reverse("import_batch_confirm", args=[result.batch.pk])).status_code == 302
    assert wait_until_done(result.batch.pk).status == ImportStatus.APPLIED
    assert set(Household.objects.values_list("number", flat=True)) == {"H101", "H102"}
    assert Member.objects.count() == 5


def roster_xlsx(tree: Tree, *, extra_header: list[str] | None = None) -> bytes:
    """A valid one-household roster, with more header columns if asked (their cells left empty)."""
    return workbook(family(tree.village_a1.code, "H001", "张三", 2), header=[*ROSTER_HEADER, *(extra_header or [])])


def csv_bytes(rows: list[list[Any]], encoding: str = "utf-8-sig", delimiter: str = ",") -> bytes:
    text = io.StringIO(newline="")
    csv.writer(text, delimiter=delimiter).writerows(rows)
    return text.getvalue().encode(encoding)


# ---------------------------------------------------------------- building hostile archives


def zeros_member(source: bytes, name: str, size: int) -> bytes:
    """The workbook with one member replaced by `size` zero bytes, deflated to about a thousandth of that."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(source)) as original, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as copy:
        for item in original.infolist():
            if item.filename != name:
                copy.writestr(item, original.read(item.filename))
                continue
            piece = b"\x00" * MiB
            with copy.open(name, "w") as member:
                for _ in range(size // MiB):
                    member.write(piece)
    return buffer.getvalue()


def lying_directory(archive: bytes, name: str, claimed: int = 4096) -> bytes:
    """The archive with `name`'s uncompressed size rewritten to a harmless `claimed` in both of its headers."""
    with zipfile.ZipFile(io.BytesIO(archive)) as original:
        info = original.getinfo(name)
    data = bytearray(archive)
    struct.pack_into("<I", data, info.header_offset + 22, claimed)  # local file header
    central = data.rindex(name.encode()) - 46  # the central directory comes after every member
    assert data[central : central + 4] == b"PK\x01\x02"
    struct.pack_into("<I", data, central + 24, claimed)
    return bytes(data)


MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE = "http://schemas.openxmlformats.org/package/2006"
SPREADSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml"


def shared_strings_xlsx(rows: list[list[Any]], *, doctype: str = "", raw: dict[str, str] | None = None) -> bytes:
    """A workbook as Excel writes one, every text in sharedStrings.xml; `raw` swaps a text for unescaped XML."""
    strings: list[str] = []
    sheet_rows = []
    for number, row in enumerate(rows, start=1):
        cells = []
        for column, value in enumerate(row):
            reference = f"{chr(ord('A') + column)}{number}"
            if isinstance(value, int):
                cells.append(f'<c r="{reference}"><v>{value}</v></c>')
            elif value:
                strings.append(str(value))
                cells.append(f'<c r="{reference}" t="s"><v>{len(strings) - 1}</v></c>')
        sheet_rows.append(f'<row r="{number}">{"".join(cells)}</row>')
    raw = raw or {}
    items = "".join(f"<si><t>{raw.get(text, escape(text))}</t></si>" for text in strings)
    declaration = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    parts = {
        "[Content_Types].xml": f'<Types xmlns="{PACKAGE}/content-types">'
        f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{SPREADSHEET}.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{SPREADSHEET}.worksheet+xml"/>'
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{SPREADSHEET}.sharedStrings+xml"/></Types>',
        "_rels/.rels": f'<Relationships xmlns="{PACKAGE}/relationships"><Relationship Id="rId1" '
        f'Type="{RELATIONSHIPS}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook xmlns="{MAIN}" xmlns:r="{RELATIONSHIPS}"><sheets>'
        '<sheet name="花名册" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{PACKAGE}/relationships">'
        f'<Relationship Id="rId1" Type="{RELATIONSHIPS}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{RELATIONSHIPS}/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
        SHEET_XML: f'<worksheet xmlns="{MAIN}"><sheetData>{"".join(sheet_rows)}</sheetData></worksheet>',
        SHARED_STRINGS: f'{doctype}<sst xmlns="{MAIN}" uniqueCount="{len(strings)}">{items}</sst>',
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, xml in parts.items():
            archive.writestr(name, declaration + xml)
    return buffer.getvalue()


def billion_laughs_doctype() -> str:
    """Entities that would expand to ~3 GB if a parser expanded them, and one that would read /etc/passwd."""
    entities = ['<!ENTITY lol0 "lololololololololololololololololololololololololololololololololol">']
    entities += [f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 9)]
    return f'<!DOCTYPE sst [{"".join(entities)}<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


# ---------------------------------------------------------------- the files, one test each


def test_a_zip_bomb_over_the_uncompressed_limit_is_refused_and_the_server_lives_on(
    clerk: Client, tree: Tree, media: Path, settings: Any
) -> None:
    settings.IMPORT_MAX_UNCOMPRESSED_BYTES = 8 * MiB
    bomb = zeros_member(roster_xlsx(tree), SHEET_XML, 64 * MiB)
    assert len(bomb) < 128 * 1024
    assert_refused(upload(clerk, "花名册.xlsx", bomb), TOO_LARGE)
    assert_nothing_written(media)
    assert_a_valid_roster_still_imports(clerk, tree)


def test_a_zip_bomb_whose_directory_lies_about_its_size_is_refused_and_the_server_lives_on(
    clerk: Client, tree: Tree, media: Path
) -> None:
    bomb = lying_directory(zeros_member(roster_xlsx(tree), SHEET_XML, 256 * MiB), SHEET_XML)
    with zipfile.ZipFile(io.BytesIO(bomb)) as archive:
        assert archive.getinfo(SHEET_XML).file_size == 4096  # the directory passes the size checks
    started = time.monotonic()
    assert_refused(upload(clerk, "花名册.xlsx", bomb), CORRUPT)
    assert time.monotonic() - started < 30
    assert_nothing_written(media)
    assert_a_valid_roster_still_imports(clerk, tree)


def test_a_file_over_the_upload_limit_is_refused_on_the_form_and_not_stored(
    clerk: Client, tree: Tree, media: Path, settings: Any
) -> None:
    settings.IMPORT_MAX_UPLOAD_BYTES = MiB
    result = upload(clerk, "花名册.xlsx", roster_xlsx(tree) + bytes(MiB))
    assert result.status_code == 200
    assert '<ul class="errorlist" id="id_file_error"><li>文件大小超过上限 1 MB</li></ul>' in result.page
    assert not ImportBatch.objects.exists()
    assert not media.exists() or not any(path.is_file() for path in media.rglob("*"))
    assert_nothing_written(media)
    assert_a_valid_roster_still_imports(clerk, tree)


def test_random_bytes_named_xlsx_are_refused_as_a_damaged_workbook(clerk: Client, tree: Tree, media: Path) -> None:
    noise = random.Random(2).randbytes(64 * 1024)
    assert not noise.startswith((b"PK", b"\xd0\xcf"))
    assert_refused(upload(clerk, "花名册.xlsx", noise), CORRUPT)
    assert_nothing_written(media)
    assert_a_valid_roster_still_imports(clerk, tree)


def test_an_old_xls_workbook_is_refused_with_how_to_save_it_as_xlsx(clerk: Client, tree: Tree, media: Path) -> None:
    # The header of an OLE compound file, which every .xls is.
    xls = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(8 * 1024)
    assert_refused(upload(clerk, "花名册.xls", xls), XLS_REFUSED)
    assert_nothing_written(media)
    assert_a_valid_roster_still_imports(clerk, tree)


def test_a_csv_over_the_row_limit_is_refused_naming_the_limit(
    clerk: Client, tree: Tree, media: Path, settings: Any
) -> None:
    # 300,001 rows against the real limit would take minutes; the same rule with a limit of 50.
    settings.IMPORT_MAX_ROWS = 50
    rows = [row for n in range(13) for row in family(tree.village_a1.code, f"H{n:03d}", "张三", 4)]
    assert len(rows) == 52
    result = upload(clerk, "花名册.csv", csv_bytes([ROSTER_HEADER, *rows]))
    assert_refused(result, "超过行数上限 50 行，请拆分为多个文件后分别导入")
    assert_nothing_written(media)
    assert_a_valid_roster_still_imports(clerk, tree)


def test_a_utf16_csv_with_a_nul_byte_and_formulas_is_checked_as_text_and_its_errors_shown_as_text(
    clerk: Client, tree: Tree, media: Path
) -> None:
    rows = family(tree.village_a1.code, "H001", "张三", 3)
    rows[0][ROSTER_HEADER.index("联系电话")] = "=1+1"
    rows[1][ROSTER_HEADER.index("成员姓名")] = '=HYPERLINK("http://x.cn","点")'
    rows[2][ROSTER_HEADER.index("户主姓名")] = "张\x00三"
    content = csv_bytes([ROSTER_HEADER, *rows], "utf-16", "\t")
    assert content.startswith(b"\xff\xfe") and "\x00".encode("utf-16-le") in content
    result = upload(clerk, "花名册.csv", content)
    assert result.batch is not None
    assert result.batch.status == ImportStatus.INVALID, (result.batch.status, result.batch.refusal)
    assert 'data-testid="batch-status-label">有错误，不能导入<' in result.page
    assert "电话号码“=1+1”只能包含数字和“-”" in result.page
    assert "确认导入</button>" not in result.page
    # The annotated workbook quotes the cells back as text: no formula, no hyperlink, no control character.
    response = clerk.get(reverse("import_batch_errors", args=[result.batch.pk]))
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert all(cell.data_type != "f" and cell.hyperlink is None for cell in cells)
    values = [str(cell.value) for cell in cells]
    assert "=1+1" in values and '=HYPERLINK("http://x.cn","点")' in values
    assert not any("\x00" in value for value in values)
    assert_nothing_written(media)
    assert_a_valid_roster_still_imports(clerk, tree)


def test_a_nul_byte_in_a_name_is_an_error_on_its_row_not_a_database_failure_or_a_cut_name(
    clerk: Client, tree: Tree, media: Path
) -> None:
    rows = family(tree.village_a1.code, "H001", "张三", 3)
    rows[2][ROSTER_HEADER.index("成员姓名")] = "张\x00丙"
    result = upload(clerk, "花名册.csv", csv_bytes([ROSTER_HEADER, *rows], "utf-16", "\t"))
    assert result.batch is not None
    assert result.batch.status == ImportStatus.INVALID, (result.batch.status, result.batch.refusal)
    assert [(error["row"], error["column"]) for error in result.batch.errors] == [(4, "成员姓名")]
    assert_nothing_written(media)


def test_zero_width_and_bidi_characters_in_text_cells_are_errors_naming_their_row_and_column(
    clerk: Client, tree: Tree, media: Path
) -> None:
    rows = family(tree.village_a1.code, "H001", "张三", 3)
    rows[1][ROSTER_HEADER.index("户主姓名")] = "张三\u202e"
    rows[2][ROSTER_HEADER.index("成员姓名")] = "张\u200b丙"
    result = upload(clerk, "花名册.csv", csv_bytes([ROSTER_HEADER, *rows]))
    assert result.batch is not None
    assert result.batch.status == ImportStatus.INVALID, (result.batch.status, result.batch.refusal)
    found = sorted((error["row"], error["column"], error["message"]) for error in result.batch.errors)
    assert found == [
        (3, "户主姓名", "含有不可见字符（文字方向控制符 U+202E），请删除后重新填写"),
        (4, "成员姓名", "含有不可见字符（零宽空格 U+200B），请删除后重新填写"),
    ]
    assert "含有不可见字符（零宽空格 U+200B）" in result.page
    assert_nothing_written(media)


def test_a_header_row_of_ten_thousand_columns_is_refused_or_warned_column_by_column(
    clerk: Client, tree: Tree, media: Path
) -> None:
    junk = [f"备用列{n}" for n in range(10_000 - len(ROSTER_HEADER))]
    # 10,000 headers none of which the register knows: no header found.
    result = upload(clerk, "宽表.xlsx", workbook([["x"] * 10_000], header=[*junk, *(f"附加{n}" for n in range(10))]))
    assert result.batch is not None and result.batch.status == ImportStatus.REFUSED
    assert result.batch.refusal.startswith("未找到表头：前10行中没有“")
    assert 'data-testid="refusal">未找到表头' in result.page
    # The roster's ten columns and 9,990 more: read, every unknown column warned by its letter, nothing written.
    result = upload(clerk, "花名册.xlsx", roster_xlsx(tree, extra_header=junk))
    assert result.batch is not None and result.batch.status == ImportStatus.READY
    ignored = result.batch.ignored_columns
    assert len(ignored) == 9_990 and ignored[0] == "备用列0（K列）" and ignored[-1] == "备用列9989（NTP列）"
    assert 'data-testid="ignored-columns"' in result.page and "备用列9989（NTP列）" in result.page
    assert_nothing_written(media)
    assert_a_valid_roster_still_imports(clerk, tree)


def test_billion_laughs_in_shared_strings_is_refused_without_expanding_or_reading_files(
    clerk: Client, tree: Tree, media: Path
) -> None:
    rows = [["大村村花名册"], ROSTER_HEADER, *family(tree.village_a1.code, "H001", "张三", 3)]
    # The same workbook without the entities reads: the refusal below is the entities', not the builder's.
    control = upload(clerk, "花名册.xlsx", shared_strings_xlsx(rows))
    assert control.batch is not None
    assert control.batch.status == ImportStatus.READY, control.batch.refusal
    hostile = shared_strings_xlsx(
        rows, doctype=billion_laughs_doctype(), raw={"大村村花名册": "&lol8;", "张甲": "&xxe;"}
    )
    result = upload(clerk, "花名册.xlsx", hostile)
    assert_refused(result, CORRUPT)
    assert "lollol" not in result.page and "root:" not in result.page
    assert_nothing_written(media)
    assert_a_valid_roster_still_imports(clerk, tree)


@pytest.mark.parametrize("name", ["../../etc/passwd.xlsx", "..\\..\\windows\\win.ini.xlsx", "/tmp/../../passwd.xlsx"])
def test_a_path_in_the_file_name_is_dropped_and_the_file_stored_under_media_root_by_its_digest(
    clerk: Client, tree: Tree, media: Path, name: str
) -> None:
    result = upload(clerk, name, roster_xlsx(tree))
    assert result.batch is not None and result.batch.status == ImportStatus.READY
    base = re.split(r"[/\\]", name)[-1]
    assert result.batch.file_name == base
    assert f"花名册 · {base} · " in result.page
    assert STORED_NAME.match(result.batch.file.name), result.batch.file.name
    assert not (media.parent / "etc").exists() and not (media.parent / "windows").exists()
    download = clerk.get(reverse("import_batch_file", args=[result.batch.pk]))
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    assert "/" not in download["Content-Disposition"] and "\\" not in download["Content-Disposition"]
    assert_nothing_written(media)
    assert_a_valid_roster_still_imports(clerk, tree)


def test_control_characters_in_an_unknown_header_are_stored_as_replacement_marks(
    clerk: Client, tree: Tree, media: Path
) -> None:
    rows = family(tree.village_a1.code, "H001", "张三", 2)
    header = [*ROSTER_HEADER, "备\x00注"]
    result = upload(clerk, "花名册.csv", csv_bytes([header, *[[*row, "x"] for row in rows]], "utf-16", "\t"))
    assert result.batch is not None
    assert result.batch.status == ImportStatus.READY, (result.batch.status, result.batch.refusal)
    assert result.batch.ignored_columns == ["备\ufffd注（K列）"]
