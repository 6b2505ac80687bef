"""The demo county's targets and scoring rules, each citing the seed document and clause it comes from.

The seeds (DOMAIN §7) give 人均纯收入 targets for 2022–2024 only. The demo's income runs from
2024Q4 to 2026Q3, so 2025 and 2026 carry the 2024 figures forward, marked 演示 in the clause:
extrapolating the seeds' own 19.2% a year would ask 26,582 / 31,686 元 of 脱贫户, a figure no
document states.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from assessment.models import Comparator, ScoringRule, Target
from regions.models import Region

DEMO_COUNTY = "532326000000"
YEARS = (2022, 2023, 2024, 2025, 2026)

# 002: 脱贫户 / 监测户 人均纯收入 by year.
PER_CAPITA = {
    2022: (Decimal("15700"), Decimal("12300")),
    2023: (Decimal("18700"), Decimal("14700")),
    2024: (Decimal("22300"), Decimal("17500")),
}
CARRIED = "演示：沿用2024年目标（文件未给出当年数）"


@dataclass(frozen=True)
class TargetSeed:
    indicator: str
    comparator: str
    value: Decimal | None
    document: str
    clause: str
    quarter: int | None = None


@dataclass(frozen=True)
class RuleSeed:
    indicator: str
    full_score: Decimal
    deduction_per_point: Decimal | None
    point: Decimal
    document: str
    clause: str


def targets_of(year: int) -> list[TargetSeed]:
    """The county's targets for one year."""
    lifted, monitored = PER_CAPITA.get(year, PER_CAPITA[2024])
    income_clause = "二、人均纯收入目标" if year in PER_CAPITA else f"二、人均纯收入目标（{CARRIED}）"
    return [
        TargetSeed("income_per_capita_lifted", Comparator.AT_LEAST, lifted, "002", income_clause),
        TargetSeed("income_per_capita_monitored", Comparator.AT_LEAST, monitored, "002", income_clause),
        TargetSeed("income_per_capita_lifted_ytd", Comparator.AT_LEAST, lifted, "002", income_clause, quarter=4),
        TargetSeed("income_per_capita_monitored_ytd", Comparator.AT_LEAST, monitored, "002", income_clause, quarter=4),
        TargetSeed("income_growth_lifted", Comparator.AT_LEAST, Decimal("0.192"), "002", "二、年均增长19.2%"),
        TargetSeed(
            "operating_income_growth_lifted",
            Comparator.AT_LEAST,
            Decimal("0.20"),
            "001",
            "二(一) 生产经营性收入增长20%",
        ),
        TargetSeed(
            "property_income_growth_lifted", Comparator.AT_LEAST, Decimal("0.18"), "001", "二(二) 财产性收入增长18%"
        ),
        TargetSeed(
            "operating_fall_share", Comparator.BETTER_THAN_PARENT, None, "001", "三(四) 每高于上级1个百分点扣0.5分"
        ),
        TargetSeed("lifted_below_threshold_unmonitored", Comparator.ZERO, None, "002", "一(一) 应纳尽纳，不漏一户"),
        TargetSeed("zero_employment_with_labour", Comparator.ZERO, None, "002", "三(二) 零就业家庭动态清零"),
        TargetSeed(
            "monitored_population_share", Comparator.AT_MOST, Decimal("0.03"), "002", "一(二) 超过3%的村重点跟踪"
        ),
        TargetSeed("entry_progress", Comparator.AT_LEAST, Decimal("1"), "实践", "季度关账前全部录入"),
    ]


# Full scores add up to 95 in Q1–Q3 and to 100 in Q4, when the year-to-date pair is assessed too.
RULES = [
    RuleSeed("income_per_capita_lifted", Decimal("15"), Decimal("0.1"), Decimal("100"), "实践", "每差100元扣0.1分"),
    RuleSeed("income_per_capita_monitored", Decimal("10"), Decimal("0.1"), Decimal("100"), "实践", "每差100元扣0.1分"),
    RuleSeed("income_per_capita_lifted_ytd", Decimal("3"), Decimal("0.1"), Decimal("100"), "实践", "第四季度考核全年"),
    RuleSeed(
        "income_per_capita_monitored_ytd", Decimal("2"), Decimal("0.1"), Decimal("100"), "实践", "第四季度考核全年"
    ),
    RuleSeed("income_growth_lifted", Decimal("10"), Decimal("0.5"), Decimal("0.01"), "实践", "每差1个百分点扣0.5分"),
    RuleSeed(
        "operating_income_growth_lifted", Decimal("5"), Decimal("0.5"), Decimal("0.01"), "001", "每差1个百分点扣0.5分"
    ),
    RuleSeed(
        "property_income_growth_lifted", Decimal("5"), Decimal("0.5"), Decimal("0.01"), "001", "每差1个百分点扣0.5分"
    ),
    RuleSeed(
        "operating_fall_share",
        Decimal("10"),
        Decimal("0.5"),
        Decimal("0.01"),
        "001",
        "三(四) 每高于上级1个百分点扣0.5分",
    ),
    RuleSeed("lifted_below_threshold_unmonitored", Decimal("15"), Decimal("1"), Decimal("1"), "实践", "每漏一户扣1分"),
    RuleSeed("zero_employment_with_labour", Decimal("10"), Decimal("1"), Decimal("1"), "实践", "每户扣1分"),
    RuleSeed("monitored_population_share", Decimal("10"), Decimal("1"), Decimal("0.01"), "实践", "每超1个百分点扣1分"),
    RuleSeed("entry_progress", Decimal("5"), Decimal("0.5"), Decimal("0.01"), "实践", "每差1个百分点扣0.5分"),
]


@transaction.atomic
def demo_targets_ensure(*, county: Region) -> int:
    """Create the county's missing targets and scoring rules (never overwriting an edited one); returns how many."""
    created = 0
    for year in YEARS:
        for seed in targets_of(year):
            if Target.objects.filter(indicator=seed.indicator, region=county, year=year, quarter=seed.quarter).exists():
                continue
            target = Target(
                indicator=seed.indicator,
                region=county,
                year=year,
                quarter=seed.quarter,
                comparator=seed.comparator,
                value=seed.value,
                source_document=seed.document,
                clause=seed.clause,
            )
            target.full_clean()
            target.save()
            created += 1
        for rule_seed in RULES:
            if ScoringRule.objects.filter(indicator=rule_seed.indicator, region=county, year=year).exists():
                continue
            rule = ScoringRule(
                indicator=rule_seed.indicator,
                region=county,
                year=year,
                full_score=rule_seed.full_score,
                deduction_per_point=rule_seed.deduction_per_point,
                point=rule_seed.point,
                source_document=rule_seed.document,
                clause=rule_seed.clause,
            )
            rule.full_clean()
            rule.save()
            created += 1
    return created
