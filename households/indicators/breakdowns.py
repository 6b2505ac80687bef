"""Distributions the dashboards draw: households by 人均纯收入 band, and monitoring cases by category,
risk type and state. Counted per village and added up to every level by the assessment engine."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, Q, QuerySet

from figures.periods import Quarter
from figures.registry import Breakdown, SourceBreakdown
from households.facts import HOUSEHOLD_FACTS, HouseholdQuarterFact
from households.indicators.base import facts_in
from households.models import Household, HouseholdStatus, MonitoringCase, MonitoringCategory, RiskType
from regions.models import Region

# 1,000-yuan bands from 0 to 40,000, with one band below zero and one above: presentation, not policy.
BAND_WIDTH = 1000
BAND_COUNT = 40
# A case's state at the quarter's end, as the matrix's keys name it.
STATES = {"open": "未消除", "eliminated": "已消除"}


def band_keys() -> list[tuple[str, int | None, int | None]]:
    """(key, lower yuan inclusive, upper yuan exclusive) of every band, lowest first."""
    bands: list[tuple[str, int | None, int | None]] = [("below_zero", None, 0)]
    bands += [(f"b{n:02d}", n * BAND_WIDTH, (n + 1) * BAND_WIDTH) for n in range(BAND_COUNT)]
    bands.append(("top", BAND_COUNT * BAND_WIDTH, None))
    return bands


def band_condition(lower: int | None, upper: int | None) -> Q:
    """The household facts one band counts: a complete trailing window, 人均纯收入 in [lower, upper) yuan."""
    condition = Q(trailing_complete=True, per_capita_fen__isnull=False)
    if lower is not None:
        condition &= Q(per_capita_fen__gte=lower * 100)
    if upper is not None:
        condition &= Q(per_capita_fen__lt=upper * 100)
    return condition


class PerCapitaBands(SourceBreakdown):
    """农户人均纯收入分布：近四季度均有记录的农户，按近四季度人均纯收入每 1,000 元一档计户数。"""

    code = "per_capita_bands"
    name = "人均纯收入分布"
    source = HOUSEHOLD_FACTS

    def aggregates(self, *, period: Quarter, parameters: Mapping[str, Decimal]) -> dict[str, Any]:
        return {key: Count("pk", filter=band_condition(lower, upper)) for key, lower, upper in band_keys()}

    def label(self, key: str, *, within: str = "") -> str | None:
        bounds = {band: (lower, upper) for band, lower, upper in band_keys()}
        if key not in bounds:
            return None
        lower, upper = bounds[key]
        if lower is None:
            return f"近四季度人均纯收入低于 {upper:,} 元"
        if upper is None:
            return f"近四季度人均纯收入 {lower:,} 元及以上"
        return f"近四季度人均纯收入 {lower:,}–{upper:,} 元（不含 {upper:,}）"

    def records(self, *, period: Quarter, region: Region, key: str, parameters: Mapping[str, Decimal]) -> QuerySet[Any]:
        bounds = {band: (lower, upper) for band, lower, upper in band_keys()}
        if key not in bounds:
            return HouseholdQuarterFact.objects.none()
        return facts_in(period=period, region=region).filter(band_condition(*bounds[key]))


class MonitoringMatrix(Breakdown):
    """监测对象分类：期末前识别的监测户，按监测类别 × 风险类型 × 期末是否已消除计户数（一户多个风险类型时各计一次）。"""

    code = "monitoring_matrix"
    name = "监测对象类别与风险类型"

    def village_totals(
        self, *, period: Quarter, within: str, parameters: Mapping[str, Decimal]
    ) -> dict[str, dict[str, int]]:
        through = MonitoringCase.risk_types.through._meta.db_table
        sql = f"""
            SELECT v.code, c.category, rt.code,
                CASE WHEN c.eliminated_month IS NULL OR c.eliminated_month > %(last_day)s
                     THEN 'open' ELSE 'eliminated' END AS state,
                COUNT(*)
            FROM {MonitoringCase._meta.db_table} c
            JOIN {Household._meta.db_table} h ON h.id = c.household_id
            JOIN {Region._meta.db_table} v ON v.id = h.village_id
            JOIN {through} t ON t.monitoringcase_id = c.id
            JOIN {RiskType._meta.db_table} rt ON rt.id = t.risktype_id
            WHERE v.code LIKE %(within)s AND c.identified_month <= %(last_day)s
              AND (h.status = 'active' OR h.cancelled_on > %(last_day)s)
            GROUP BY v.code, c.category, rt.code,
                CASE WHEN c.eliminated_month IS NULL OR c.eliminated_month > %(last_day)s
                     THEN 'open' ELSE 'eliminated' END
        """
        found: dict[str, dict[str, int]] = defaultdict(dict)
        with connection.cursor() as cursor:
            cursor.execute(sql, {"within": f"{within}%", "last_day": period.last_day})
            for village, category, risk, state, count in cursor.fetchall():
                found[village][f"{category}|{risk}|{state}"] = int(count)
        return dict(found)

    @staticmethod
    def parts(key: str) -> tuple[str, str, str] | None:
        """(category, risk type code, state) of a key "unstable|illness|open"; None when it is not one."""
        pieces = key.split("|")
        if len(pieces) != 3 or pieces[0] not in MonitoringCategory.values or pieces[2] not in STATES:
            return None
        return pieces[0], pieces[1], pieces[2]

    def label(self, key: str, *, within: str = "") -> str | None:
        parts = self.parts(key)
        if parts is None:
            return None
        category, risk, state = parts
        risk_name = RiskType.objects.within(within).filter(code=risk).values_list("name", flat=True).first()
        if risk_name is None:
            return None
        return f"{MonitoringCategory(category).label} · {risk_name} · 期末{STATES[state]}"

    def records(self, *, period: Quarter, region: Region, key: str, parameters: Mapping[str, Decimal]) -> QuerySet[Any]:
        """The cases the SQL above counts for the key, in the region: one row per case (its risk type is
        one of the case's, so no case comes twice)."""
        parts = self.parts(key)
        if parts is None:
            return MonitoringCase.objects.none()
        category, risk, state = parts
        last_day = period.last_day
        cases = MonitoringCase.objects.filter(
            Q(household__status=HouseholdStatus.ACTIVE) | Q(household__cancelled_on__gt=last_day),
            household__village__code__startswith=region.prefix,
            identified_month__lte=last_day,
            category=category,
            risk_types__code=risk,
        )
        eliminated = Q(eliminated_month__isnull=False, eliminated_month__lte=last_day)
        cases = cases.exclude(eliminated) if state == "open" else cases.filter(eliminated)
        return cases.order_by("household__village__code", "household__number", "pk")


BREAKDOWNS = [PerCapitaBands(), MonitoringMatrix()]
