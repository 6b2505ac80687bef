"""Quarterly income for one demo household: the four wheels with seasons, growth and shocks."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from households import formulas
from households.models import AMOUNT_FIELDS, OPERATING_FIELDS, PROPERTY_FIELDS, TRANSFER_FIELDS, WAGE_FIELDS
from households.quarter import Quarter

FIRST_QUARTER = Quarter(2024, 4)
LAST_QUARTER = Quarter(2026, 3)
QUARTERS: tuple[Quarter, ...] = tuple(Quarter(2024 + (3 + index) // 4, (3 + index) % 4 + 1) for index in range(8))
# Ages and growth are measured from here; every birth date lies before it.
REFERENCE_YEAR = 2025
# Years since mid-2025 at the middle of each quarter, for compounding growth.
QUARTER_OFFSETS = tuple(q.year + (q.number - 0.5) / 4 - (REFERENCE_YEAR + 0.5) for q in QUARTERS)

# Share of a year's amount earned in each quarter: harvests peak in Q3/Q4, pigs sell before
# the Spring Festival, migrants are home in Q1, dividends and land rent are paid once a year.
SEASONS: dict[str, tuple[float, float, float, float]] = {
    "wages_migrant_work": (0.20, 0.26, 0.27, 0.27),
    "wages_public_welfare_job": (0.25, 0.25, 0.25, 0.25),
    "wages_other": (0.20, 0.26, 0.28, 0.26),
    "operating_planting": (0.06, 0.16, 0.38, 0.40),
    "operating_breeding": (0.32, 0.18, 0.18, 0.32),
    "operating_forestry_fruit": (0.04, 0.16, 0.50, 0.30),
    "operating_other": (0.25, 0.25, 0.25, 0.25),
    "property_dividends": (0.0, 0.0, 0.0, 1.0),
    "property_land_transfer": (1.0, 0.0, 0.0, 0.0),
    "property_other": (0.25, 0.25, 0.25, 0.25),
    "transfer_family_planning": (0.0, 0.0, 0.0, 1.0),
    "transfer_minimum_living": (0.25, 0.25, 0.25, 0.25),
    "transfer_extreme_poverty": (0.25, 0.25, 0.25, 0.25),
    "transfer_pension": (0.25, 0.25, 0.25, 0.25),
    "transfer_ecological": (0.0, 0.0, 0.5, 0.5),
    "transfer_other": (0.25, 0.25, 0.25, 0.25),
}
EARNED_FIELDS = frozenset([*WAGE_FIELDS, *OPERATING_FIELDS]) - {"wages_public_welfare_job"}
STEADY_GROWTH = 0.04
ZERO = Decimal("0.00")


def to_money(value: float) -> Decimal:
    """A non-negative float as yuan with exactly two places."""
    return Decimal(max(0, round(value * 100))).scaleb(-2)


@dataclass(frozen=True, slots=True)
class IncomeRow:
    """One quarter of a household's income, every amount field plus the derived net income."""

    year: int
    quarter: int
    household_size: int
    amounts: dict[str, Decimal]
    net_income: Decimal

    @property
    def period(self) -> Quarter:
        return Quarter(self.year, self.quarter)


@dataclass(frozen=True, slots=True)
class IncomeProfile:
    """What shapes a household's income: its 2025 level, growth and any sharp fall."""

    per_capita: float
    growth: float
    fall_from: int | None = None
    fall_factor: float = 1.0


@dataclass(frozen=True, slots=True)
class EarnerFacts:
    """The member facts income depends on."""

    age: int
    capable: bool
    work_months: int
    monthly_wage: int


def net_income_of(amounts: dict[str, Decimal]) -> Decimal:
    """家庭纯收入 from the amount fields, exactly as IncomeRecord.compute does it."""
    totals = formulas.income_totals(
        wages=[amounts[name] for name in WAGE_FIELDS],
        operating=[amounts[name] for name in OPERATING_FIELDS],
        property_income=[amounts[name] for name in PROPERTY_FIELDS],
        transfers=[amounts[name] for name in TRANSFER_FIELDS],
        operating_costs=amounts["operating_costs"],
    )
    return formulas.money(totals.net)


def trailing_facts(rows: Sequence[IncomeRow]) -> tuple[int, int, Decimal | None]:
    """Latest quarter and the trailing four-quarter per-capita income, as the service computes them."""
    latest = max(row.period for row in rows)
    wanted = set(latest.trailing_four())
    window = sorted((row for row in rows if row.period in wanted), key=lambda row: row.period)
    trailing = (
        formulas.window_per_capita([(row.net_income, row.household_size) for row in window])
        if len(window) == 4
        else None
    )
    return latest.year, latest.number, trailing


def _annual_fixed(rng: random.Random, *, earners: Sequence[EarnerFacts], lifted: bool, poor: bool) -> dict[str, float]:
    """Transfers, property income and public-welfare jobs, which follow rules rather than effort."""
    size = len(earners)
    annual = dict.fromkeys(SEASONS, 0.0)
    annual["transfer_pension"] = sum(rng.uniform(1300, 2400) for e in earners if e.age >= 60)
    if (lifted and (poor or rng.random() < 0.10)) or (not lifted and rng.random() < 0.03):
        annual["transfer_minimum_living"] = rng.randint(1, size) * rng.uniform(2400, 4800)
    if size == 1 and earners[0].age >= 60 and rng.random() < 0.3:
        annual["transfer_extreme_poverty"] = rng.uniform(6000, 7500)
    if rng.random() < 0.12:
        annual["transfer_family_planning"] = rng.uniform(600, 1920)
    if rng.random() < 0.6:
        annual["transfer_ecological"] = rng.uniform(80, 900)
    if rng.random() < 0.25:
        annual["transfer_other"] = rng.uniform(100, 800)
    if rng.random() < (0.75 if lifted else 0.2):
        annual["property_dividends"] = rng.uniform(150, 1200)
    if rng.random() < 0.22:
        annual["property_land_transfer"] = rng.uniform(400, 4000)
    if rng.random() < 0.05:
        annual["property_other"] = rng.uniform(200, 2000)
    if any(e.capable for e in earners) and rng.random() < (0.10 if lifted else 0.02):
        annual["wages_public_welfare_job"] = rng.uniform(6000, 9600)
    return annual


def _annual_amounts(
    rng: random.Random,
    *,
    profile: IncomeProfile,
    earners: Sequence[EarnerFacts],
    lifted: bool,
    industry_weights: Sequence[float],
) -> tuple[dict[str, float], float]:
    """Each field's 2025 amount and the household's cost ratio of operating income."""
    annual = _annual_fixed(rng, earners=earners, lifted=lifted, poor=profile.per_capita < 9000)
    target = profile.per_capita * len(earners)
    earned = max(target - sum(annual.values()), 0.2 * target)
    migrant_potential = sum(e.work_months * e.monthly_wage for e in earners if e.work_months)
    if migrant_potential:
        wage_share = rng.uniform(0.5, 0.85)
        annual["wages_migrant_work"] = min(earned * wage_share * 0.9, migrant_potential)
        annual["wages_other"] = earned * wage_share - annual["wages_migrant_work"]
    else:
        wage_share = rng.uniform(0.0, 0.25)
        annual["wages_other"] = earned * wage_share
    cost_ratio = rng.uniform(0.18, 0.40)
    operating_gross = earned * (1 - wage_share) / (1 - cost_ratio)
    weights = [weight * rng.uniform(0.2, 1.8) for weight in industry_weights]
    for name, weight in zip(OPERATING_FIELDS, weights, strict=True):
        annual[name] = operating_gross * weight / sum(weights)
    return annual, cost_ratio


def income_rows(
    rng: random.Random,
    *,
    profile: IncomeProfile,
    earners: Sequence[EarnerFacts],
    lifted: bool,
    industry_weights: Sequence[float],
    monitored_from: date | None = None,
    medical_risk: bool = False,
) -> list[IncomeRow]:
    """Eight quarters, 2024Q4 to 2026Q3, of one household's income."""
    annual, cost_ratio = _annual_amounts(
        rng, profile=profile, earners=earners, lifted=lifted, industry_weights=industry_weights
    )
    size = len(earners)
    active = [(name, yearly, SEASONS[name], name in EARNED_FIELDS) for name, yearly in annual.items() if yearly]
    monitored_since = Quarter.containing(monitored_from) if monitored_from is not None else None
    rows = []
    for index, period in enumerate(QUARTERS):
        offset = QUARTER_OFFSETS[index]
        earned_factor = (1 + profile.growth) ** offset
        if profile.fall_from is not None and index >= profile.fall_from:
            earned_factor *= profile.fall_factor
        steady_factor = (1 + STEADY_GROWTH) ** offset
        amounts = dict.fromkeys(AMOUNT_FIELDS, ZERO)
        operating = 0.0
        for name, yearly, season, grows in active:
            value = yearly * season[period.number - 1]
            if value:
                value *= earned_factor * rng.uniform(0.85, 1.15) if grows else steady_factor
                amounts[name] = to_money(value)
                if name in OPERATING_FIELDS:
                    operating += value
        amounts["operating_costs"] = to_money(operating * cost_ratio * rng.uniform(0.85, 1.15))
        if monitored_since is not None and period >= monitored_since:
            if rng.random() < (0.35 if medical_risk else 0.05):
                amounts["insurance_claims"] = to_money(rng.uniform(500, 8000))
            if rng.random() < (0.5 if medical_risk else 0.15):
                amounts["compliant_out_of_pocket"] = to_money(rng.uniform(300, 4000))
        rows.append(IncomeRow(period.year, period.number, size, amounts, net_income_of(amounts)))
    return rows
