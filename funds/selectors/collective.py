"""村级集体经济 by township: each village's 经营性收入 of a year up to a quarter against the 50,000
floor (80,000 with a 党建综合体, 001), the gap in yuan, villages below the floor first."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import F, OuterRef, QuerySet, Subquery
from django.http import Http404

from figures.periods import Quarter
from funds.models import INCOME_FIELDS, OPERATING_FIELDS, CollectiveIncome, VillageProfile
from funds.money import share
from regions.models import Level, Region, regions_visible_to

FLOOR = Decimal("50000.00")
PARTY_COMPLEX_FLOOR = Decimal("80000.00")
AVERAGE_TARGET = Decimal("100000.00")


@dataclass(frozen=True)
class VillageIncome:
    village: Region
    income: CollectiveIncome | None
    operating: Decimal | None
    total: Decimal | None
    was_poverty_village: bool
    has_party_complex: bool

    @property
    def gap(self) -> Decimal | None:
        """How far the 经营性收入 is below 50,000 (0 at or above it); None before the village reports."""
        if self.operating is None:
            return None
        return max(FLOOR - self.operating, Decimal("0.00"))

    @property
    def party_gap(self) -> Decimal | None:
        """For a village with a 党建综合体: how far below 80,000."""
        if self.operating is None or not self.has_party_complex:
            return None
        return max(PARTY_COMPLEX_FLOOR - self.operating, Decimal("0.00"))

    @property
    def below(self) -> bool:
        return self.operating is None or self.operating < FLOOR


@dataclass(frozen=True)
class TownshipIncome:
    township: Region
    year: int
    quarter: int
    villages: list[VillageIncome]

    @property
    def reported(self) -> list[VillageIncome]:
        return [row for row in self.villages if row.operating is not None]

    @property
    def at_floor(self) -> int:
        return sum(1 for row in self.reported if not row.below)

    @property
    def floor_share(self) -> Decimal | None:
        """Share of the township's villages at or above 50,000 (villages yet to report count as below)."""
        return share(Decimal(self.at_floor), Decimal(len(self.villages)))

    @property
    def average(self) -> Decimal | None:
        """Average 经营性收入 of the villages that reported."""
        if not self.reported:
            return None
        total = sum((row.operating or Decimal(0) for row in self.reported), Decimal(0))
        return (total / len(self.reported)).quantize(Decimal("0.01"))


def _sum(names: tuple[str, ...]) -> Any:
    expression: Any = F(names[0])
    for name in names[1:]:
        expression = expression + F(name)
    return expression


def operating_sum() -> Any:
    """经营性收入 of a CollectiveIncome row, in SQL: the first four lines."""
    return _sum(OPERATING_FIELDS)


def total_sum() -> Any:
    """总收入 of a CollectiveIncome row, in SQL: all six lines."""
    return _sum(INCOME_FIELDS)


def township_income(*, township: Region, year: int, quarter: int, user: Any) -> TownshipIncome:
    """The township's villages the user may see with their figures for the quarter (three queries)."""
    incomes = {
        income.village_id: income
        for income in CollectiveIncome.objects.filter(village__parent=township, year=year, quarter=quarter).annotate(
            operating=_sum(OPERATING_FIELDS), total=_sum(INCOME_FIELDS)
        )
    }
    profile = VillageProfile.objects.filter(village=OuterRef("pk"), year=year)
    villages = (
        regions_visible_to(user)
        .filter(parent=township, level=Level.VILLAGE)
        .annotate(
            was_poverty_village=Subquery(profile.values("was_poverty_village")[:1]),
            has_party_complex=Subquery(profile.values("has_party_complex")[:1]),
        )
        .order_by("code")
    )
    rows = []
    village: Any
    for village in villages:
        income = incomes.get(village.pk)
        rows.append(
            VillageIncome(
                village=village,
                income=income,
                operating=getattr(income, "operating", None),
                total=getattr(income, "total", None),
                was_poverty_village=bool(village.was_poverty_village),
                has_party_complex=bool(village.has_party_complex),
            )
        )
    rows.sort(key=_order)
    return TownshipIncome(township=township, year=year, quarter=quarter, villages=rows)


def _order(row: VillageIncome) -> tuple[int, Decimal, str]:
    """Villages below the floor first, the widest gap at the top; then those yet to report; then the
    rest, lowest income first."""
    if row.operating is None:
        return (1, Decimal(0), row.village.code)
    return (0 if row.below else 2, row.operating, row.village.code)


def latest_quarter(*, township: Region) -> Quarter | None:
    """The latest quarter any village of the township entered figures for."""
    latest = (
        CollectiveIncome.objects.filter(village__parent=township)
        .order_by("-year", "-quarter")
        .values_list("year", "quarter")
        .first()
    )
    return Quarter(*latest) if latest else None


def income_townships(*, user: Any) -> QuerySet[Region]:
    """Townships the user may open on the collective-income page (a clerk's: their village's)."""
    visible = regions_visible_to(user)
    townships = Region.objects.filter(level=Level.TOWNSHIP).filter(
        pk__in=visible.filter(level=Level.VILLAGE).values("parent")
    )
    return townships.select_related("parent").order_by("code")


def income_township_get(*, user: Any, pk: int | None) -> Region | None:
    townships = income_townships(user=user)
    if pk is None:
        return townships.first()
    try:
        return townships.get(pk=pk)
    except Region.DoesNotExist as error:
        raise Http404("乡镇不存在或不在您的管辖范围内") from error
