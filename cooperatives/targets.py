"""The seeds' targets for the 产业与双绑 figures, written for a county as the assessment app's target
and scoring-rule rows, each citing its document and clause.

Targets are data by region and year (STYLE §8); they need the county's region, so they are written
when the demo county exists (`manage.py seed_coverage_targets`, run by `make run` before
`seed_targets` computes the quarters), not by a migration that runs before any region does. This app
never imports the assessment app: the two models are looked up by name, as a data migration would.
A row someone has edited is never overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.apps import apps
from django.db import transaction

from regions.models import Region

YEARS = (2022, 2023, 2024, 2025, 2026)
AT_LEAST = "gte"  # assessment.models.Comparator.AT_LEAST


@dataclass(frozen=True)
class CoverageTarget:
    indicator: str
    value: Decimal
    document: str
    clause: str
    full_score: Decimal
    deduction_per_point: Decimal


# Scoring as the demo's other shares: each percentage point short costs 0.5 (实践).
TARGETS = (
    CoverageTarget(
        "binding_coverage",
        Decimal("1"),
        "001",
        "（三）“双绑”覆盖率达100%",
        Decimal("10"),
        Decimal("0.5"),
    ),
    CoverageTarget(
        "cooperative_membership_rate",
        Decimal("1"),
        "000",
        "（四）1 脱贫户、易返贫致贫户入社率达100%（002 三（一）4同）",
        Decimal("5"),
        Decimal("0.5"),
    ),
    CoverageTarget(
        "villages_with_cooperative",
        Decimal("1"),
        "000",
        "（四）1 每个行政村至少1个农民合作社（002、003（六）同）",
        Decimal("5"),
        Decimal("0.5"),
    ),
    CoverageTarget(
        "industry_participation_rate",
        Decimal("0.75"),
        "003",
        "（三）产业到户率达到75%",
        Decimal("5"),
        Decimal("0.5"),
    ),
)
RULE_CLAUSE = "每差1个百分点扣0.5分"


@transaction.atomic
def coverage_targets_ensure(*, county: Region) -> int:
    """Create the county's missing 产业与双绑 targets and scoring rules for YEARS; returns how many."""
    target_model = apps.get_model("assessment", "Target")
    rule_model = apps.get_model("assessment", "ScoringRule")
    created = 0
    for year in YEARS:
        for seed in TARGETS:
            if not target_model.objects.filter(
                indicator=seed.indicator, region=county, year=year, quarter__isnull=True
            ).exists():
                target = target_model(
                    indicator=seed.indicator,
                    region=county,
                    year=year,
                    comparator=AT_LEAST,
                    value=seed.value,
                    source_document=seed.document,
                    clause=seed.clause,
                )
                target.full_clean()
                target.save()
                created += 1
            if not rule_model.objects.filter(indicator=seed.indicator, region=county, year=year).exists():
                rule = rule_model(
                    indicator=seed.indicator,
                    region=county,
                    year=year,
                    full_score=seed.full_score,
                    deduction_per_point=seed.deduction_per_point,
                    point=Decimal("0.01"),
                    source_document="实践",
                    clause=RULE_CLAUSE,
                )
                rule.full_clean()
                rule.save()
                created += 1
    return created
