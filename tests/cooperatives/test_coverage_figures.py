"""The 产业与双绑 figures on a county worked out by hand (tests/cooperatives/coverage_county.py has the
data and the tables the arithmetic below reads). The date is 2026-06-30, the last day of 2026Q2."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from assessment.engine import indicators_compute
from assessment.models import IndicatorValue, ScoringRule, Status, Target
from cooperatives import indicators as cooperative_indicators
from cooperatives.targets import coverage_targets_ensure
from figures import registry
from figures.periods import Quarter
from figures.registry import SourceIndicator, is_additive
from households.facts import HOUSEHOLD_FACTS
from industries import indicators as industry_indicators
from regions.models import Level, Region
from tests.conftest import Staff
from tests.cooperatives import coverage_county
from tests.cooperatives.coverage_county import CoverageCounty
from tests.factories import PASSWORD, Tree

PERIOD = Quarter(2026, 2)
CODES = [indicator.code for indicator in [*cooperative_indicators.INDICATORS, *industry_indicators.INDICATORS]]


def d(text: str) -> Decimal:
    return Decimal(text)


@pytest.fixture
def county(tree: Tree, staff: Staff) -> CoverageCounty:
    built = coverage_county.build(tree, staff.county_admin)
    indicators_compute(scope=tree.county, period=PERIOD)
    return built


def value(code: str, region: Region) -> IndicatorValue:
    return IndicatorValue.objects.get(indicator=code, region=region, year=PERIOD.year, quarter=PERIOD.number)


def shown_count(html: str) -> Decimal:
    found = re.search(r'data-testid="record-count">[^<]*共 <strong>(\d+)</strong>', html)
    assert found, "the drill-down page states its count"
    return Decimal(found.group(1))


def figures(code: str, region: Region) -> tuple[Decimal, Decimal | None, Decimal | None]:
    stored = value(code, region)
    return stored.numerator, stored.denominator, stored.value


def test_binding_coverage_counts_eligible_households_in_a_bound_cooperative_once(
    tree: Tree, county: CoverageCounty
) -> None:
    code = "binding_coverage"
    # Eligible: H1, H2 (a1), H5, H6 (a2), H7, H8 (b1). H3 has no labour; H4 is a 一般农户 not monitored.
    # Covered: H1 (in C1 and C2, both bound: once), H7 (C5). Not H2 (C3's binding ended 2026-03-31),
    # H5 (C4 cancelled 2026-05-01), H6 (no cooperative), H8 (left C5 on the date itself).
    assert figures(code, tree.village_a1) == (d("1"), d("2"), d("0.5000"))
    assert figures(code, tree.village_a2) == (d("0"), d("2"), d("0.0000"))
    assert figures(code, tree.village_b1) == (d("1"), d("2"), d("0.5000"))
    assert figures(code, tree.township_a) == (d("1"), d("4"), d("0.2500"))
    assert figures(code, tree.township_b) == (d("1"), d("2"), d("0.5000"))
    # 2 ÷ 6 = 0.33333… → 0.3333
    assert figures(code, tree.county) == (d("2"), d("6"), d("0.3333"))
    assert value(code, tree.county).records == 2


def test_membership_rate_counts_any_cooperative_in_force_bound_or_not(tree: Tree, county: CoverageCounty) -> None:
    code = "cooperative_membership_rate"
    # Members on the date: H1, H2 (C3 is in force though its binding ended), H7. Not H5 (C4
    # cancelled), H8 (left on the date).
    assert figures(code, tree.village_a1) == (d("2"), d("2"), d("1.0000"))
    assert figures(code, tree.village_a2) == (d("0"), d("2"), d("0.0000"))
    assert figures(code, tree.township_a) == (d("2"), d("4"), d("0.5000"))
    assert figures(code, tree.township_b) == (d("1"), d("2"), d("0.5000"))
    assert figures(code, tree.county) == (d("3"), d("6"), d("0.5000"))


def test_villages_with_a_cooperative_count_only_cooperatives_in_force_registered_there(
    tree: Tree, county: CoverageCounty
) -> None:
    code = "villages_with_cooperative"
    # a1 has C1 and C2; a2 only the cancelled C4; b1 has C3 and C5 (C3 also has a member from a1).
    assert figures(code, tree.township_a) == (d("1"), d("2"), d("0.5000"))
    assert figures(code, tree.township_b) == (d("1"), d("1"), d("1.0000"))
    assert figures(code, tree.county) == (d("2"), d("3"), d("0.6667"))
    assert not IndicatorValue.objects.filter(indicator=code, region__level=Level.VILLAGE).exists()


def test_participation_rate_counts_lifted_and_monitored_households_with_a_participation_that_year(
    tree: Tree, county: CoverageCounty
) -> None:
    code = "industry_participation_rate"
    # 脱贫户 and 监测户 (labour not required): H1, H2, H3 (a1), H5, H6 (a2), H7, H8 (b1) = 7.
    # With a 2026 participation: H1, H3. H4's does not count (一般农户), H6's is of 2025.
    assert figures(code, tree.village_a1) == (d("2"), d("3"), d("0.6667"))
    assert figures(code, tree.village_a2) == (d("0"), d("2"), d("0.0000"))
    assert figures(code, tree.township_b) == (d("0"), d("2"), d("0.0000"))
    # 2 ÷ 7 = 0.285714… → 0.2857
    assert figures(code, tree.county) == (d("2"), d("7"), d("0.2857"))


def test_households_led_per_cooperative_counts_each_membership_of_a_lifted_or_monitored_household(
    tree: Tree, county: CoverageCounty
) -> None:
    code = "households_led_per_cooperative"
    # Memberships in force in cooperatives in force: H1–C1, H1–C2, H2–C3, H3–C1, H4–C1 (a1); H7–C5 (b1).
    # 带动 (脱贫户 or 监测户): all but H4's. a1: 4 over C1, C2, C3 → 1.33; b1: 1 over C5.
    assert figures(code, tree.village_a1) == (d("4"), d("3"), d("1.33"))
    assert figures(code, tree.village_a2) == (d("0"), d("0"), None)
    assert figures(code, tree.township_b) == (d("1"), d("1"), d("1.00"))
    # 县: 5 over C1, C2, C3, C5 → 1.25
    assert figures(code, tree.county) == (d("5"), d("4"), d("1.25"))


def test_entities_are_counted_where_they_are_registered_when_in_force(tree: Tree, county: CoverageCounty) -> None:
    # E1 is registered at the county: it counts for the county only.
    assert value("enterprise_count", tree.county).value == d("2")
    assert value("enterprise_count", tree.township_a).value == d("1")
    assert value("enterprise_count", tree.township_b).value == d("0")
    # C4 is cancelled: C1, C2 (a1), C3, C5 (b1)
    assert value("cooperative_count", tree.county).value == d("4")
    assert value("cooperative_count", tree.village_a2).value == d("0")
    assert value("cooperative_count", tree.township_b).value == d("2")
    # 示范社 of 县级 or above: C1 (县级), C5 (省级), among the cooperatives in force
    assert figures("model_cooperative_count", tree.county) == (d("2"), d("4"), d("2"))
    assert figures("model_cooperative_count", tree.village_a1) == (d("1"), d("2"), d("1"))
    assert value("family_farm_count", tree.village_a1).value == d("1")
    assert value("family_farm_count", tree.township_b).value == d("0")


def test_scale_plans_are_met_when_the_villages_inside_report_at_least_the_plan(
    tree: Tree, county: CoverageCounty
) -> None:
    code = "scale_plans_met"
    # County 核桃 100: a1 60 + b1 50 = 110, met. 金碧镇 核桃 80: a1 60, missed. a1 烤烟 30: 30, met.
    # a2 核桃 10: nothing reported, missed.
    assert figures(code, tree.county) == (d("2"), d("4"), d("0.5000"))
    assert figures(code, tree.township_a) == (d("1"), d("3"), d("0.3333"))
    assert figures(code, tree.village_a1) == (d("1"), d("1"), d("1.0000"))
    assert figures(code, tree.village_a2) == (d("0"), d("1"), d("0.0000"))
    assert figures(code, tree.township_b) == (d("0"), d("0"), None)


def test_every_drill_down_list_counts_what_its_figure_counts(tree: Tree, county: CoverageCounty) -> None:
    checked = 0
    for stored in IndicatorValue.objects.filter(indicator__in=CODES).select_related("region"):
        indicator = registry.get(stored.indicator)
        assert indicator is not None
        numerator = indicator.numerator_records(period=PERIOD, region=stored.region, parameters={})
        denominator = indicator.denominator_records(period=PERIOD, region=stored.region, parameters={})
        assert numerator.count() == stored.numerator == stored.records, stored
        assert denominator.count() == stored.denominator, stored
        checked += 1
    # 10 figures at the county and its 2 townships, 9 at its 3 villages (no village share of villages)
    assert checked == 10 * 3 + 9 * 3


def test_the_drill_down_pages_list_as_many_records_as_the_figure_counts(
    tree: Tree, staff: Staff, county: CoverageCounty
) -> None:
    client = Client()
    assert client.login(username="xian", password=PASSWORD)
    for code in CODES:
        for region in (tree.county, tree.township_a, tree.village_a1):
            stored = IndicatorValue.objects.filter(indicator=code, region=region).first()
            if stored is None:
                continue
            for side, expected in (("numerator", stored.numerator), ("denominator", stored.denominator)):
                response = client.get(
                    reverse(f"assessment_{side}", args=[code]), {"region": region.code, "period": str(PERIOD)}
                )
                assert response.status_code == 200
                assert shown_count(response.content.decode()) == expected, (code, region.name, side)


def test_the_not_yet_covered_list_of_the_indicator_is_the_households_left(tree: Tree, county: CoverageCounty) -> None:
    from assessment.selectors import drill_down

    indicator = registry.get("binding_coverage")
    assert indicator is not None
    left = drill_down(region=tree.township_a, period=PERIOD, indicator=indicator, side="complement")
    houses = county.households
    assert {fact.household_id for fact in left} == {houses["H2"].pk, houses["H5"].pk, houses["H6"].pk}


def test_the_household_shares_are_counts_over_the_facts_and_the_others_take_one_query_per_level(
    tree: Tree, county: CoverageCounty, django_assert_num_queries: Any
) -> None:
    for indicator in [*cooperative_indicators.INDICATORS, *industry_indicators.INDICATORS]:
        if isinstance(indicator, SourceIndicator):
            # Plain counts: the engine computes them at village level once per county and sums upwards,
            # in a query of their own (their subqueries would take the household figures' query
            # off its parallel plan).
            assert is_additive(indicator, period=PERIOD, parameters={})
            assert indicator.source.name != HOUSEHOLD_FACTS.name
            continue
        for region in (tree.county, tree.township_a, tree.village_a1):
            if region.level not in indicator.levels:
                continue
            within = tree.county.prefix
            with django_assert_num_queries(1):
                indicator.compute(period=PERIOD, level=region.level, within=within, parameters={})


def test_the_seeds_targets_are_seeded_citing_their_documents_and_scored(tree: Tree, county: CoverageCounty) -> None:
    created = coverage_targets_ensure(county=tree.county)
    assert created == 4 * 5 * 2  # four targets and their rules, 2022–2026
    assert coverage_targets_ensure(county=tree.county) == 0
    target = Target.objects.get(indicator="binding_coverage", region=tree.county, year=2026)
    assert (target.comparator, target.value, target.source_document) == ("gte", Decimal("1"), "001")
    assert "100%" in target.clause
    assert ScoringRule.objects.filter(region=tree.county, year=2026, indicator="binding_coverage").exists()
    indicators_compute(scope=tree.county, period=PERIOD)
    coverage = value("binding_coverage", tree.county)
    assert coverage.status == Status.MISSED
    # 10 − 0.5 × (100 − 33.33) points = 10 − 33.335 → the floor, 0
    assert coverage.score == Decimal("0.00") and coverage.full_score == Decimal("10.00")
    # The county's target holds in its townships too: 湾碧乡's one village has a cooperative
    assert value("villages_with_cooperative", tree.township_b).status == Status.MET
    assert value("villages_with_cooperative", tree.township_b).score == Decimal("5.00")
    participation = value("industry_participation_rate", tree.village_a1)
    assert (participation.status, participation.target) == (Status.MISSED, Decimal("0.7500"))
    # 66.67% against 75%: 8.33 points short × 0.5 = 4.165 → 5 − 4.165 = 0.835 → 0.84
    assert participation.score == Decimal("0.84")


def test_the_dashboard_group_draws_the_coverage_by_sub_region_with_links_to_the_households(
    tree: Tree, staff: Staff, county: CoverageCounty
) -> None:
    from assessment.dashboard_charts import charts
    from assessment.dashboard_selectors import dashboard

    board = dashboard(region=tree.county, period=PERIOD, compare="previous")
    group = next(each for each in board.groups if each.group.code == "industry_binding")
    assert group.group.title == "产业与双绑"
    assert [tile.indicator.code for tile in group.tiles] == [
        "binding_coverage",
        "cooperative_membership_rate",
        "villages_with_cooperative",
        "industry_participation_rate",
        "households_led_per_cooperative",
        "scale_plans_met",
        "enterprise_count",
        "cooperative_count",
        "model_cooperative_count",
        "family_farm_count",
    ]
    views = {view.chart.code: view for view in charts(board)["industry_binding"]}
    coverage = views["binding_coverage_by_subregion"].option["series"][0]
    assert coverage["name"] == "双绑覆盖率"
    assert [item["value"] for item in coverage["data"]] == [25.0, 50.0]  # 金碧镇 1 of 4, 湾碧乡 1 of 2
    client = Client()
    assert client.login(username="xian", password=PASSWORD)
    for item, township in zip(coverage["data"], (tree.township_a, tree.township_b), strict=True):
        shown = shown_count(client.get(item["link"]).content.decode())
        assert shown == value("binding_coverage", township).numerator
    page = client.get(reverse("assessment_dashboard"), {"region": tree.county.code, "period": str(PERIOD)})
    html = page.content.decode()
    assert 'data-group="industry_binding"' in html and "双绑覆盖率（按下级区划）" in html
    assert 'data-indicator="binding_coverage"' in html and "33.3%" in html


def test_the_seed_command_writes_the_targets_once(tree: Tree) -> None:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("seed_coverage_targets", stdout=out)
    assert "新增 40 条" in out.getvalue()
    call_command("seed_coverage_targets", stdout=out)
    assert "新增 0 条" in out.getvalue()
    sources = set(Target.objects.filter(indicator__in=CODES).values_list("source_document", flat=True))
    assert sources == {"000", "001", "003"}
