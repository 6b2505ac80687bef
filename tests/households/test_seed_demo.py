"""The demo-data generator and the seed_demo command."""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command

from households.demo import THRESHOLDS, DemoGenerator, HouseholdRow, add_months, generate_households
from households.demo_writer import DEMO_ACCOUNTS, DEMO_PASSWORD, demo_regions_ensure, demo_seed, demo_users_ensure
from households.id_numbers import birth_date_of, id_number_error, sex_of
from households.models import (
    AMOUNT_FIELDS,
    LABOUR_CAPABLE,
    Household,
    HouseholdType,
    IncomeRecord,
    Member,
    MonitoringCase,
    MonitoringCategory,
    MonitoringThreshold,
    Relation,
    months_between,
)
from households.services import household_refresh_income_facts
from regions.models import Level, Region, Role, User

SMALL = 40


@pytest.fixture
def seeded(db: Any) -> None:
    demo_seed(households=SMALL, seed=7)


@pytest.fixture(scope="module")
def generated() -> list[HouseholdRow]:
    return list(generate_households(count=2000, seed=2026))


def _snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Everything seeded, keyed by natural keys rather than ids."""
    return {
        "households": list(
            Household.objects.order_by("number").values_list(
                "uuid",
                "number",
                "village__code",
                "household_type",
                "lifted_year",
                "relocated",
                "phone",
                "address",
                "helper_name",
                "trailing_per_capita",
            )
        ),
        "members": list(
            Member.objects.order_by("id_number").values_list(
                "household__number", "name", "id_number", "relation", "labour", "health", "schooling", "work_months"
            )
        ),
        "cases": list(
            MonitoringCase.objects.order_by("household__number").values_list(
                "household__number", "category", "identified_month", "eliminated_month", "risk_types__code"
            )
        ),
        "income": list(
            IncomeRecord.objects.order_by("household__number", "year", "quarter").values_list(
                "household__number", "year", "quarter", "household_size", "net_income", *AMOUNT_FIELDS
            )
        ),
    }


def test_seed_demo_creates_dayao_county_with_its_townships_and_villages(seeded: None) -> None:
    county = Region.objects.get(code="532326000000")
    assert [region.name for region in Region.objects.ancestors_of(county)] == ["大姚县", "楚雄彝族自治州", "云南省"]
    townships = Region.objects.filter(parent=county, level=Level.TOWNSHIP)
    assert townships.count() >= 4
    assert Region.objects.subtree(county).villages().count() >= 20
    assert Household.objects.count() == SMALL


def test_demo_regions_are_valid_and_created_only_once(db: Any) -> None:
    first = demo_regions_ensure()
    second = demo_regions_ensure()
    assert {code: region.pk for code, region in first.items()} == {code: region.pk for code, region in second.items()}
    assert Region.objects.count() == len(first)
    for region in Region.objects.all():
        region.full_clean()


def test_seed_demo_sets_the_province_threshold_for_every_income_year(seeded: None) -> None:
    thresholds = {t.year: t for t in MonitoringThreshold.objects.filter(region__code="530000000000")}
    assert {year: t.amount for year, t in thresholds.items()} == {
        2024: Decimal("8300"),
        2025: Decimal("8700"),
        2026: Decimal("9000"),
    }
    assert "演示数据（非官方）" in thresholds[2024].source
    assert "演示数据（非官方）" in thresholds[2026].source
    assert thresholds[2025].source == "云南省2025年防返贫监测范围（实践口径）"
    years = {income.year for income in IncomeRecord.objects.all()}
    assert years <= set(thresholds)


def test_seed_demo_creates_each_demo_account_once_with_its_role(seeded: None) -> None:
    demo_users_ensure()
    expected = {
        "xian": (Role.COUNTY_VIEWER, "532326000000"),
        "xianadmin": (Role.COUNTY_ADMIN, "532326000000"),
        "xiang": (Role.TOWNSHIP_ADMIN, "532326100000"),
        "cun": (Role.VILLAGE_CLERK, "532326100201"),
    }
    for username, (role, region_code) in expected.items():
        user = User.objects.get(username=username)
        assert user.check_password(DEMO_PASSWORD)
        assert user.region is not None
        assert (user.role, user.region.code) == (role, region_code)
        assert list(user.groups.values_list("name", flat=True)) == [Role(role).label]
        assert user.first_name
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff and admin.check_password(DEMO_PASSWORD)
    assert User.objects.count() == len(DEMO_ACCOUNTS)


def test_seed_demo_gives_every_household_exactly_one_head(seeded: None) -> None:
    heads = Counter(Member.objects.filter(relation=Relation.HEAD).values_list("household_id", flat=True))
    assert set(heads) == set(Household.objects.values_list("pk", flat=True))
    assert set(heads.values()) == {1}


def test_every_generated_id_number_is_valid_and_unique(seeded: None, generated: list[HouseholdRow]) -> None:
    for member in Member.objects.all():
        assert id_number_error(member.id_number) is None
        assert member.birth_date == birth_date_of(member.id_number)
        assert member.sex == sex_of(member.id_number)
    numbers = [member.id_number for row in generated for member in row.members]
    assert len(numbers) == len(set(numbers))


def test_id_numbers_stay_unique_when_one_birth_date_runs_out_of_sequences() -> None:
    generator = DemoGenerator(seed=1)
    day = date(1980, 5, 17)
    numbers = [generator.id_number(day, sex) for sex in "MF" for _ in range(1200)]
    assert len(set(numbers)) == len(numbers)
    assert all(id_number_error(number) is None for number in numbers)
    assert {sex_of(number) for number in numbers[:1200]} == {"M"}
    assert {sex_of(number) for number in numbers[1200:]} == {"F"}
    assert max(birth_date_of(number) for number in numbers) == day + timedelta(days=2)


def test_member_ages_fit_their_relation_to_the_head(generated: list[HouseholdRow]) -> None:
    for row in generated:
        head = next(member for member in row.members if member.relation == Relation.HEAD)
        for member in row.members:
            if member.relation in (Relation.SON, Relation.DAUGHTER):
                assert member.birth_date > head.birth_date + timedelta(days=365 * 19)
            if member.relation in (Relation.FATHER, Relation.MOTHER):
                assert member.birth_date < head.birth_date - timedelta(days=365 * 19)
            if member.schooling != "none":
                assert member.labour == "none"


def test_seeded_rows_pass_model_validation(seeded: None) -> None:
    for household in Household.objects.all():
        household.full_clean()
    for member in Member.objects.all():
        member.full_clean()
    for record in IncomeRecord.objects.all()[:80]:
        record.full_clean()
    for case in MonitoringCase.objects.select_related("household__village"):
        case.full_clean()
        assert 1 <= case.risk_types.count() <= 3
        assert 1 <= case.measures.count() <= 3


def test_stored_income_totals_match_the_model_formula(seeded: None) -> None:
    for record in IncomeRecord.objects.all():
        stored = (record.net_income, record.per_capita_net_income)
        record.compute()
        assert stored == (record.net_income, record.per_capita_net_income)
        assert record.household_size == Member.objects.filter(household_id=record.household_id).count()


def test_precomputed_income_facts_match_the_service(seeded: None) -> None:
    households = list(Household.objects.order_by("number")[:15])
    assert all(household.trailing_per_capita is not None for household in households)
    for household in households:
        precomputed = (household.latest_income_year, household.latest_income_quarter, household.trailing_per_capita)
        household_refresh_income_facts(household=household)
        household.refresh_from_db()
        assert precomputed == (
            household.latest_income_year,
            household.latest_income_quarter,
            household.trailing_per_capita,
        )
        assert precomputed[:2] == (2026, 3)


def test_seed_demo_writes_one_first_history_row_per_record_at_its_version(seeded: None) -> None:
    # The API's conflict queue reads the version a provincial client saw from the history (api/conflicts.py).
    for model in (Household, Member, IncomeRecord, MonitoringCase):
        assert model.history.count() == model.objects.count() > 0
        assert not model.history.exclude(history_type="+").exists()
    versions = dict(Household.objects.values_list("pk", "version"))
    assert dict(Household.history.values_list("id", "version")) == versions


def test_seed_demo_is_deterministic() -> None:
    first = list(generate_households(count=300, seed=11))
    assert first == list(generate_households(count=300, seed=11))
    assert first != list(generate_households(count=300, seed=12))


def test_seed_demo_writes_the_same_rows_for_the_same_seed(db: Any) -> None:
    demo_seed(households=25, seed=3)
    first = _snapshot()
    later = _later_registers()
    assert later["cooperatives.entity"] and later["industries.participation"] and later["funds.payment"]
    for label in reversed(LATER_REGISTERS):
        if label == "funds.allocation":  # a split protects the allocation it came from: splits first
            apps.get_model(label).objects.exclude(parent=None).delete()
        apps.get_model(label).objects.all().delete()
    IncomeRecord.objects.all().delete()
    MonitoringCase.objects.all().delete()
    Member.objects.all().delete()
    Household.objects.all().delete()
    demo_seed(households=25, seed=3)
    assert _snapshot() == first
    assert _later_registers() == later


# What the later registers' demo steps write, parents first.
LATER_REGISTERS = (
    "industries.industry",
    "industries.designation",
    "industries.scaleplan",
    "industries.scalereport",
    "industries.participation",
    "cooperatives.entity",
    "cooperatives.binding",
    "cooperatives.richleader",
    "cooperatives.membership",
    "cooperatives.earning",
    "funds.allocation",
    "funds.project",
    "funds.project_supported_entities",
    "funds.beneficiary",
    "funds.projectstep",
    "funds.funding",
    "funds.payment",
    "funds.asset",
    "funds.villageprofile",
    "funds.collectiveincome",
)
# The field that names a related row in the snapshot (ids differ between the two runs); else its name.
NATURAL_KEYS = {
    "households.household": "number",
    "households.member": "id_number",
    "funds.allocation": "document_number",
    "funds.project": "code",
    "funds.funding": "project__code",
    "regions.user": "username",
}


def _later_registers() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the later registers, without ids, in a stable order."""
    snapshot = {}
    for label in LATER_REGISTERS:
        model = apps.get_model(label)
        fields = [
            f.attname
            for f in model._meta.concrete_fields
            if f.attname != "id" and not f.is_relation and not getattr(f, "auto_now_add", False)
        ]
        relations = [
            f"{f.name}__{NATURAL_KEYS.get(f.related_model._meta.label_lower, 'name')}"
            for f in model._meta.concrete_fields
            if f.is_relation
        ]
        snapshot[label] = sorted(model.objects.values_list(*fields, *relations), key=repr)
    return snapshot


def test_generated_income_has_a_realistic_level_spread_and_season(generated: list[HouseholdRow]) -> None:
    trailing = [row.trailing_per_capita for row in generated if row.trailing_per_capita is not None]
    assert len(trailing) == len(generated)
    assert Decimal("13000") <= statistics.median(trailing) <= Decimal("17000")
    below = sum(1 for value in trailing if value < THRESHOLDS[2026][0]) / len(generated)
    assert 0.03 <= below <= 0.09
    incomes = [income for row in generated for income in row.incomes]
    assert all(amount >= 0 and amount.as_tuple().exponent == -2 for i in incomes for amount in i.amounts.values())
    assert all(len(row.incomes) == 8 for row in generated)
    by_quarter: dict[tuple[int, int], Decimal] = Counter()  # type: ignore[assignment]
    for income in incomes:
        by_quarter[(income.year, income.quarter)] += income.net_income / income.household_size
    assert by_quarter[(2026, 1)] < by_quarter[(2026, 3)]
    assert Decimal("1.05") < by_quarter[(2026, 3)] / by_quarter[(2025, 3)] < Decimal("1.18")


def test_generated_monitoring_cases_follow_the_rules(generated: list[HouseholdRow]) -> None:
    cases = [(row, row.case) for row in generated if row.case is not None]
    assert 0.03 <= len(cases) / len(generated) <= 0.10
    eliminated = [case for _, case in cases if case.eliminated_month is not None]
    assert 0.2 <= len(eliminated) / len(cases) <= 0.5
    assert {case.category for _, case in cases} == set(MonitoringCategory.values)
    for row, case in cases:
        if case.category == MonitoringCategory.UNSTABLE:
            assert row.household_type == HouseholdType.LIFTED
        if case.category == MonitoringCategory.MARGINAL:
            assert row.household_type == HouseholdType.ORDINARY
        assert case.identified_month.day == 1
        assert date(2023, 1, 1) <= case.identified_month <= date(2026, 9, 1)
        assert 1 <= len(case.risk_type_codes) <= 3
        assert 1 <= len(case.measure_codes) <= 3
        if case.eliminated_month is not None:
            assert months_between(case.identified_month, case.eliminated_month) >= 6
            assert case.elimination_method
            assert any(member.labour in LABOUR_CAPABLE for member in row.members)


def test_generated_households_mix_types_and_relocation(generated: list[HouseholdRow]) -> None:
    lifted = [row for row in generated if row.household_type == HouseholdType.LIFTED]
    assert 0.65 <= len(lifted) / len(generated) <= 0.75
    assert all(row.lifted_year is not None and 2014 <= row.lifted_year <= 2020 for row in lifted)
    assert 0.05 <= sum(row.relocated for row in generated) / len(generated) <= 0.11
    sizes = Counter(len(row.members) for row in generated)
    assert set(sizes) == set(range(1, 8))
    assert sizes.most_common(1)[0][0] in (3, 4)


def test_add_months_rolls_over_the_year() -> None:
    assert add_months(date(2025, 11, 1), 3) == date(2026, 2, 1)


def test_seed_demo_if_empty_leaves_existing_data_alone(db: Any) -> None:
    call_command("seed_demo", "--households", "5", stdout=StringIO())
    numbers = set(Household.objects.values_list("number", flat=True))
    output = StringIO()
    call_command("seed_demo", "--households", "9", "--seed", "99", "--if-empty", stdout=output)
    assert set(Household.objects.values_list("number", flat=True)) == numbers
    assert "已有农户数据" in output.getvalue()


def test_seed_demo_refuses_a_database_that_already_has_households(db: Any) -> None:
    call_command("seed_demo", "--households", "3", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("seed_demo", "--households", "3", stdout=StringIO())
    assert Household.objects.count() == 3


def test_seed_demo_prints_the_demo_accounts(db: Any) -> None:
    output = StringIO()
    call_command("seed_demo", "--households", "2", stdout=output)
    text = output.getvalue()
    assert DEMO_PASSWORD in text
    for account in DEMO_ACCOUNTS:
        assert account.username in text
