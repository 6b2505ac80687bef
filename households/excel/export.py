"""Rows for the roster and income workbooks, read in chunks from any household or income queryset.

The callers pass an already scoped and filtered queryset (`selectors.household_list`), so an
export contains exactly the rows the list shows; nothing here widens or narrows that scope.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any

from django.db.models import F, OuterRef, Prefetch, QuerySet, Subquery

from households.excel.roster_rows import MEMBER_KEYS
from households.excel.writer import SHEET_TITLES, WorkbookKind
from households.id_numbers import mask_id_number, mask_phone
from households.models import (
    AMOUNT_FIELDS,
    MAX_RISK_TYPES,
    Household,
    IncomeRecord,
    Member,
    MonitoringCase,
    Relation,
    RiskType,
)

# Households per round trip: four queries fetch a chunk with its members, cases and risk types.
CHUNK_SIZE = 2000

CASE_KEYS = (
    "category",
    "identified_month",
    *(f"risk_type_{n}" for n in range(1, MAX_RISK_TYPES + 1)),
    "eliminated",
    "eliminated_month",
    "elimination_method",
)


def risk_type_names(*, user: Any) -> list[str]:
    """The 风险类型 names a user's files may hold, in their list order, for the drop-downs: the province's and
    their counties' own, 停用 ones left out (a cell that already holds one is kept as it is)."""
    names = (
        RiskType.objects.visible_to(user)
        .active()
        .order_by(F("region").asc(nulls_first=True), "sort_order", "code")
        .values_list("name", flat=True)
    )
    return list(dict.fromkeys(names))


def roster_rows(
    *, households: QuerySet[Household], reveal_personal_data: bool, chunk_size: int = CHUNK_SIZE
) -> Iterator[dict[str, Any]]:
    """One 花名册 row per active member, household and monitoring columns repeated, in list order.

    身份证号 and phone numbers are masked unless reveal_personal_data.
    """
    ids = list(households.values_list("pk", flat=True))
    members = Prefetch(
        "members", queryset=Member.objects.filter(is_active=True).in_family_order(), to_attr="export_members"
    )
    cases = Prefetch(
        "monitoring_cases",
        queryset=MonitoringCase.objects.prefetch_related("risk_types").order_by("-identified_month", "-pk"),
        to_attr="export_cases",
    )
    for start in range(0, len(ids), chunk_size):
        chunk = ids[start : start + chunk_size]
        loaded = (
            Household.objects.filter(pk__in=chunk)
            .select_related("village__parent__parent")
            .prefetch_related(members, cases)
            .order_by()
        )
        by_id = {household.pk: household for household in loaded}
        for pk in chunk:
            household = by_id.get(pk)
            if household is not None:
                yield from _household_rows(household, reveal_personal_data=reveal_personal_data)


def _household_rows(household: Household, *, reveal_personal_data: bool) -> Iterator[dict[str, Any]]:
    members: list[Member] = household.export_members  # type: ignore[attr-defined]
    village = household.village
    township = village.parent
    county = township.parent if township is not None else None
    head = next((member for member in members if member.relation == Relation.HEAD), None)
    shared: dict[str, Any] = {
        "county": county.name if county is not None else "",
        "township": township.name if township is not None else "",
        "village": village.name,
        "region_code": village.code,
        "household_number": household.number,
        "head_name": head.name if head is not None else "",
        "household_type": household.household_type,
        "lifted_year": household.lifted_year,
        "relocated": household.relocated,
        "phone": household.phone if reveal_personal_data else mask_phone(household.phone),
        **_case_values(household.export_cases),  # type: ignore[attr-defined]
    }
    for member in members:
        id_number = member.id_number if reveal_personal_data else mask_id_number(member.id_number)
        yield {**shared, **member_cells(member, id_number)}


def member_cells(member: Any, id_number: str) -> dict[str, Any]:
    """The member columns of a 花名册 row (column key → value), with the 身份证号 as given."""
    return {"id_number": id_number, **{key: getattr(member, name) for name, key in MEMBER_KEYS}}


def _case_values(cases: list[MonitoringCase]) -> dict[str, Any]:
    """The open case's columns; with only eliminated cases, the latest one; else all empty."""
    case = next((case for case in cases if case.eliminated_month is None), None)
    if case is None and cases:
        case = max(cases, key=lambda case: (case.eliminated_month or date.min, case.identified_month, case.pk))
    if case is None:
        return dict.fromkeys(CASE_KEYS)
    names = [risk_type.name for risk_type in case.risk_types.all()][:MAX_RISK_TYPES]
    return {
        "category": case.category,
        "identified_month": case.identified_month,
        **{f"risk_type_{n}": name for n, name in enumerate(names, start=1)},
        **{f"risk_type_{n}": None for n in range(len(names) + 1, MAX_RISK_TYPES + 1)},
        "eliminated": case.eliminated_month is not None,
        "eliminated_month": case.eliminated_month,
        "elimination_method": case.elimination_method or None,
    }


def income_rows(*, records: QuerySet[IncomeRecord], chunk_size: int = CHUNK_SIZE) -> Iterator[dict[str, Any]]:
    """One 收入表 row per quarterly record, with the 户主's name and the derived totals.

    Without an explicit order, rows come by 户编号, year and quarter.
    """
    heads = Member.objects.filter(household=OuterRef("household_id"), relation=Relation.HEAD, is_active=True)
    annotated = records.annotate(
        export_household_number=F("household__number"),
        export_head_name=Subquery(heads.order_by().values("name")[:1]),
    )
    if not records.query.order_by:
        annotated = annotated.order_by("household__number", "year", "quarter")
    fields = ("year", "quarter", "household_size", *AMOUNT_FIELDS, "net_income", "per_capita_net_income")
    for values in annotated.values("export_household_number", "export_head_name", *fields).iterator(chunk_size):
        yield {
            "household_number": values["export_household_number"],
            "head_name": values["export_head_name"] or "",
            **{name: values[name] for name in fields},
        }


def workbook_rows(
    kind: WorkbookKind, *, households: QuerySet[Household], reveal_personal_data: bool
) -> tuple[Iterator[dict[str, Any]], int]:
    """The rows of a roster or income workbook of these households, and how many there will be.

    The one path of both the immediate and the background export.
    """
    pks = households.order_by().values("pk")
    if kind == "roster":
        count = Member.objects.filter(household__in=pks, is_active=True).count()
        return roster_rows(households=households, reveal_personal_data=reveal_personal_data), count
    records = IncomeRecord.objects.filter(household__in=pks).order_by("household__number", "year", "quarter")
    return income_rows(records=records), records.count()


_UNSAFE_FILENAME = re.compile(r'[\\/:*?"<>|\s]+')


def export_filename(kind: WorkbookKind, region_name: str, when: date) -> str:
    """花名册_金碧镇_20261123.xlsx: what, where and when, safe as a download name."""
    region = _UNSAFE_FILENAME.sub("", region_name) or "全部"
    return f"{SHEET_TITLES[kind]}_{region}_{when:%Y%m%d}.xlsx"
