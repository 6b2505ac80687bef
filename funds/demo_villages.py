"""The demo county's villages in 村级集体经济 (issue 11 §3, §5): each village's attributes by year
(脱贫村, a few 党建综合体) and its collective income for every quarter of 2024 to 2026Q3, reported
cumulative from January. Deterministic per seed, written in bulk.

Most villages earn 60,000–220,000 yuan of 经营性收入 a year, growing; a few stay below the 50,000
floor (fewer each year), one ends 2025 at exactly 50,000.00, and the villages owning operating
assets formed by the projects earn a return on them (资产租赁及项目资产收益).
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from funds.models import Asset, AssetKind, CollectiveIncome, ReviewStatus, VillageProfile
from regions.models import Region

YEARS = (2024, 2025, 2026)
LAST_QUARTER = {2024: 4, 2025: 4, 2026: 3}
# Villages below the floor in each year (by position in the shuffled list), and the one at it.
BELOW = {2024: 4, 2025: 3, 2026: 2}
AT_FLOOR_YEAR = 2025
# Cumulative share of the year's income by the end of each quarter.
SEASON = ((0.18, 0.25), (0.42, 0.50), (0.68, 0.76))
# How 经营性收入 splits among its four lines (the asset line also gets the assets' return).
WEIGHTS = (("business_income", 0.45), ("contracting_income", 0.30), ("investment_income", 0.25))
ASSET_RETURN = Decimal("0.015")
CENT = Decimal("0.01")


def demo_villages_seed(*, county: Region, villages: Sequence[Region], seed: int, assets: Sequence[Asset]) -> None:
    """Profiles and collective income of every village, once."""
    if CollectiveIncome.objects.filter(village__code__startswith=county.prefix).exists():
        return
    rng = random.Random(seed * 7919 + 37)
    order = list(villages)
    rng.shuffle(order)
    poverty = {village.pk for village in order[: round(len(order) * 0.4)]}
    party = {village.pk for village in order[-3:]}
    profiles = [
        VillageProfile(
            village=village,
            year=year,
            was_poverty_village=village.pk in poverty,
            # A third complex opens in 2026.
            has_party_complex=village.pk in party and (year == 2026 or village.pk != order[-1].pk),
        )
        for village in villages
        for year in YEARS
    ]
    VillageProfile.objects.bulk_create(profiles)
    returns = _asset_returns(assets)
    rows: list[CollectiveIncome] = []
    for position, village in enumerate(order):
        base = rng.uniform(60_000, 200_000)
        for year in YEARS:
            yearly = Decimal(base * (1.07 ** (year - 2024))).quantize(CENT)
            # At most half as much again from the assets; the villages below the floor earn nothing on theirs.
            asset_return = min(returns[village.pk].get(year, Decimal(0)) * ASSET_RETURN, yearly / 2).quantize(CENT)
            if position < BELOW[year]:
                yearly, asset_return = Decimal(rng.uniform(18_000, 46_000)).quantize(CENT), Decimal(0)
            lines = _lines(yearly, asset_return, rng)
            if year == AT_FLOOR_YEAR and position == BELOW[year]:
                lines = _exactly_floor()
            others = {
                "subsidy_income": Decimal(rng.randrange(20, 60) * 1000),
                "other_income": Decimal(rng.randrange(0, 8) * 500),
            }
            rows += _quarters(village, year, {**lines, **others}, rng)
    CollectiveIncome.objects.bulk_create(rows, batch_size=2000)


def _asset_returns(assets: Sequence[Asset]) -> dict[int, dict[int, Decimal]]:
    """Village id → year → value of the operating assets it owned from projects of earlier years."""
    owned: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for asset in assets:
        if asset.kind != AssetKind.OPERATING or asset.owner_village is None:
            continue
        for year in YEARS:
            if asset.project.year < year:
                village = owned[asset.owner_village.pk]
                village[year] = village.get(year, Decimal(0)) + asset.value
    return owned


def _lines(operating: Decimal, asset_return: Decimal, rng: random.Random) -> dict[str, Decimal]:
    """The year's four 经营性 lines: the assets' return, the rest split by WEIGHTS, adding up exactly."""
    rest = operating
    lines: dict[str, Decimal] = {}
    for name, weight in WEIGHTS:
        lines[name] = (operating * Decimal(str(weight * rng.uniform(0.8, 1.2)))).quantize(CENT)
        rest -= lines[name]
    if rest < 0:
        lines["business_income"] += rest
        rest = Decimal(0)
    lines["asset_income"] = rest + asset_return
    return lines


def _exactly_floor() -> dict[str, Decimal]:
    """A year of 经营性收入 ending at exactly 50,000.00, in cents that do not add up by chance."""
    return {
        "business_income": Decimal("20000.35"),
        "contracting_income": Decimal("12499.65"),
        "investment_income": Decimal("7500.00"),
        "asset_income": Decimal("10000.00"),
    }


def _quarters(village: Region, year: int, lines: dict[str, Decimal], rng: random.Random) -> list[CollectiveIncome]:
    """The year's reports, cumulative: each line's share by each quarter's end; Q4 is the year."""
    rows = []
    shares = [Decimal(str(round(rng.uniform(low, high), 3))) for low, high in SEASON] + [Decimal(1)]
    for quarter in range(1, LAST_QUARTER[year] + 1):
        share = shares[quarter - 1]
        amounts = {name: (amount * share).quantize(CENT, rounding=ROUND_HALF_UP) for name, amount in lines.items()}
        latest = (year, quarter) == (2026, LAST_QUARTER[2026])
        status = ReviewStatus.APPROVED
        if latest:
            status = rng.choices(
                (ReviewStatus.SUBMITTED, ReviewStatus.DRAFT, ReviewStatus.RETURNED, ReviewStatus.APPROVED),
                weights=(50, 15, 5, 30),
            )[0]
        rows.append(
            CollectiveIncome(
                village=village,
                year=year,
                quarter=quarter,
                review_status=status,
                review_note="投资收益缺少分红凭证，请补充后重新提交" if status == ReviewStatus.RETURNED else "",
                **amounts,
            )
        )
    return rows
