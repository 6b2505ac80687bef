"""Reads of the quarter close: what keeps a village from submitting, and the close page's board."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, OuterRef, QuerySet, Subquery

from assessment.closing_models import QuarterCloseEvent, QuarterSubmission, SubmissionStatus
from assessment.models import Alert
from figures.alerts import data_quality_codes, get_rule
from figures.periods import Quarter
from households.closing import locked_county_codes
from households.models import Household, IncomeRecord, Member, Relation
from regions.models import Level, Region, county_code_of, regions_visible_to


def data_quality_rule_codes() -> list[str]:
    """Codes of the alert rules that flag data-quality 疑点 (they must be cleared before submitting)."""
    return data_quality_codes()


def households_missing_income(*, within: str, period: Quarter) -> QuerySet[Household]:
    """Registered (active) households under the code prefix without an income record for the quarter."""
    recorded = IncomeRecord.objects.filter(household=OuterRef("pk"), year=period.year, quarter=period.number)
    return Household.objects.active().filter(village__code__startswith=within).exclude(Exists(recorded))


def open_data_quality_alerts(*, within: str, period: Quarter) -> QuerySet[Alert]:
    """疑点 alerts of the quarter still 待核实 or 已核实 (neither excluded nor handled) under the prefix."""
    return (
        Alert.objects.open()
        .filter(year=period.year, quarter=period.number, rule__in=data_quality_rule_codes())
        .filter(household__village__code__startswith=within)
    )


@dataclass
class Blockers:
    """What keeps a village from submitting: households (户编号 户主) and 疑点 (户编号 规则) to clear."""

    missing: list[str] = field(default_factory=list)
    open_alerts: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.missing or self.open_alerts)


def village_blockers(*, village: Region, period: Quarter) -> Blockers:
    head = Member.objects.filter(household=OuterRef("pk"), relation=Relation.HEAD, is_active=True).values("name")[:1]
    missing = (
        households_missing_income(within=village.prefix, period=period)
        .annotate(head_name=Subquery(head))
        .order_by("number")
        .values_list("number", "head_name")
    )
    alerts = open_data_quality_alerts(within=village.prefix, period=period).order_by("household__number", "rule")
    return Blockers(
        missing=[f"{number} {head_name or ''}".strip() for number, head_name in missing],
        open_alerts=[
            f"{number} {_rule_name(rule)}" for number, rule in alerts.values_list("household__number", "rule")
        ],
    )


def _rule_name(code: str) -> str:
    rule = get_rule(code)
    return rule.name if rule is not None else code


def villages_to_close(*, county: Region) -> QuerySet[Region]:
    """The villages a county's lock waits for: those with registered households."""
    registered = Household.objects.active().filter(village=OuterRef("pk"))
    return Region.objects.subtree(county).villages().filter(Exists(registered))


def unapproved_villages(*, county: Region, period: Quarter) -> list[Region]:
    approved = QuarterSubmission.objects.for_period(period).filter(status=SubmissionStatus.APPROVED)
    return list(villages_to_close(county=county).exclude(pk__in=approved.values("village")).order_by("code"))


@dataclass
class VillageRow:
    village: Region
    households: int
    missing: int
    open_alerts: int
    submission: QuarterSubmission | None
    locked: bool  # the county has locked the quarter

    @property
    def status(self) -> str:
        return self.submission.status if self.submission else SubmissionStatus.FILLING

    @property
    def status_label(self) -> str:
        return str(SubmissionStatus(self.status).label)

    @property
    def version(self) -> int | None:
        return self.submission.version if self.submission else None

    @property
    def ready(self) -> bool:
        return not self.missing and not self.open_alerts


@dataclass
class CountyRow:
    county: Region
    locked: bool
    villages: int  # with registered households
    approved: int
    events: list[QuarterCloseEvent]

    @property
    def can_lock(self) -> bool:
        return not self.locked and self.approved == self.villages


@dataclass
class Board:
    period: Quarter
    villages: list[VillageRow]
    counties: list[CountyRow]


def _counts(queryset: QuerySet[Any], village_field: str) -> dict[int, int]:
    rows = queryset.order_by().values(village_field).annotate(n=Count("pk"))
    return {row[village_field]: row["n"] for row in rows}


def close_board(*, user: Any, period: Quarter, within: Region | None = None, status: str | None = None) -> Board:
    """Every village in the user's scope with its state, households, missing records and open 疑点,
    and the counties in scope with their lock and its audit: a fixed number of queries. `within` (a
    region in the scope) and `status` narrow the villages listed, not the counties' counts."""
    visible = regions_visible_to(user)
    villages = list(visible.villages().select_related("parent").order_by("code"))
    prefix = user.scope_prefix() or ""
    households = _counts(Household.objects.active().filter(village__code__startswith=prefix), "village")
    missing = _counts(households_missing_income(within=prefix, period=period), "village")
    alerts = _counts(open_data_quality_alerts(within=prefix, period=period), "household__village")
    submissions = {
        submission.village_id: submission
        for submission in QuarterSubmission.objects.visible_to(user).for_period(period).select_related("acted_by")
    }
    locked = locked_county_codes(period)
    rows = [
        VillageRow(
            village=village,
            households=households.get(village.pk, 0),
            missing=missing.get(village.pk, 0),
            open_alerts=alerts.get(village.pk, 0),
            submission=submissions.get(village.pk),
            locked=county_code_of(village.code) in locked,
        )
        for village in villages
    ]
    counties = []
    county_list = list(visible.filter(level=Level.COUNTY).order_by("code"))
    if not county_list and villages:
        # A township or village user sees the lock state of the county above them.
        county_list = list(Region.objects.filter(code=county_code_of(villages[0].code)))
    events = QuarterCloseEvent.objects.filter(
        county__in=county_list, year=period.year, quarter=period.number
    ).select_related("acted_by")
    events_of: dict[int, list[QuarterCloseEvent]] = {}
    for event in events:
        events_of.setdefault(event.county_id, []).append(event)
    for county in county_list:
        in_county = [row for row in rows if row.village.code.startswith(county.prefix) and row.households]
        counties.append(
            CountyRow(
                county=county,
                locked=county.code in locked,
                villages=len(in_county),
                approved=sum(1 for row in in_county if row.status == SubmissionStatus.APPROVED),
                events=events_of.get(county.pk, []),
            )
        )
    shown = [
        row
        for row in rows
        if (within is None or row.village.code.startswith(within.prefix)) and (status is None or row.status == status)
    ]
    return Board(period=period, villages=shown, counties=counties)
