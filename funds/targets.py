"""The seeds' targets for the 衔接资金 and 村集体经济 figures, written for a county as the assessment
app's target and scoring-rule rows, each citing its document and clause.

Targets are data by region and year (STYLE §8); they need the county's region, so they are written
when the demo county exists (`manage.py seed_fund_targets`, run by `make run` before `seed_targets`
computes the quarters), not by a migration that runs before any region does. This app never imports
the assessment app: the two models are looked up by name, as a data migration would. A row someone
has edited is never overwritten.

Where a document states a year's figure, that year cites it; the years it does not state carry the
nearest stated figure, and the clause says so (演示), as assessment/demo.py does for incomes.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.apps import apps
from django.db import transaction

from regions.models import Region

YEARS = (2022, 2023, 2024, 2025, 2026)
AT_LEAST = "gte"  # assessment.models.Comparator.AT_LEAST
ZERO = "zero"  # assessment.models.Comparator.ZERO
NOT_BELOW_LAST_YEAR = "not_below_last_year"  # assessment.models.Comparator.NOT_BELOW_LAST_YEAR
YEAR_END = 4


@dataclass(frozen=True)
class FundTarget:
    indicator: str
    comparator: str
    # year → (value, document, clause); a year not listed carries the nearest earlier (or later) one.
    by_year: dict[int, tuple[Decimal | None, str, str]]
    quarter: int | None = None


@dataclass(frozen=True)
class FundRule:
    indicator: str
    full_score: Decimal
    deduction_per_point: Decimal
    point: Decimal
    clause: str


def _every_year(value: Decimal | None, document: str, clause: str) -> dict[int, tuple[Decimal | None, str, str]]:
    return {year: (value, document, clause) for year in YEARS}


TARGETS = (
    FundTarget(
        "fund_industry_share",
        AT_LEAST,
        {
            2022: (Decimal("0.55"), "002", "四（一）1. 不低于50%，以后逐年提高5%"),
            2023: (Decimal("0.60"), "000", "（一）2023年产业发展资金占衔接资金的比例不低于60%（002同）"),
            2024: (Decimal("0.65"), "002", "四（一）1. 到2024年用于产业发展的财政衔接资金占比达65%以上"),
        },
    ),
    FundTarget(
        "fund_industry_share_central",
        AT_LEAST,
        {
            2022: (Decimal("0.55"), "004", "九、中央衔接资金用于产业的比例2022年不低于55%"),
            2023: (Decimal("0.60"), "004", "九、2023年不低于60%（001（三）中央60%同）"),
            2024: (Decimal("0.65"), "004", "九、2024年不低于65%"),
            2025: (Decimal("0.70"), "004", "九、2025年不低于70%"),
        },
    ),
    FundTarget(
        "fund_industry_share_provincial",
        AT_LEAST,
        {2023: (Decimal("0.52"), "001", "（三）、三（二）省级衔接资金用于产业发展的比重达到52%以上")},
    ),
    FundTarget(
        "fund_industry_share_vs_last_year",
        NOT_BELOW_LAST_YEAR,
        _every_year(None, "004", "九、财政资金用于产业发展占比不得低于上一年比重"),
    ),
    FundTarget(
        "fund_binding_support_share",
        AT_LEAST,
        _every_year(
            Decimal("0.10"), "000", "（一）每年用于扶持“双绑”企业、合作社的资金占比达10%以上（002 四（一）1.同）"
        ),
    ),
    FundTarget(
        "fund_households_linked_per_million",
        AT_LEAST,
        {2023: (Decimal("10"), "001", "（三）每百万用于发展产业的衔接资金联农带农达到10户及以上")},
    ),
    FundTarget(
        "fund_industry_projects_without_linkage",
        ZERO,
        _every_year(None, "001", "（三）没有建立联农带农机制的，不得纳入项目库"),
    ),
    FundTarget(
        "collective_villages_over_floor_share",
        AT_LEAST,
        {
            2022: (Decimal("0.90"), "002", "四（一）5. 到2022年末经营性收入5万元以上的行政村占比达到90%以上"),
            2023: (Decimal("1"), "000", "（五）到2023年末所有行政村村级集体经营性收入达到5万元以上（002同）"),
        },
        quarter=YEAR_END,
    ),
    FundTarget(
        "collective_operating_income_average",
        AT_LEAST,
        {2023: (Decimal("100000"), "000", "（五）到2023年末村级集体经营性收入平均达到10万元以上（002同）")},
        quarter=YEAR_END,
    ),
    FundTarget(
        "collective_poverty_villages_over_floor_share",
        AT_LEAST,
        _every_year(Decimal("1"), "004", "七、确保脱贫村集体经济组织年经营性收益不低于5万元"),
        quarter=YEAR_END,
    ),
    FundTarget(
        "collective_party_complex_over_line_share",
        AT_LEAST,
        {2023: (Decimal("1"), "001", "（四）实施抓党建促乡村振兴综合体建设，实现村集体经济收入8万元以上")},
        quarter=YEAR_END,
    ),
)

# Scoring as the demo's other shares (实践): each percentage point short costs 0.5.
RULES = (
    FundRule("fund_industry_share", Decimal("10"), Decimal("0.5"), Decimal("0.01"), "每差1个百分点扣0.5分"),
    FundRule("fund_industry_share_central", Decimal("5"), Decimal("0.5"), Decimal("0.01"), "每差1个百分点扣0.5分"),
    FundRule("fund_industry_share_provincial", Decimal("5"), Decimal("0.5"), Decimal("0.01"), "每差1个百分点扣0.5分"),
    FundRule("fund_industry_share_vs_last_year", Decimal("5"), Decimal("0.5"), Decimal("0.01"), "每低1个百分点扣0.5分"),
    FundRule("fund_binding_support_share", Decimal("5"), Decimal("0.5"), Decimal("0.01"), "每差1个百分点扣0.5分"),
    FundRule(
        "fund_households_linked_per_million", Decimal("5"), Decimal("0.5"), Decimal("1"), "每百万元每少1户扣0.5分"
    ),
    FundRule("fund_industry_projects_without_linkage", Decimal("5"), Decimal("1"), Decimal("1"), "每个项目扣1分"),
    FundRule(
        "collective_villages_over_floor_share", Decimal("10"), Decimal("0.5"), Decimal("0.01"), "每差1个百分点扣0.5分"
    ),
    FundRule("collective_operating_income_average", Decimal("5"), Decimal("0.1"), Decimal("1000"), "每差1000元扣0.1分"),
    FundRule(
        "collective_poverty_villages_over_floor_share",
        Decimal("5"),
        Decimal("0.5"),
        Decimal("0.01"),
        "每差1个百分点扣0.5分",
    ),
    FundRule(
        "collective_party_complex_over_line_share",
        Decimal("3"),
        Decimal("0.5"),
        Decimal("0.01"),
        "每差1个百分点扣0.5分",
    ),
)


def target_of(seed: FundTarget, year: int) -> tuple[Decimal | None, str, str]:
    """The year's (value, document, clause): its own, else the nearest stated year's, marked 演示."""
    if year in seed.by_year:
        return seed.by_year[year]
    nearest = min(seed.by_year, key=lambda stated: (abs(stated - year), -stated))
    value, document, clause = seed.by_year[nearest]
    return value, document, f"{clause}（演示：沿用{nearest}年目标，文件未给出{year}年数）"


@transaction.atomic
def fund_targets_ensure(*, county: Region) -> int:
    """Create the county's missing 衔接资金 and 村集体经济 targets and scoring rules for YEARS; returns how many."""
    target_model = apps.get_model("assessment", "Target")
    rule_model = apps.get_model("assessment", "ScoringRule")
    created = 0
    for year in YEARS:
        for seed in TARGETS:
            if target_model.objects.filter(
                indicator=seed.indicator, region=county, year=year, quarter=seed.quarter
            ).exists():
                continue
            value, document, clause = target_of(seed, year)
            target = target_model(
                indicator=seed.indicator,
                region=county,
                year=year,
                quarter=seed.quarter,
                comparator=seed.comparator,
                value=value,
                source_document=document,
                clause=clause,
            )
            target.full_clean()
            target.save()
            created += 1
        for rule_seed in RULES:
            if rule_model.objects.filter(indicator=rule_seed.indicator, region=county, year=year).exists():
                continue
            rule = rule_model(
                indicator=rule_seed.indicator,
                region=county,
                year=year,
                full_score=rule_seed.full_score,
                deduction_per_point=rule_seed.deduction_per_point,
                point=rule_seed.point,
                source_document="实践",
                clause=rule_seed.clause,
            )
            rule.full_clean()
            rule.save()
            created += 1
    return created
