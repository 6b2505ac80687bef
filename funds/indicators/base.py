"""What the fund and collective-income figures share: money in exact fen, the year's money, and one
query per level that joins several grouped querysets.

Whose money: an allocation belongs to the region it was issued to — the county for its own
allocations, a township for a split. A county (and everything above it) counts its own allocations
once, whatever part of them it split, and every funding line drawn from them or from their splits;
a township counts only its splits and the lines drawn from them. So no yuan is counted twice at any
level, and a township without splits has no fund figures.

The year's money of a quarter: allocations of the quarter's year issued on or before its last day
(提前下达 in the year before included), every funding line drawn from them, and the payments on
those lines made on or before that day (年内累计). A payment made in a later year on a line of this
year's money counts for this year's money, in the later year's quarters of nothing: each quarter
reads its own year's allocations.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import BigIntegerField, F, Q, QuerySet, Value
from django.db.models.functions import Cast, Round

from figures.periods import Quarter
from figures.registry import level_key
from funds.models import Allocation, Funding, Payment, Project
from regions.models import Level, Region

FUNDS = "衔接资金"
COLLECTIVE = "村集体经济"
CENTS = Decimal("0.01")
HOUSEHOLDS_PER_MILLION = "户/百万元"
PROJECTS = "个"

INDUSTRY = Q(project_type__is_industry=True)


def fen(field: str) -> Cast:
    """A money column in whole fen: sums are exact on SQLite (whose decimals are floats) and PostgreSQL."""
    return Cast(Round(F(field) * Value(Decimal(100))), BigIntegerField())


def yuan(fen_total: Any) -> Decimal:
    return (Decimal(fen_total or 0) / 100).quantize(CENTS)


def money_level(level: int) -> int:
    """The region level whose allocations a figure of `level` reads: its own splits for a township,
    the counties' allocations for a county and above."""
    return Level.TOWNSHIP if level >= Level.TOWNSHIP else Level.COUNTY


def allocations_of(
    period: Quarter, *, level: int, fund_level: str | None = None, model: type[Allocation] = Allocation
) -> QuerySet[Allocation]:
    """The year's allocations that a region of `level` received (see the module docstring)."""
    allocations = model.objects.filter(
        year=period.year, issued_on__lte=period.last_day, parent__isnull=money_level(level) == Level.COUNTY
    )
    return allocations.filter(level=fund_level) if fund_level else allocations


def fundings_of(
    period: Quarter, *, level: int, fund_level: str | None = None, model: type[Funding] = Funding
) -> QuerySet[Funding]:
    """Funding lines drawn from the year's money that a region of `level` holds."""
    fundings = model.objects.filter(allocation__year=period.year, allocation__issued_on__lte=period.last_day)
    if money_level(level) == Level.TOWNSHIP:
        fundings = fundings.filter(allocation__parent__isnull=False)
    return fundings.filter(allocation__level=fund_level) if fund_level else fundings


def payments_of(
    period: Quarter, *, level: int, fund_level: str | None = None, model: type[Payment] = Payment
) -> QuerySet[Payment]:
    """Payments made by the quarter's end on those funding lines."""
    payments = model.objects.filter(
        paid_on__lte=period.last_day,
        funding__allocation__year=period.year,
        funding__allocation__issued_on__lte=period.last_day,
    )
    if money_level(level) == Level.TOWNSHIP:
        payments = payments.filter(funding__allocation__parent__isnull=False)
    return payments.filter(funding__allocation__level=fund_level) if fund_level else payments


def industry_projects_funded(period: Quarter) -> QuerySet[Project]:
    """产业发展 projects with a funding line from the year's money (issued by the quarter's end)."""
    funded = Funding.objects.filter(allocation__year=period.year, allocation__issued_on__lte=period.last_day).values(
        "project_id"
    )
    return Project.objects.filter(INDUSTRY, pk__in=funded)


def by_unit(rows: QuerySet[Any], code_field: str, /, *, level: int, within: str, **aggregates: Any) -> QuerySet[Any]:
    """Rows under the code prefix `within`, grouped by the unit of `level` they lie in."""
    return (
        rows.filter(**{f"{code_field}__startswith": within})
        .annotate(unit=level_key(code_field, level))
        .values("unit")
        .annotate(**aggregates)
        .order_by()
    )


def grouped_together(*parts: QuerySet[Any], level: int, within: str) -> list[tuple[Any, ...]]:
    """One query: every region of `level` under `within`, and each grouped queryset (from `by_unit`)
    as a CTE joined on the unit. Rows are (unit, then each part's aggregates, 0 where a unit has no
    row there): a region without money or reports still gets its figure, of nothing. The drill-down
    lists filter with the same querysets, so a list and its figure cannot drift apart."""
    quote = connection.ops.quote_name
    units = Region.objects.filter(level=level, code__startswith=within).annotate(unit=level_key("code", level))
    sql, params = units.values("unit").order_by().query.sql_with_params()
    ctes: list[str] = [f"units AS ({sql})"]
    parameters: list[Any] = list(params)
    columns: list[str] = []
    joins: list[str] = []
    for position, grouped in enumerate(parts):
        name = f"part{position}"
        sql, params = grouped.query.sql_with_params()
        ctes.append(f"{name} AS ({sql})")
        parameters.extend(params)
        columns += [
            f"COALESCE({name}.{quote(column)}, 0)" for column in grouped.query.annotation_select if column != "unit"
        ]
        joins.append(f"LEFT JOIN {name} ON {name}.{quote('unit')} = units.{quote('unit')}")
    sql = f"WITH {', '.join(ctes)} SELECT units.{quote('unit')}, {', '.join(columns)} FROM units {' '.join(joins)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, parameters)
        return list(cursor.fetchall())
