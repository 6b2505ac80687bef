"""Conditions of the household list's filters that the home page's counts share."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import Exists, F, FilteredRelation, OuterRef, Q, Subquery

from households.models import MIN_MONTHS_BEFORE_ELIMINATION, IncomeRecord
from households.quarter import Quarter

# 临近监测标准: within this share of the threshold above or below it.
THRESHOLD_MARGIN = Decimal("0.10")


def months_before(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def open_case_aliases() -> dict[str, FilteredRelation]:
    """The household's open monitoring case as a join (`open_case`), for the conditions below.

    A household has at most one open case (monitoring_case_one_open_per_household), so the join
    never repeats a household: a count over it is a count of households. As a join the database
    reads the open cases once per query, where a correlated EXISTS probed them once per household
    for every condition that asked (the home page's counts asked three times).
    """
    return {
        "open_case": FilteredRelation("monitoring_cases", condition=Q(monitoring_cases__eliminated_month__isnull=True))
    }


def open_risk_condition(*, open_risk: bool) -> Q:
    """风险未消除 (an open monitoring case), or none. Use with `open_case_aliases`."""
    return Q(open_case__household__isnull=not open_risk)


def review_due_condition(*, today: date) -> Q:
    """An open monitoring case identified at least six months ago: its risk may be judged eliminated.

    Use with `open_case_aliases`.
    """
    return Q(open_case__identified_month__lte=months_before(today, MIN_MONTHS_BEFORE_ELIMINATION))


def missing_income_condition(*, quarter: Quarter) -> Q:
    """No income record for the quarter.

    The household's latest recorded quarter (a fact the income services and imports write in the same
    transaction as the records) answers it without reading the records: none or an earlier one, missing;
    this one, recorded. Only when a later quarter is recorded are the records asked, so the database
    probes them for a few households instead of every one.
    """
    year, number = quarter.year, quarter.number
    earlier = Q(latest_income_year__lt=year) | Q(latest_income_year=year, latest_income_quarter__lt=number)
    later = Q(latest_income_year__gt=year) | Q(latest_income_year=year, latest_income_quarter__gt=number)
    recorded = Exists(IncomeRecord.objects.for_quarter(quarter).filter(household=OuterRef("pk")))
    return Q(latest_income_year__isnull=True) | earlier | Q(later, ~recorded)


def income_fell_condition() -> Q:
    """同比下降: the latest recorded quarter's 人均纯收入 is below that of the same quarter a year earlier.

    Use with `income_fell_aliases` on the queryset (the two figures are aliases it compares).
    """
    return Q(latest_income_per_capita__lt=F("year_earlier_per_capita"))


def income_fell_aliases() -> dict[str, Subquery]:
    records = IncomeRecord.objects.filter(household=OuterRef("pk"), quarter=OuterRef("latest_income_quarter"))
    return {
        "latest_income_per_capita": Subquery(
            records.filter(year=OuterRef("latest_income_year")).values("per_capita_net_income")[:1]
        ),
        "year_earlier_per_capita": Subquery(
            records.filter(year=OuterRef("latest_income_year") - 1).values("per_capita_net_income")[:1]
        ),
    }


def threshold_band_condition(*, low: Decimal | None, high: Decimal, village_field: str = "village") -> Q:
    """Households whose trailing per-capita income lies in [low × threshold, high × threshold).

    Each threshold applies to its region's subtree, except where a deeper region of the same
    year sets its own; that is expressed with code prefixes so the database does the work.
    `low=None, high=1` is "below the threshold".
    """
    from households.selectors import thresholds_all

    condition = Q(pk__in=[])
    thresholds = thresholds_all()
    for threshold in thresholds:
        prefix = threshold.prefix
        overriding = [
            other.prefix
            for other in thresholds
            if other.year == threshold.year
            and other.pk != threshold.pk
            and other.prefix.startswith(prefix)
            and len(other.prefix) > len(prefix)
        ]
        band = Q(trailing_per_capita__lt=threshold.amount * high)
        if low is not None:
            band &= Q(trailing_per_capita__gte=threshold.amount * low)
        rule = Q(**{f"{village_field}__code__startswith": prefix}, latest_income_year=threshold.year) & band
        for deeper in overriding:
            rule = Q(rule, ~Q(**{f"{village_field}__code__startswith": deeper}))
        condition = Q(condition, rule, _connector=Q.OR)
    return condition


# The list's 距监测标准 choices: (low, high) multiples of the threshold.
THRESHOLD_BANDS: dict[str, tuple[Decimal | None, Decimal]] = {
    "below": (None, Decimal("1")),
    "below_near": (1 - THRESHOLD_MARGIN, Decimal("1")),
    "above_near": (Decimal("1"), 1 + THRESHOLD_MARGIN),
}
