"""资金下达 in Excel: a county's allocations and their splits to its townships, amounts in 万元.

The gates of funds.services.allocations hold for the file as a whole: an allocation is not set below
what its splits and funding lines use, and splits stay within what is left of their county
allocation (the file's own splits counted with the recorded ones, row by row in the file's order).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

from funds import money
from funds.models import Allocation
from funds.services import messages
from funds.sheets.base import RowErrors, amount, text
from funds.sheets.sums import ZERO, allocation_usage, allocations_hold
from households.excel import record_columns as cells
from regions.models import Region, regions_visible_to
from workbooks.records import Lookup, Planned, Record, Reference

PARENT_FIXED = "不能通过导入更改所分配的县级资金；如分配有误，请在资金下达页面删除该分配后重新分配"


def county_allocations(user: Any) -> QuerySet[Allocation]:
    """What a split may name as its parent: the county allocations the user sees."""
    return Allocation.objects.visible_to(user).filter(parent__isnull=True)


def regions_in_scope(user: Any) -> QuerySet[Region]:
    return regions_visible_to(user)


def _rules(user: Any, rows: Sequence[Planned]) -> RowErrors:
    changed = [row for row in rows if row.changed]
    if not changed:
        return
    for row in changed:
        if row.before is not None and row.record.parent_id != row.before.parent_id:
            yield row.number, "parent_number", PARENT_FIXED
    # What each allocation the file holds or splits will give away once the file is written.
    involved = {row.record.pk for row in rows if row.record.pk} | {row.record.parent_id for row in rows}
    involved.discard(None)
    usage = allocation_usage(involved)
    for row in rows:
        if row.record.parent_id is not None:
            recorded = row.before.amount if row.before is not None else ZERO
            usage[row.record.parent_id] += row.record.amount - recorded
    refused: set[int] = set()
    for row in changed:
        allocation, before = row.record, row.before
        if before is not None and allocation.amount < before.amount and allocation.amount < usage[allocation.pk]:
            refused.add(allocation.pk)
            yield row.number, "amount", messages.allocation_below_used(usage[allocation.pk])
    yield from _splits_within(rows, usage, refused)


def _splits_within(rows: Sequence[Planned], usage: dict[int, Decimal], refused: set[int]) -> RowErrors:
    """The splits the file adds or raises, in its order, within what is left of their county allocation."""
    held = {row.record.pk: row.record.amount for row in rows if row.record.pk}
    raised: dict[int, list[Planned]] = defaultdict(list)
    for row in rows:
        parent = row.record.parent_id
        grows = row.before is None or row.record.amount > row.before.amount
        if parent is not None and parent not in refused and row.changed and grows:
            raised[parent].append(row)
    for parent, splits in raised.items():
        limit = held.get(parent, splits[0].record.parent.amount)
        if usage[parent] <= limit:
            continue
        left = limit - (usage[parent] - sum((row.record.amount for row in splits), ZERO))
        for row in splits:
            if row.record.amount <= left:
                left -= row.record.amount
                continue
            shown = max(left, ZERO)
            message = messages.split_over_remainder(shown) if row.before is None else messages.split_over_parent(shown)
            yield row.number, "amount", message


ALLOCATIONS = Record(
    name="allocations",
    label="资金下达",
    model=Allocation,
    key=("region", "year", "level", "document_number"),
    columns=(
        cells.year("year", "年度", "year", required=True, aliases=("资金年度",)),
        cells.choice("level", "资金级次", Allocation, "level", required=True, aliases=("级次",)),
        text("document_number", "文号", "document_number", required=True, aliases=("下达文号",), code=True),
        cells.text(
            "region_code",
            "下达区划代码",
            export="region__code",
            aliases=("区划代码",),
            help="接收资金的县的12位区划代码；分配到乡镇的填乡镇的代码",
            code=True,
        ),
        cells.text("region_name", "下达区划", export="region__name", aliases=("接收单位",), help="县或乡镇名称"),
        cells.day("issued_on", "下达日期", "issued_on", required=True),
        amount("amount", "金额（万元）", "amount", money.WAN, aliases=("下达金额（万元）",)),
        text(
            "parent_number",
            "所分配的县级资金文号",
            export="parent__document_number",
            aliases=("所分配资金文号",),
            help="分配到乡镇的资金填写所分配的县级资金的文号（年度、级次与本行相同）；下达到县的留空",
            code=True,
        ),
        text("note", "备注", "note", width=24),
    ),
    references=(
        Reference("region", (Lookup("region_code", "code"), Lookup("region_name", "name")), scope=regions_in_scope),
        Reference(
            "parent",
            (
                Lookup("parent_number", "document_number"),
                Lookup("year", "year", narrows=True),
                Lookup("level", "level", narrows=True),
            ),
            scope=county_allocations,
        ),
    ),
    permission="funds.add_allocation",
    undo_permission="funds.change_allocation",
    visible=Allocation.objects.visible_to,
    managed=Allocation.objects.visible_to,
    across=_rules,
    region_code="region__code",
    subject=str,
    who=("year", "document_number"),
    ordering=("-year", "level", "parent__document_number", "issued_on", "pk"),
    notes=(
        "每行填写一笔下达到县的衔接资金，或县分配到乡镇的一笔资金，以下达区划、年度、资金级次和文号识别。",
        "金额单位为万元，最多保留六位小数（精确到分），如 1.2345 万元即 12,345.00 元。",
        "分配到乡镇的资金填写“所分配的县级资金文号”，且不能超过该笔县级资金的剩余可分配金额；"
        "新下达的县级资金须先导入，再导入其分配。",
        "金额不能少于已分配到乡镇和已安排到项目的金额。文件中没有的下达记录不受影响，删除请在资金下达页面操作。",
    ),
)

recheck = allocations_hold
