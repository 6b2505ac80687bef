"""The isolated reader sends a file's rows a block at a time and the roster parses each as it comes."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from households.excel.columns import ROSTER_COLUMNS
from households.excel.roster_rows import Cells, ParsedColumns
from tests.conftest import Staff
from tests.factories import Tree, id_number
from tests.households.excel.test_import import ROSTER_HEADER as PLAIN_ROSTER_HEADER
from tests.households.excel.workbooks import ROSTER_HEADER, roster_row, write_csv, write_xlsx
from workbooks import isolated
from workbooks.batches import import_batch_check, import_batch_create
from workbooks.collect import BLOCK_ROWS
from workbooks.models import ImportStatus
from workbooks.plan import Counter, Plan
from workbooks.reader import FileRefused, _assemble, read_table, read_table_isolated

LIMITS: dict[str, Any] = {"max_rows": 3 * BLOCK_ROWS, "max_uncompressed_bytes": 50 * 2**20}
MORE_THAN_A_BLOCK = BLOCK_ROWS + 300


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def long_roster(path: Path) -> Path:
    rows = [roster_row(n) for n in range(MORE_THAN_A_BLOCK)]
    rows.insert(BLOCK_ROWS - 3, [""] * len(ROSTER_HEADER))  # a blank row: left out, as everywhere
    return write_csv(path, [ROSTER_HEADER, *rows])


def test_a_file_of_several_blocks_reads_as_one_table_and_its_blocks_cover_every_row_in_order(tmp_path: Path) -> None:
    path = long_roster(tmp_path / "roster.csv")
    arguments: dict[str, Any] = {"columns": ROSTER_COLUMNS, "original_name": path.name, **LIMITS}
    whole = read_table(path, **arguments)
    assert whole.row_count == MORE_THAN_A_BLOCK
    assert read_table_isolated(path, **arguments) == whole

    blocks: list[tuple[int, dict[str, Any]]] = []
    taken = read_table_isolated(path, **arguments, on_rows=lambda first, raw: blocks.append((first, raw)))
    assert [first for first, _ in blocks] == [0, BLOCK_ROWS]
    assert taken.row_numbers == whole.row_numbers and taken.data == []
    for key, column in whole.columns().items():
        assert [value for _, raw in blocks for value in raw[key]] == list(column)


def test_a_refusal_after_blocks_were_handed_over_still_refuses_the_whole_file(tmp_path: Path) -> None:
    path = long_roster(tmp_path / "roster.csv")
    blocks: list[int] = []
    with pytest.raises(FileRefused) as caught:
        read_table_isolated(
            path,
            columns=ROSTER_COLUMNS,
            original_name=path.name,
            max_rows=BLOCK_ROWS + 1,
            max_uncompressed_bytes=LIMITS["max_uncompressed_bytes"],
            on_rows=lambda first, raw: blocks.append(first),
        )
    assert caught.value.message == f"超过行数上限 {BLOCK_ROWS + 1} 行，请拆分为多个文件后分别导入"
    assert blocks == [0]


def test_cells_parsed_block_by_block_are_those_parsed_at_once(tmp_path: Path) -> None:
    rows = [roster_row(n) for n in range(40)]
    rows[3][ROSTER_HEADER.index("身份证号")] = "123"  # unreadable cells in several blocks
    rows[17][ROSTER_HEADER.index("成员姓名")] = ""
    rows[33][ROSTER_HEADER.index("务工月数")] = "十三"
    path = write_xlsx(tmp_path / "roster.xlsx", [ROSTER_HEADER, *rows])
    table = read_table(path, columns=ROSTER_COLUMNS, original_name=path.name, **LIMITS)
    at_once, in_blocks = ParsedColumns(), ParsedColumns()
    at_once.feed(0, table.columns())
    columns = table.columns()
    for first in range(0, table.row_count, 7):
        in_blocks.feed(first, {key: column[first : first + 7] for key, column in columns.items()})
    assert in_blocks.columns == at_once.columns and in_blocks.raw == at_once.raw

    def reported(parsed: ParsedColumns) -> list[tuple[int, str, str]]:
        plan = Plan(sheet="花名册", counts={"members": Counter()})
        Cells(plan, table.row_numbers, parsed)
        return [(error.row, error.column, error.message) for error in plan.errors]

    assert reported(in_blocks) == reported(at_once)
    assert [row for row, _, _ in reported(in_blocks)] == [5, 19, 35]


def test_a_roster_of_several_blocks_previews_every_row(tree: Tree, staff: Staff, tmp_path: Path) -> None:
    code = tree.village_a1.code
    relations = ["户主", "配偶", "之子", "之女"]
    rows = []
    for index in range(MORE_THAN_A_BLOCK + 4 - MORE_THAN_A_BLOCK % 4):
        # Birth dates spread, as in a county: the factory makes only a few hundred numbers per date.
        born = (date(1980, 1, 1) + timedelta(days=index)).strftime("%Y%m%d")
        member = [f"张{index % 4}", id_number(born), relations[index % 4], "普通劳动力"]
        rows.append([code, f"B{index // 4:05d}", "张0", "脱贫户", 2019, "13800000000", *member])
    path = write_csv(tmp_path / "花名册.csv", [PLAIN_ROSTER_HEADER, *rows])
    upload = SimpleUploadedFile(path.name, path.read_bytes())
    batch = import_batch_create(by=staff.village_clerk, kind="roster", upload=upload)
    batch = import_batch_check(batch_id=batch.pk)
    assert batch.status == ImportStatus.READY, batch.errors[:3]
    assert batch.row_count == len(rows) > BLOCK_ROWS
    assert batch.counts["members"]["new"] == len(rows)


@pytest.mark.parametrize(
    "items",
    [
        [("rows", [3], [["x"]]), ("end",)],  # rows before the table's start
        [("start", "花名册", 2, {"household_number": 2}, []), ("rows", [3, 4], [["x"]]), ("end",)],
        [("start", "花名册", 2, {"household_number": 2}, []), ("rows", [3], [["x"]])],  # never ended
        [("start", "花名册", 2, {"household_number": 2}, []), ("import os",)],
    ],
    ids=["rows-first", "short-column", "no-end", "unknown-item"],
)
def test_an_answer_that_does_not_make_a_table_is_a_failed_parse(items: list[tuple[Any, ...]]) -> None:
    with pytest.raises(isolated.IsolatedFailure):
        _assemble(items, None)


def test_a_child_announcing_a_frame_larger_than_its_memory_is_refused_without_reading_it() -> None:
    answers = isolated.stream_isolated(
        "tests.workbooks.hostile_child:huge_frame",
        {},
        memory_limit_bytes=64 * 2**20,
        timeout_seconds=30,
        label="hostile",
    )
    with pytest.raises(isolated.IsolatedFailure, match="unreadable answer: a frame of"):
        list(answers)
