"""How a drill-down list shows its records: one small renderer per model, personal data masked."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse

from assessment import selectors
from households.personal_data import shown_to, text_shown_to
from regions.models import Region


@dataclass
class Cell:
    text: str
    link: str = ""
    numeric: bool = False


@dataclass
class Table:
    headers: list[tuple[str, bool]]  # (label, numeric)
    rows: list[list[Cell]] = field(default_factory=list)


def _yuan_from_fen(fen: int | None) -> str:
    if fen is None:
        return "—"
    return f"{(Decimal(fen) / 100).quantize(Decimal('0.01')):,.2f}"


def _month(day: date) -> str:
    return f"{day.year}年{day.month}月"


def _village_names(codes: set[str]) -> dict[str, str]:
    regions = Region.objects.filter(code__in=codes).select_related("parent")
    return {region.code: f"{region.parent.name if region.parent else ''} {region.name}" for region in regions}


def household_facts(records: Sequence[Any], user: Any) -> Table:
    """Rows of HouseholdQuarterFact: the household, its place and the figures the indicators read."""
    heads = selectors.household_heads(household_ids=[record.household_id for record in records])
    villages = _village_names({record.village_code for record in records})
    table = Table(
        headers=[
            ("户编号", False),
            ("户主", False),
            ("户主身份证号", False),
            ("乡镇 / 村", False),
            ("类别", False),
            ("家庭人口", True),
            ("近四季度人均纯收入（元）", True),
            ("监测标准（元）", True),
            ("本季度收入", False),
        ]
    )
    for record in records:
        head_name, head_id = heads.get(record.household_id, ("", ""))
        kinds = [label for flag, label in ((record.lifted, "脱贫户"), (record.monitored, "监测对象")) if flag]
        table.rows.append(
            [
                Cell(
                    text_shown_to(user, record.household.number),
                    link=reverse("household_detail", args=[record.household_id]),
                ),
                Cell(head_name or "—"),
                Cell(shown_to(user, "id_number", head_id) or "—"),
                Cell(villages.get(record.village_code, record.village_code)),
                Cell("、".join(kinds) or "一般农户"),
                Cell("—" if record.size is None else str(record.size), numeric=True),
                Cell(_yuan_from_fen(record.per_capita_fen), numeric=True),
                Cell(_yuan_from_fen(record.threshold_fen), numeric=True),
                Cell("已录入" if record.recorded else "未录入"),
            ]
        )
    return table


def village_populations(records: Sequence[Any], user: Any) -> Table:
    """Rows of VillagePopulation: a village's registered rural population for the year."""
    table = Table(headers=[("乡镇 / 村", False), ("年度", True), ("农村人口（人）", True), ("数据来源", False)])
    for record in records:
        village = record.village
        table.rows.append(
            [
                Cell(f"{village.parent.name if village.parent else ''} {village.name}"),
                Cell(str(record.year), numeric=True),
                Cell(f"{record.population:,}", numeric=True),
                Cell(record.source or "—"),
            ]
        )
    return table


def monitoring_cases(records: Sequence[Any], user: Any) -> Table:
    """Rows of MonitoringCase: the household, its place, the case's category, risk types and dates."""
    from households.models import MonitoringCase

    heads = selectors.household_heads(household_ids=[record.household_id for record in records])
    through = MonitoringCase.risk_types.through
    risks: dict[int, list[str]] = {}
    for case_id, name in (
        through.objects.filter(monitoringcase_id__in=[record.pk for record in records])
        .order_by("risktype__sort_order", "risktype__code")
        .values_list("monitoringcase_id", "risktype__name")
    ):
        risks.setdefault(case_id, []).append(name)
    table = Table(
        headers=[
            ("户编号", False),
            ("户主", False),
            ("户主身份证号", False),
            ("乡镇 / 村", False),
            ("监测对象类别", False),
            ("风险类型", False),
            ("识别时间", False),
            ("风险消除时间", False),
        ]
    )
    for record in records:
        household = record.household
        village = household.village
        head_name, head_id = heads.get(record.household_id, ("", ""))
        table.rows.append(
            [
                Cell(text_shown_to(user, household.number), link=reverse("household_detail", args=[household.pk])),
                Cell(head_name or "—"),
                Cell(shown_to(user, "id_number", head_id) or "—"),
                Cell(f"{village.parent.name if village.parent else ''} {village.name}"),
                Cell(record.get_category_display()),
                Cell("、".join(risks.get(record.pk, [])) or "—"),
                Cell(_month(record.identified_month)),
                Cell(_month(record.eliminated_month) if record.eliminated_month else "未消除"),
            ]
        )
    return table


def generic(records: Sequence[Any], user: Any) -> Table:
    """Any other model an indicator lists (added by later apps): its text, masked as free text."""
    table = Table(headers=[("记录", False)])
    for record in records:
        table.rows.append([Cell(text_shown_to(user, str(record)))])
    return table


Renderer = Callable[[Sequence[Any], Any], Table]
# model label → (select_related for the page, renderer)
RENDERERS: dict[str, tuple[tuple[str, ...], Renderer]] = {
    "households.householdquarterfact": (("household",), household_facts),
    "households.villagepopulation": (("village", "village__parent"), village_populations),
    "households.monitoringcase": (("household", "household__village", "household__village__parent"), monitoring_cases),
}


def _renderer_for(records: QuerySet[Any]) -> tuple[tuple[str, ...], Renderer]:
    label: str = records.model._meta.label_lower
    if label in RENDERERS:
        return RENDERERS[label]
    return (), generic


def prepare(records: QuerySet[Any]) -> QuerySet[Any]:
    """The queryset with what its renderer reads joined in."""
    related, _ = _renderer_for(records)
    return records.select_related(*related) if related else records


def render(records: QuerySet[Any], page: Sequence[Any], user: Any) -> Table:
    _, renderer = _renderer_for(records)
    return renderer(page, user)


def noun(records: QuerySet[Any]) -> str:
    """What one record is, for the count line: 户 for households, 个村 for villages, 条 otherwise."""
    return {
        "households.householdquarterfact": "户",
        "households.monitoringcase": "户",
        "households.villagepopulation": "个村",
    }.get(records.model._meta.label_lower, "条")
