"""The demo county's 衔接资金 and 村集体经济 (funds/demo.py): the rules every register keeps hold
of the seeded rows, and the story the figures tell (one year below the industry target, villages
below and exactly at 50,000)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import Any

import pytest
from django.db.models import Sum

from figures.periods import Quarter
from funds.indicators.money import IndustryShare
from funds.models import (
    IN_LIBRARY,
    OPERATING_FIELDS,
    Allocation,
    Asset,
    Beneficiary,
    CollectiveIncome,
    Funding,
    FundLevel,
    Payment,
    Project,
    ProjectType,
    VillageProfile,
)
from households.demo_writer import demo_seed
from households.models import HouseholdType, MonitoringCase
from regions.models import Level, Region

COUNTY = "532326000000"


@pytest.fixture
def county(db: Any) -> Region:
    demo_seed(households=600, seed=7)
    return Region.objects.get(code=COUNTY)


def test_the_demo_has_four_levels_of_money_each_year_some_split_to_townships(county: Region) -> None:
    own = Allocation.objects.filter(region=county)
    for year in (2024, 2025, 2026):
        assert set(own.filter(year=year).values_list("level", flat=True)) == set(FundLevel.values)
        splits = Allocation.objects.filter(year=year, parent__isnull=False)
        assert splits.exists() and all(split.region.level == Level.TOWNSHIP for split in splits)
    for allocation in Allocation.objects.all():
        allocation.full_clean()
        used = (allocation.splits.aggregate(total=Sum("amount"))["total"] or 0) + (
            allocation.fundings.aggregate(total=Sum("amount"))["total"] or 0
        )
        assert used <= allocation.amount, allocation


def test_only_library_projects_are_funded_and_paid_no_more_than_arranged(county: Region) -> None:
    assert 140 <= Project.objects.count() <= 170
    assert set(Project.objects.values_list("project_type__code", flat=True)) == set(
        ProjectType.objects.values_list("code", flat=True)
    )
    for line in Funding.objects.select_related("project"):
        assert line.project.status in IN_LIBRARY
        paid = line.payments.aggregate(total=Sum("amount"))["total"] or Decimal(0)
        assert paid <= line.amount
    assert not Payment.objects.filter(paid_on__gt=date(2026, 9, 30)).exists()
    # Some of 2024's and 2025's money is paid early the next year.
    assert any(
        p.paid_on.year > p.funding.allocation.year for p in Payment.objects.select_related("funding__allocation")
    )
    for year in (2024, 2025, 2026):
        two_levels = [
            project
            for project in Project.objects.filter(year=year)
            if len({line.allocation.level for line in project.fundings.select_related("allocation")}) > 1
        ]
        assert two_levels, year


def test_beneficiaries_are_lifted_or_monitored_households_of_the_projects_region(county: Region) -> None:
    open_cases = set(
        MonitoringCase.objects.filter(eliminated_month__isnull=True).values_list("household_id", flat=True)
    )
    rows = Beneficiary.objects.select_related("project__region", "household__village")
    assert rows.count() > 300
    for row in rows:
        assert row.household.household_type == HouseholdType.LIFTED or row.household_id in open_cases
        assert row.household.village.code.startswith(row.project.region.prefix)
    library_industry = Project.objects.filter(project_type__is_industry=True, status__in=IN_LIBRARY)
    unlinked = [p for p in library_industry if not p.linkage_mechanism or not p.beneficiaries.exists()]
    assert [(p.year, p.linkage_mechanism) for p in unlinked] == [(2025, "")]
    assert Project.objects.filter(supported_entities__isnull=False).distinct().count() >= 10
    for asset in Asset.objects.all():
        asset.full_clean()


def test_the_industry_share_is_near_the_target_and_one_year_below_it_and_below_the_last(county: Region) -> None:
    share = IndustryShare()

    def value(period: Quarter) -> Decimal:
        (figure,) = share.compute(period=period, level=Level.COUNTY, within=county.prefix, parameters={})
        assert figure.value is not None
        return figure.value

    shares = {year: value(Quarter(year, 4 if year < 2026 else 3)) for year in (2024, 2025, 2026)}
    assert Decimal("0.65") <= shares[2024] <= Decimal("0.70")
    assert Decimal("0.58") <= shares[2025] < Decimal("0.65") and shares[2025] < shares[2024]
    assert Decimal("0.65") <= shares[2026] <= Decimal("0.72")


def test_every_village_reports_every_quarter_cumulatively_some_below_and_one_at_50000(county: Region) -> None:
    villages = Region.objects.filter(code__startswith=county.prefix, level=Level.VILLAGE)
    assert CollectiveIncome.objects.count() == villages.count() * 11
    year_end = {row.village_id: row.operating_income for row in CollectiveIncome.objects.filter(year=2025, quarter=4)}
    assert list(year_end.values()).count(Decimal("50000.00")) == 1
    assert 2 <= sum(1 for amount in year_end.values() if amount < 50_000) <= 4
    for village in villages:
        rows = list(CollectiveIncome.objects.filter(village=village, year=2025).order_by("quarter"))
        for earlier, later in pairwise(rows):
            for name in OPERATING_FIELDS:
                assert getattr(earlier, name) <= getattr(later, name)
    profiles = VillageProfile.objects.filter(year=2026)
    assert profiles.filter(was_poverty_village=True).count() >= 8
    assert profiles.filter(has_party_complex=True).count() == 3
    assert VillageProfile.objects.filter(year=2025, has_party_complex=True).count() == 2
