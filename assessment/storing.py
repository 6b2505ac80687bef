"""Writing a run's results: each value judged against its target and scored, the values written in
bulk, and the regions' scores ranked among their siblings."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import connection

from assessment.models import BreakdownValue, IndicatorValue, RegionScore, Status
from assessment.policy import competition_ranks, judge
from figures.periods import Quarter
from regions.models import PREFIX_LENGTH, Level, Region, county_code_of

if TYPE_CHECKING:
    from assessment.engine import Computation


def store(run: Computation, versions: dict[str, int], computed_at: datetime) -> int:
    indicators, period, policy, figures, levels_of = (
        run.indicators,
        run.period,
        run.policy,
        run.figures,
        run.levels_of,
    )
    codes = set(levels_of)
    regions = {region.code: region for region in Region.objects.filter(code__in=codes).select_related("parent")}
    last_year = {
        (value.indicator, value.region.code): value.value
        for value in IndicatorValue.objects.for_period(period.year_earlier())
        .filter(region__code__in=codes)
        .select_related("region")
    }
    parents_outside = _parent_values(period, regions, codes)
    rows: list[tuple[Any, ...]] = []
    totals: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0), Decimal(0)])
    for indicator in indicators:
        by_code = figures.get(indicator.code, {})
        for code, figure in by_code.items():
            region = regions.get(code)
            if region is None:
                continue
            level = levels_of[code]
            resolved = policy.target(indicator.code, code, level)
            target = resolved.target if resolved else None
            reference = None
            if target is not None and target.comparator == "not_below_last_year":
                reference = last_year.get((indicator.code, code))
            elif target is not None and target.comparator == "better_than_parent" and region.parent_id:
                parent_code = region.parent.code if region.parent else ""
                parent = by_code.get(parent_code)
                reference = parent.value if parent else parents_outside.get((indicator.code, parent_code))
            rule = policy.rule(indicator.code, code, level)
            judgement = judge(
                indicator=indicator,
                value=figure.value,
                comparator=target.comparator if target else None,
                target_value=target.value if target else None,
                reference=reference,
                rule=rule if target else None,
            )
            target_region = regions.get(resolved.region_code) if resolved else None
            rows.append(
                (
                    region.pk,
                    period.year,
                    period.number,
                    indicator.code,
                    figure.numerator,
                    figure.denominator,
                    figure.value,
                    figure.records,
                    target.comparator if target else "",
                    judgement.target,
                    target_region.pk if target_region else None,
                    target.source if target else "",
                    judgement.status,
                    judgement.score,
                    judgement.full_score,
                    _version_of(code, level, versions),
                    computed_at,
                )
            )
            if judgement.full_score is not None and judgement.status in (Status.MET, Status.MISSED):
                total = totals[code]
                total[0] += judgement.score or 0
                total[1] += judgement.full_score
                total[2] += 1 if judgement.status == Status.MISSED else 0
    region_ids = [regions[code].pk for code in codes if code in regions]
    IndicatorValue.objects.for_period(period).filter(region_id__in=region_ids).delete()
    _write_values(rows)
    _store_distributions(run, period, computed_at)
    _store_scores(period, regions, totals, computed_at)
    return len(rows)


VALUE_COLUMNS = [
    "region_id",
    "year",
    "quarter",
    "indicator",
    "numerator",
    "denominator",
    "value",
    "records",
    "comparator",
    "target",
    "target_region_id",
    "target_source",
    "status",
    "score",
    "full_score",
    "data_version",
    "computed_at",
]


def _write_values(rows: list[tuple[Any, ...]]) -> None:
    """The run's values in one COPY on PostgreSQL (tens of thousands in a full run); in batches elsewhere."""
    table = IndicatorValue._meta.db_table
    if connection.vendor == "postgresql":
        columns = ", ".join(VALUE_COLUMNS)
        with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    IndicatorValue.objects.bulk_create(
        [IndicatorValue(**dict(zip(VALUE_COLUMNS, row, strict=True))) for row in rows], batch_size=2000
    )


def _store_distributions(run: Computation, period: Quarter, computed_at: datetime) -> None:
    codes = {code for by_region in run.distributions.values() for code in by_region}
    regions = dict(Region.objects.filter(code__in=codes).values_list("code", "pk"))
    BreakdownValue.objects.for_period(period).filter(region_id__in=regions.values()).delete()
    BreakdownValue.objects.bulk_create(
        [
            BreakdownValue(
                region_id=regions[code],
                year=period.year,
                quarter=period.number,
                breakdown=breakdown,
                data=counts,
                computed_at=computed_at,
            )
            for breakdown, by_region in run.distributions.items()
            for code, counts in by_region.items()
            if code in regions
        ],
        batch_size=2000,
    )


def _parent_values(
    period: Quarter, regions: dict[str, Region], codes: set[str]
) -> dict[tuple[str, str], Decimal | None]:
    """Stored values of the parents that this run does not compute (the scope's own parent)."""
    outside = {region.parent_id for region in regions.values() if region.parent_id} - {
        region.pk for region in regions.values()
    }
    if not outside:
        return {}
    return {
        (value.indicator, value.region.code): value.value
        for value in IndicatorValue.objects.for_period(period).filter(region_id__in=outside).select_related("region")
    }


def _version_of(code: str, level: int, versions: dict[str, int]) -> int:
    """A county's own version for it and the regions below; the sum of its counties' for a region above."""
    if level < Level.COUNTY:
        prefix = code[: PREFIX_LENGTH[Level(level)]]
        return sum(version for county_code, version in versions.items() if county_code.startswith(prefix))
    return versions.get(county_code_of(code), 0)


def _store_scores(
    period: Quarter, regions: dict[str, Region], totals: dict[str, list[Decimal]], computed_at: datetime
) -> None:
    """Scores of the run's regions, ranked among all their siblings: those outside the run (the other
    counties of a prefecture when one county is recomputed) take part with their stored scores, and
    their ranks are brought up to date too."""
    siblings: dict[int | None, dict[str, Decimal]] = defaultdict(dict)
    for code, (score, _full, _missed) in totals.items():
        siblings[regions[code].parent_id][code] = score
    run_ids = [region.pk for region in regions.values()]
    outside = {
        row.region.code: row
        for row in RegionScore.objects.for_period(period)
        .filter(region__parent_id__in=[parent for parent in siblings if parent is not None])
        .exclude(region_id__in=run_ids)
        .select_related("region")
    }
    for row in outside.values():
        siblings[row.region.parent_id][row.region.code] = row.score
    ranks: dict[str, int] = {}
    for group in siblings.values():
        ranks.update(competition_ranks(group))
    moved = [row for code, row in outside.items() if row.rank != ranks[code]]
    for row in moved:
        row.rank = ranks[row.region.code]
    RegionScore.objects.bulk_update(moved, ["rank"], batch_size=2000)
    RegionScore.objects.for_period(period).filter(region_id__in=run_ids).delete()
    RegionScore.objects.bulk_create(
        [
            RegionScore(
                region=regions[code],
                year=period.year,
                quarter=period.number,
                score=score,
                full_score=full,
                missed=int(missed),
                rank=ranks[code],
                computed_at=computed_at,
            )
            for code, (score, full, missed) in totals.items()
        ],
        batch_size=2000,
    )
