"""村级集体经济收入 in Excel: a village's six lines of income from 1 January to a quarter's end, in 元.

As on the entry page (funds.services.collective), a quarter that has not begun cannot be reported,
and a quarter the village has submitted or the township has approved is not the village's to change:
such a row is refused, never written over. Submitting and reviewing stay on the page.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from figures.periods import Quarter
from funds import money
from funds.models import CollectiveIncome
from funds.services import messages
from funds.services.collective import EDITABLE
from funds.sheets.base import RowErrors, amount, shown_status, status_unchanged
from households.excel import record_columns as cells
from households.excel.cell_parsers import parse_quarter
from regions.models import Region, regions_visible_to
from workbooks.records import Column, Lookup, Planned, Record, Reference

NEW_IS_DRAFT = "新填报的收入导入后为填报中；提交、审核请在填报页面办理"
STATUS_FIXED = "审核状态为“{status}”，不能通过导入修改；提交、审核请在填报页面办理"
CUMULATIVE = "当年1月1日至该季度末的累计数，未发生填0或留空"
LINES = (
    ("business_income", "经营收入（元）"),
    ("contracting_income", "发包及上交收入（元）"),
    ("investment_income", "投资收益（元）"),
    ("asset_income", "资产租赁及项目资产收益（元）"),
    ("subsidy_income", "补助收入（元）"),
    ("other_income", "其他收入（元）"),
)


def villages_in_scope(user: Any) -> QuerySet[Region]:
    return regions_visible_to(user)


def _rules(user: Any, rows: Sequence[Planned]) -> RowErrors:
    yield from status_unchanged(rows, "review_status", "review_status", new=NEW_IS_DRAFT, changed=STATUS_FIXED)
    today = timezone.localdate()
    for row in rows:
        income = row.record
        if not row.changed:
            continue
        if not Quarter(income.year, income.quarter).has_begun(today):
            yield row.number, "quarter", messages.quarter_not_begun(income.year, income.quarter)
        elif row.before is not None and income.review_status not in EDITABLE:
            period = messages.income_period(income.year, income.quarter)
            yield row.number, "review_status", messages.income_locked(period, income.get_review_status_display())


COLLECTIVE_INCOMES = Record(
    name="collective",
    label="村集体经济收入",
    model=CollectiveIncome,
    key=("village", "year", "quarter"),
    columns=(
        cells.text(
            "village_code",
            "村区划代码",
            export="village__code",
            aliases=("区划代码",),
            help="12位统计用区划代码，优先于村名",
            code=True,
        ),
        cells.text("village_name", "村", export="village__name", aliases=("村名", "行政村")),
        cells.year("year", "年度", "year", required=True),
        Column(
            "quarter",
            "截至季度",
            parse_quarter,
            field="quarter",
            required=True,
            aliases=("季度",),
            help="1至4：收入为当年1月1日至该季度末的累计数",
        ),
        *(amount(field, header, field, money.YUAN, required=False, help=CUMULATIVE) for field, header in LINES),
        shown_status(
            "review_status",
            "审核状态",
            CollectiveIncome,
            "review_status",
            help="仅供核对：提交、审核在填报页面办理；已提交、已审核的季度不能修改",
        ),
    ),
    references=(
        Reference("village", (Lookup("village_code", "code"), Lookup("village_name", "name")), scope=villages_in_scope),
    ),
    permission="funds.add_collectiveincome",
    undo_permission="funds.change_collectiveincome",
    visible=CollectiveIncome.objects.visible_to,
    managed=CollectiveIncome.objects.visible_to,
    across=_rules,
    region_code="village__code",
    subject=str,
    who=("village_name", "year", "quarter"),
    ordering=("village__code", "year", "quarter", "pk"),
    notes=(
        "每行填写一个行政村一年中截至某季度末的累计收入，以村、年度和季度识别；金额单位为元，精确到分。",
        "经营性收入 = 经营收入 + 发包及上交收入 + 投资收益 + 资产租赁及项目资产收益；总收入再加补助收入和其他收入。",
        "已提交或已审核的季度不能通过导入修改，如需更正请乡镇退回后再导入。",
    ),
)
