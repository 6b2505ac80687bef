"""The engine on a county worked out by hand (tests/assessment/worked_county.py has the data).

Each assertion's comment is the arithmetic; the figures are for 2026Q2 unless it says otherwise.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from assessment.engine import indicators_compute
from assessment.models import Comparator, IndicatorValue, ParameterValue, RegionScore, ScoringRule, Status, Target
from figures import registry
from figures.periods import Quarter
from households.models import Household
from regions.models import Region
from tests.assessment import worked_county
from tests.assessment.worked_county import d
from tests.conftest import Staff
from tests.factories import Tree

PERIOD = Quarter(2026, 2)


@pytest.fixture
def county(tree: Tree, staff: Staff) -> dict[str, Household]:
    return worked_county.build(tree, staff.county_admin)


def target(indicator: str, region: Region, comparator: str, value: str | None = None, source: str = "测试") -> Target:
    row = Target(
        indicator=indicator,
        region=region,
        year=2026,
        comparator=comparator,
        value=None if value is None else Decimal(value),
        source_document=source,
    )
    row.full_clean()
    row.save()
    return row


def rule(indicator: str, region: Region, full: str, deduction: str | None = None, point: str = "0.01") -> ScoringRule:
    return ScoringRule.objects.create(
        indicator=indicator,
        region=region,
        year=2026,
        full_score=Decimal(full),
        deduction_per_point=None if deduction is None else Decimal(deduction),
        point=Decimal(point),
    )


def value(indicator: str, region: Region) -> IndicatorValue:
    return IndicatorValue.objects.get(indicator=indicator, region=region, year=2026, quarter=2)


def compute(tree: Tree) -> None:
    indicators_compute(scope=tree.county, period=PERIOD)


def test_per_capita_income_is_total_net_over_total_people_rounded_once(tree: Tree, county: dict) -> None:
    compute(tree)
    code = "income_per_capita_lifted"
    # 大村村: H1 3,000×3 + 3,600 = 12,600 over 2, H2 9,000×4 = 36,000 over 3 → 48,600 ÷ 5 = 9,720.00
    assert value(code, tree.village_a1).value == d("9720.0000")
    assert value(code, tree.village_a1).numerator == d("48600.0000")
    assert value(code, tree.village_a1).denominator == d("5")
    # 湾碧村: H4 lacks 2026Q2 and is left out; H5 14,723.63 ÷ 2 = 7,361.815 → 7,361.82 (never 7,361.83)
    assert value(code, tree.village_b1).value == d("7361.8200")
    assert value(code, tree.village_b1).records == 1
    # 石丫村 has no 脱贫户: no data rather than zero
    assert value(code, tree.village_a2).value is None
    assert value(code, tree.village_a2).status == Status.NO_TARGET
    # 县: (12,600 + 36,000 + 14,723.63) ÷ 7 = 63,323.63 ÷ 7 = 9,046.2328… → 9,046.23
    assert value(code, tree.county).value == d("9046.2300")
    assert value(code, tree.township_a).value == d("9720.0000")
    # 监测对象: H3 4,000 × 4 = 16,000 ÷ 2 = 8,000; all households: + H3 → 79,323.63 ÷ 9 = 8,813.7366… → 8,813.74
    assert value("income_per_capita_monitored", tree.county).value == d("8000.0000")
    assert value("income_per_capita_all", tree.county).value == d("8813.7400")
    # 年内累计 (2026Q1–Q2): H1 6,600, H2 18,000, H5 7,361.81 (H4 lacks Q2) → 31,961.81 ÷ 7 = 4,565.9728… → 4,565.97
    assert value("income_per_capita_lifted_ytd", tree.county).value == d("4565.9700")


def test_the_household_page_figure_is_rounded_once_too(tree: Tree, county: dict) -> None:
    h5 = Household.objects.get(pk=county["H5"].pk)
    assert h5.trailing_per_capita == d("7361.82")


def test_growth_compares_the_same_households_a_year_earlier(tree: Tree, county: dict) -> None:
    compute(tree)
    code = "income_growth_lifted"
    # Panel: 脱贫户 with all eight quarters — H1, H2, H5 (H4 lacks 2026Q2).
    # 县: now 63,323.63 ÷ 7, then (11,000 + 30,000 + 12,000) ÷ 7 → 63,323.63 ÷ 53,000 − 1 = 0.194785… → 0.1948
    county_value = value(code, tree.county)
    assert county_value.value == d("0.1948")
    assert county_value.numerator == d("9046.2300")  # now, per capita
    assert county_value.denominator == d("7571.4300")  # then: 53,000 ÷ 7 = 7,571.428… → 7,571.43
    # 金碧镇: 48,600 ÷ 41,000 − 1 = 0.185365… → 0.1854;  湾碧乡: 14,723.63 ÷ 12,000 − 1 = 0.226969… → 0.2270
    assert value(code, tree.township_a).value == d("0.1854")
    assert value(code, tree.township_b).value == d("0.2270")
    # No 财产性收入 anywhere: a growth against zero is undefined, not infinite
    assert value("property_income_growth_lifted", tree.county).value is None


def test_counts_of_households_behind_the_monitoring_indicators(tree: Tree, county: dict) -> None:
    compute(tree)
    # Below 8,700 and not monitored, among 脱贫户 with a full window: H1 (6,300) and H5 (7,361.82)
    below = value("lifted_below_threshold_unmonitored", tree.county)
    assert (below.numerator, below.denominator, below.value) == (d("2"), d("3"), d("2"))
    # Below 10,000: H1 6,300, H3 8,000, H5 7,361.82 (H2 12,000 is above; H4 incomplete)
    assert value("below_key_line", tree.county).value == d("3")
    # 零就业 with labour: H3 earned no wages in 2026Q2 and no member works; the others earned wages
    zero = value("zero_employment_with_labour", tree.county)
    assert (zero.numerator, zero.denominator) == (d("1"), d("4"))
    # H3 identified 2025-01, still open at 2026-06-30: 17 months ≥ 12
    assert value("monitoring_open_twelve_months", tree.county).value == d("1")
    # 填报进度: 4 of 5 registered households entered 2026Q2 (H4 did not)
    assert value("entry_progress", tree.county).value == d("0.8000")
    assert value("entry_progress", tree.township_b).value == d("0.5000")
    # 生产经营 fell against 2025Q2: H1 (600 < 1,000) of H1, H2, H3, H5 (H4 has no 2026Q2)
    assert value("operating_fall_share", tree.county).value == d("0.2500")
    assert value("operating_fall_share", tree.township_a).value == d("0.3333")
    assert value("operating_fall_share", tree.village_a1).value == d("0.5000")
    # 监测对象人口: H3's 2 members ÷ 石丫村's 50 = 4%; 金碧镇 2 ÷ 1,050; 湾碧村 has no population: no value
    assert value("monitored_population_share", tree.village_a2).value == d("0.0400")
    assert value("monitored_population_share", tree.township_a).value == d("0.0019")
    assert not IndicatorValue.objects.filter(indicator="monitored_population_share", region=tree.village_b1).exists()
    # Villages above 3%: 石丫村 of the two villages with a population (湾碧村 has none)
    over = value("villages_over_monitored_share", tree.county)
    assert (over.numerator, over.denominator) == (d("1"), d("2"))
    assert not IndicatorValue.objects.filter(indicator="villages_over_monitored_share", region=tree.village_a2).exists()


def test_a_parameter_set_as_data_changes_the_figure(tree: Tree, county: dict) -> None:
    ParameterValue.objects.create(key="key_household_line", region=tree.county, year=2026, value=d("7000"))
    compute(tree)
    # Only H1 (6,300) is below a 7,000 line
    assert value("below_key_line", tree.county).value == d("1")


def test_a_parameter_set_on_the_province_holds_for_the_province_and_prefecture_in_a_full_computation(
    tree: Tree, county: dict
) -> None:
    ParameterValue.objects.create(key="key_household_line", region=tree.province, year=2026, value=d("7000"))
    indicators_compute(scope=None, period=PERIOD)
    # Only H1 (6,300) is below a 7,000 line, at every level (10,000 would count more)
    for region in (tree.province, tree.prefecture, tree.county):
        assert value("below_key_line", region).value == d("1")


def test_targets_are_inherited_downward_unless_a_region_sets_its_own(tree: Tree, county: dict) -> None:
    target("income_per_capita_lifted", tree.county, Comparator.AT_LEAST, "9500", source="002 一")
    target("income_per_capita_lifted", tree.township_b, Comparator.AT_LEAST, "7000")
    compute(tree)
    code = "income_per_capita_lifted"
    county_value = value(code, tree.county)
    assert (county_value.status, county_value.target, county_value.target_source) == (
        Status.MISSED,
        d("9500"),
        "002 一",
    )  # 9,046.23 < 9,500
    assert value(code, tree.township_a).status == Status.MET  # 9,720 ≥ 9,500 (the county's)
    assert value(code, tree.village_a1).target_region == tree.county
    village_b = value(code, tree.village_b1)
    assert (village_b.status, village_b.target, village_b.target_region) == (Status.MET, d("7000"), tree.township_b)
    assert value(code, tree.village_a2).status == Status.NO_DATA  # a target, but no 脱贫户 to measure


def test_every_comparator(tree: Tree, county: dict) -> None:
    target("entry_progress", tree.county, Comparator.AT_LEAST, "1")
    target("monitored_population_share", tree.county, Comparator.AT_MOST, "0.03")
    target("lifted_below_threshold_unmonitored", tree.county, Comparator.ZERO)
    target("operating_fall_share", tree.county, Comparator.BETTER_THAN_PARENT)
    target("income_per_capita_all", tree.county, Comparator.NOT_BELOW_LAST_YEAR)
    # Last year's 2026Q2 figure as stored by an earlier computation: 大村村 8,000, 湾碧村 8,000.
    for region, stored in ((tree.village_a1, "8000"), (tree.village_b1, "8000")):
        IndicatorValue.objects.create(
            region=region,
            year=2025,
            quarter=2,
            indicator="income_per_capita_all",
            numerator=0,
            value=d(stored),
            status=Status.NO_TARGET,
            data_version=0,
            computed_at="2025-07-01T00:00:00+08:00",
        )
    compute(tree)
    assert value("entry_progress", tree.township_a).status == Status.MET  # 3 of 3 ≥ 100%
    assert value("entry_progress", tree.township_b).status == Status.MISSED  # 1 of 2
    assert value("monitored_population_share", tree.village_a2).status == Status.MISSED  # 4% > 3%
    assert value("monitored_population_share", tree.village_a1).status == Status.MET  # 0%
    assert value("lifted_below_threshold_unmonitored", tree.township_a).status == Status.MISSED  # H1
    assert value("lifted_below_threshold_unmonitored", tree.village_a2).status == Status.MET  # none
    # Lower is better: 大村村 50% against 金碧镇 33.33% is worse; 石丫村 0% is better
    fall = value("operating_fall_share", tree.village_a1)
    assert (fall.status, fall.target) == (Status.MISSED, d("0.3333"))
    assert value("operating_fall_share", tree.village_a2).status == Status.MET
    # The county's parent (the prefecture) was not computed: nothing to compare with
    assert value("operating_fall_share", tree.county).status == Status.NO_DATA
    # 大村村 all households 48,600 ÷ 5 = 9,720 ≥ 8,000; 湾碧村 7,361.82 < 8,000; 石丫村 has no last-year value
    assert value("income_per_capita_all", tree.village_a1).status == Status.MET
    assert value("income_per_capita_all", tree.village_b1).status == Status.MISSED
    assert value("income_per_capita_all", tree.village_a2).status == Status.NO_DATA


def test_scores_deduct_half_a_point_per_point_above_the_parent_and_rank_siblings(tree: Tree, county: dict) -> None:
    target("income_per_capita_lifted", tree.county, Comparator.AT_LEAST, "9500")
    override = target("income_per_capita_lifted", tree.township_b, Comparator.AT_LEAST, "7000")
    target("operating_fall_share", tree.county, Comparator.BETTER_THAN_PARENT, source="001 三(四)")
    target("entry_progress", tree.county, Comparator.AT_LEAST, "1")
    rule("income_per_capita_lifted", tree.county, "10", deduction="1", point="100")
    rule("operating_fall_share", tree.county, "5", deduction="0.5")
    rule("entry_progress", tree.county, "5")
    compute(tree)
    # 金碧镇 fall share 33.33% vs the county's 25%: 8.33 points above → 5 − 0.5 × 8.33 = 0.835 → 0.84
    assert value("operating_fall_share", tree.township_a).score == d("0.84")
    # 大村村 50% vs 金碧镇 33.33%: 16.67 points → 5 − 8.335 < 0 → the floor, 0
    assert value("operating_fall_share", tree.village_a1).score == d("0.00")
    # 县 per capita 9,046.23 is 453.77 short of 9,500: 4.5377 points of 100 yuan → 10 − 4.5377 → 5.46
    assert value("income_per_capita_lifted", tree.county).score == d("5.46")
    # A missed target without a deduction rate scores the floor
    assert value("entry_progress", tree.township_b).score == d("0.00")
    # 金碧镇 10 + 0.84 + 5 = 15.84;  湾碧乡 10 (7,361.82 ≥ its own 7,000) + 5 + 0 = 15
    scores = {s.region_id: s for s in RegionScore.objects.filter(year=2026, quarter=2)}
    assert (scores[tree.township_a.pk].score, scores[tree.township_a.pk].rank) == (d("15.84"), 1)
    assert (scores[tree.township_b.pk].score, scores[tree.township_b.pk].rank) == (d("15.00"), 2)
    assert scores[tree.township_b.pk].missed == 1
    # Without its own target 湾碧乡 inherits 9,500: 2,138.18 short → 10 − 21.38 → 0; now 0 + 5 + 0 = 5
    override.delete()
    compute(tree)
    scores = {s.region_id: s for s in RegionScore.objects.filter(year=2026, quarter=2)}
    assert value("income_per_capita_lifted", tree.township_b).status == Status.MISSED
    assert scores[tree.township_b.pk].score == d("5.00")


def test_recomputing_is_idempotent(tree: Tree, county: dict) -> None:
    compute(tree)
    first = sorted(IndicatorValue.objects.values_list("region_id", "indicator", "numerator", "denominator", "value"))
    compute(tree)
    again = sorted(IndicatorValue.objects.values_list("region_id", "indicator", "numerator", "denominator", "value"))
    assert first == again
    assert IndicatorValue.objects.filter(region=tree.county).count() == len(registry.indicators())


def test_drill_down_lists_add_up_to_every_figure(tree: Tree, county: dict) -> None:
    compute(tree)
    regions = {r.pk: r for r in Region.objects.all()}
    for stored in IndicatorValue.objects.all():
        indicator = registry.get(stored.indicator)
        assert indicator is not None
        region = regions[stored.region_id]
        parameters = {p.key: p.default for p in indicator.parameters}
        numerator = indicator.numerator_records(period=PERIOD, region=region, parameters=parameters)
        denominator = indicator.denominator_records(period=PERIOD, region=region, parameters=parameters)
        if indicator.unit in ("households",) or stored.indicator in ("entry_progress", "operating_fall_share"):
            assert numerator.count() == stored.numerator, stored
            assert denominator.count() == stored.denominator, stored
        elif indicator.unit == "yuan_per_person":
            assert denominator.count() == stored.records, stored
            assert sum(fact.size for fact in denominator) == stored.denominator, stored
        else:
            assert numerator.count() == stored.records, stored


def test_an_indicator_defined_outside_the_assessment_app_is_computed_scored_and_drilled(
    tree: Tree, county: dict
) -> None:
    from tests.assessment import outside_indicator

    registry.register(outside_indicator.LargeHouseholds())
    try:
        target("large_households", tree.county, Comparator.AT_MOST, "0")
        compute(tree)
        # Households of 3 or more at 2026Q2: H2 only
        stored = value("large_households", tree.county)
        assert (stored.value, stored.status) == (d("1"), Status.MISSED)
        records = outside_indicator.LargeHouseholds().numerator_records(
            period=PERIOD, region=tree.county, parameters={}
        )
        assert [fact.household_id for fact in records] == [county["H2"].pk]
    finally:
        registry.unregister("large_households")


def test_a_county_recomputed_alone_is_ranked_among_the_stored_scores_of_its_neighbours(
    tree: Tree, county: dict
) -> None:
    neighbour = Region.objects.create(code="532322000000", name="双柏县", level=3, parent=tree.prefecture)
    RegionScore.objects.create(
        region=neighbour,
        year=2026,
        quarter=2,
        score=d("9"),
        full_score=d("10"),
        missed=0,
        rank=1,
        computed_at="2026-07-01T00:00:00+08:00",
    )
    target("income_per_capita_lifted", tree.province, Comparator.AT_LEAST, "9500")
    rule("income_per_capita_lifted", tree.province, "10", deduction="1", point="100")
    compute(tree)
    # 大姚县 scores 5.46 (see above) against 双柏县's stored 9: second of two, and 双柏县 stays first
    ours = RegionScore.objects.get(region=tree.county, year=2026, quarter=2)
    assert (ours.score, ours.rank) == (d("5.46"), 2)
    assert RegionScore.objects.get(region=neighbour, year=2026, quarter=2).rank == 1


def test_a_negative_parameter_or_a_far_year_is_refused(tree: Tree) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        ParameterValue(key="key_household_line", region=tree.county, year=2026, value=d("-1")).full_clean()
    assert "value" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        Target(
            indicator="entry_progress", region=tree.county, year=30000, comparator=Comparator.AT_LEAST, value=d("1")
        ).full_clean()
    assert "year" in refused.value.message_dict


def test_breakdowns_count_households_by_band_and_cases_by_category_and_risk(tree: Tree, county: dict) -> None:
    from assessment.models import BreakdownValue

    compute(tree)
    bands = BreakdownValue.objects.get(region=tree.county, year=2026, quarter=2, breakdown="per_capita_bands").data
    # H1 6,300 · H5 7,361.82 · H3 8,000 · H2 12,000 (H4 lacks a quarter)
    assert {key: count for key, count in bands.items() if count} == {"b06": 1, "b07": 1, "b08": 1, "b12": 1}
    village = BreakdownValue.objects.get(region=tree.village_b1, year=2026, quarter=2, breakdown="per_capita_bands")
    assert {key: count for key, count in village.data.items() if count} == {"b07": 1}
    matrix = BreakdownValue.objects.get(region=tree.township_a, year=2026, quarter=2, breakdown="monitoring_matrix")
    assert matrix.data == {"marginal|illness|open": 1}


def test_the_four_wheels_add_up_to_the_per_capita_net_income(tree: Tree, county: dict) -> None:
    compute(tree)
    parts: dict[str, Decimal] = {
        code: value(code, tree.county).value or d("0")
        for code in ("composition_wages", "composition_operating", "composition_property", "composition_transfers")
    }
    costs = value("composition_costs", tree.county).value or d("0")
    # Each part is rounded once; together within a fen per part of the 人均纯收入 8,813.74
    total = sum(parts.values(), d("0")) - costs
    assert abs(total - (value("income_per_capita_all", tree.county).value or d("0"))) <= d("0.05")
