"""明白卡 (the household assistance card): what is printed on it, for one household or a whole village.

Later registers (cooperative memberships, …) add their lines through `register_card_section`, from
their AppConfig.ready(); the card's template renders whatever sections are registered, so it never
has to be edited for them. A section source reads for all the cards of a document at once: a
village's cards take the same number of queries for 5 households as for 500.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Prefetch, Q
from django.http import Http404
from django.utils import timezone

from households import formulas, personal_data
from households.excel.models import ExportKind, ExportRecord
from households.models import (
    Household,
    HouseholdStatus,
    IncomeRecord,
    Member,
    MonitoringCase,
    MonitoringThreshold,
    Relation,
)
from households.quarter import Quarter
from households.selectors import threshold_for
from regions.models import Level, Region, regions_visible_to


@dataclass(frozen=True)
class CardSection:
    """A block of lines a later register adds to every card: a title, column headings, rows by household."""

    title: str
    columns: tuple[str, ...]
    rows: Mapping[int, Sequence[tuple[str, ...]]]
    # What a household without rows reads, e.g. "未加入合作社".
    empty: str = "无"


CardSectionSource = Callable[[Sequence[Household], Quarter], CardSection]

_sections: list[CardSectionSource] = []


def register_card_section(source: CardSectionSource) -> CardSectionSource:
    """Add a section to every 明白卡; usable as a decorator. Registering the same source twice adds it once."""
    if source not in _sections:
        _sections.append(source)
    return source


def card_section_sources() -> tuple[CardSectionSource, ...]:
    return tuple(_sections)


@dataclass(frozen=True)
class SectionLines:
    """One registered section as one household's card shows it."""

    title: str
    columns: tuple[str, ...]
    rows: Sequence[tuple[str, ...]]
    empty: str


@dataclass(frozen=True)
class ThresholdComparison:
    """The trailing per-capita income against the year's 监测范围, in words."""

    year: int
    threshold: Decimal | None
    trailing: Decimal | None

    @property
    def words(self) -> str:
        if self.threshold is None:
            return f"{self.year}年尚未设置监测标准"
        if self.trailing is None:
            return "近四个季度收入未录全，暂不能与监测标准比较"
        if self.trailing > self.threshold:
            relation = "高于"
        elif self.trailing < self.threshold:
            relation = "低于"
        else:
            relation = "等于"
        return f"{relation}{self.year}年监测标准 {self.threshold:,.2f} 元"

    @property
    def below(self) -> bool:
        return self.threshold is not None and self.trailing is not None and self.trailing < self.threshold


@dataclass
class Card:
    """Everything one 明白卡 prints, computed; the template only formats it."""

    household: Household
    village_name: str
    period: Quarter
    members: list[Member]
    record: IncomeRecord | None
    totals: formulas.IncomeTotals | None
    trailing_per_capita: Decimal | None
    trailing_quarters: list[Quarter]
    comparison: ThresholdComparison
    open_case: MonitoringCase | None
    printed_on: date
    sections: list[SectionLines] = field(default_factory=list)

    @property
    def head_name(self) -> str:
        return next((m.name for m in self.members if m.relation == Relation.HEAD), "")

    @property
    def trailing_label(self) -> str:
        return f"{self.trailing_quarters[0]}–{self.trailing_quarters[-1]}"


def _cards_queryset(households: Any, period: Quarter) -> Any:
    """Households with what a card reads prefetched: a fixed number of queries for any number of rows."""
    window = period.trailing_four()
    in_window = reduce(or_, (Q(year=q.year, quarter=q.number) for q in window))
    return households.select_related("village").prefetch_related(
        Prefetch("members", queryset=Member.objects.filter(is_active=True).in_family_order(), to_attr="card_members"),
        Prefetch("income_records", queryset=IncomeRecord.objects.filter(in_window), to_attr="card_records"),
        # The case open at the quarter's end, as the quarter's figures count it: not one identified later,
        # and one eliminated since still shows on that quarter's card.
        Prefetch(
            "monitoring_cases",
            queryset=MonitoringCase.objects.filter(identified_month__lte=period.last_day)
            .exclude(eliminated_month__lte=period.last_day)
            .order_by("-identified_month", "-pk")
            .prefetch_related("risk_types", "measures"),
            to_attr="card_open_cases",
        ),
    )


def _build_cards(households: Sequence[Household], *, period: Quarter, village: Region, village_name: str) -> list[Card]:
    """The cards of households of one village (one threshold, one village name for all of them)."""
    window = period.trailing_four()
    threshold: MonitoringThreshold | None = threshold_for(region=village, year=period.year)
    sections = [source(households, period) for source in _sections]
    printed_on = personal_data.today_in_china()
    cards = []
    for household in households:
        by_quarter = {record.period: record for record in household.card_records}  # type: ignore[attr-defined]
        record = by_quarter.get(period)
        window_records = [by_quarter[q] for q in window if q in by_quarter]
        trailing = (
            formulas.window_per_capita([(r.net_income, r.household_size) for r in window_records])
            if len(window_records) == len(window)
            else None
        )
        open_cases = household.card_open_cases  # type: ignore[attr-defined]
        cards.append(
            Card(
                household=household,
                village_name=village_name,
                period=period,
                members=household.card_members,  # type: ignore[attr-defined]
                record=record,
                totals=record.totals() if record else None,
                trailing_per_capita=trailing,
                trailing_quarters=window,
                comparison=ThresholdComparison(
                    year=period.year, threshold=threshold.amount if threshold else None, trailing=trailing
                ),
                open_case=open_cases[0] if open_cases else None,
                printed_on=printed_on,
                sections=[
                    SectionLines(
                        title=section.title,
                        columns=section.columns,
                        rows=section.rows.get(household.pk, ()),
                        empty=section.empty,
                    )
                    for section in sections
                ],
            )
        )
    return cards


def household_card(*, user: Any, pk: int, period: Quarter) -> Card:
    """The 明白卡 of one household the user may see, or 404."""
    households = list(_cards_queryset(Household.objects.visible_to(user).filter(pk=pk), period))
    if not households:
        raise Http404("农户不存在或不在您的管辖范围内")
    village = households[0].village
    return _build_cards(households, period=period, village=village, village_name=village.full_name())[0]


def card_village_get(*, user: Any, pk: int) -> Region:
    """A village the user may see, or 404: cards are printed a village at a time, never for a township."""
    try:
        return regions_visible_to(user).filter(level=Level.VILLAGE).get(pk=pk)
    except Region.DoesNotExist as error:
        raise Http404("村不存在或不在您的管辖范围内") from error


def village_cards(*, village: Region, period: Quarter) -> list[Card]:
    """The cards of the village's active households in 户编号 order (the village already scoped)."""
    households = Household.objects.filter(village=village, status=HouseholdStatus.ACTIVE).order_by("number")
    return _build_cards(
        list(_cards_queryset(households, period)), period=period, village=village, village_name=village.full_name()
    )


def cards_print_record(*, by: Any, village: Region, period: Quarter, household_count: int) -> ExportRecord:
    """Record that `by` printed a village's 明白卡, as an export: who, which village and quarter, when."""
    record = ExportRecord(
        kind=ExportKind.CARDS,
        exported_by=by,
        region=village,
        description=f"{village.name} {period.label} 明白卡"[:500],
        row_count=household_count,
        masked=not personal_data.may_view_personal_data(by),
    )
    record.full_clean()
    record.save()
    return record


def default_card_period(today: date | None = None) -> Quarter:
    """The quarter a card shows unless asked: the last one that has ended."""
    return Quarter.containing(today or timezone.localdate()).previous()
