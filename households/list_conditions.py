"""Conditions of the household list's filters that the home page's counts share."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import Exists, F, OuterRef, Q, Subquery

from households.models import MIN_MONTHS_BEFORE_ELIMINATION, IncomeRecord, MonitoringCase
from households.quarter import Quarter

# 临近监测标准: within this share of the threshold above or below it.
THRESHOLD_MARGIN = Decimal("0.10")


def months_before(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def review_due_condition(*, today: date) -> Q:
    """An open monitoring case identified at least six months ago: its risk may be judged eliminated."""
    cutoff = months_before(today, MIN_MONTHS_BEFORE_ELIMINATION)
    return Q(Exists(MonitoringCase.objects.open().filter(household=OuterRef("pk"), identified_month__lte=cutoff)))


def missing_income_condition(*, quarter: Quarter) -> Q:
    """No income record for the quarter."""
    return ~Q(Exists(IncomeRecord.objects.for_quarter(quarter).filter(household=OuterRef("pk"))))


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
