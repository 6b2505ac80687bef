"""Writes demo data: regions, thresholds and accounts idempotently, households in bulk."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice
from operator import attrgetter
from typing import Any

from django.apps import apps
from django.core.management import call_command
from django.db import connections, models, router, transaction
from django.db.backends.base.operations import BaseDatabaseOperations
from django.utils import timezone

from households.demo import THRESHOLDS, HouseholdRow, generate_households
from households.demo_names import COUNTY, PREFECTURE, PROVINCE, TOWNSHIPS
from households.models import (
    AssistanceMeasure,
    Household,
    IncomeCheckBound,
    IncomeRecord,
    Member,
    MonitoringCase,
    MonitoringThreshold,
    RiskType,
)
from households.population import VillagePopulation
from regions.db import statistics_refresh
from regions.models import Level, Region, Role, User
from regions.services import region_create, role_groups_ensure, user_create

DEMO_PASSWORD = "zhenxing-demo"
CHUNK_SIZE = 2000
BATCH_SIZE = 2000


@dataclass(frozen=True)
class DemoAccount:
    username: str
    full_name: str
    role: str | None
    region_code: str | None


DEMO_ACCOUNTS = (
    DemoAccount("admin", "王海涛", None, None),
    DemoAccount("xian", "杨建华", Role.COUNTY_VIEWER, COUNTY[0]),
    DemoAccount("xianadmin", "李志强", Role.COUNTY_ADMIN, COUNTY[0]),
    DemoAccount("xiang", "张丽萍", Role.TOWNSHIP_ADMIN, TOWNSHIPS[0].code),
    DemoAccount("cun", "罗春梅", Role.VILLAGE_CLERK, TOWNSHIPS[0].village_code(0)),
)


def _region_ensure(*, code: str, name: str, level: int, parent: Region | None) -> Region:
    existing = Region.objects.filter(code=code).first()
    return existing or region_create(code=code, name=name, level=level, parent=parent)


@transaction.atomic
def demo_regions_ensure() -> dict[str, Region]:
    """云南省 → 楚雄州 → 大姚县 → demo townships and villages, each created once; by code."""
    province = _region_ensure(code=PROVINCE[0], name=PROVINCE[1], level=Level.PROVINCE, parent=None)
    prefecture = _region_ensure(code=PREFECTURE[0], name=PREFECTURE[1], level=Level.PREFECTURE, parent=province)
    county = _region_ensure(code=COUNTY[0], name=COUNTY[1], level=Level.COUNTY, parent=prefecture)
    regions = {region.code: region for region in (province, prefecture, county)}
    for township in TOWNSHIPS:
        town = _region_ensure(code=township.code, name=township.name, level=Level.TOWNSHIP, parent=county)
        regions[town.code] = town
        for index, name in enumerate(township.villages):
            code = township.village_code(index)
            regions[code] = _region_ensure(code=code, name=name, level=Level.VILLAGE, parent=town)
    return regions


def demo_thresholds_ensure(*, province: Region) -> None:
    """The province's monitoring threshold for every year the demo income covers, if unset."""
    for year, (amount, source) in THRESHOLDS.items():
        if not MonitoringThreshold.objects.filter(region=province, year=year).exists():
            threshold = MonitoringThreshold(region=province, year=year, amount=amount, source=source)
            threshold.full_clean()
            threshold.save()


# Above the most a demo household earns in wages in a quarter (three members at 5,400 元 a month).
DEMO_QUARTERLY_WAGES_BOUND = Decimal("50000")


def demo_income_check_bounds_ensure(*, county: Region) -> None:
    """The county's 收入核实上限 for every year the demo income covers, if unset."""
    for year in THRESHOLDS:
        if not IncomeCheckBound.objects.filter(region=county, year=year).exists():
            bound = IncomeCheckBound(
                region=county,
                year=year,
                quarterly_wages=DEMO_QUARTERLY_WAGES_BOUND,
                source="演示数据（非官方）：县级单季工资性收入核实上限",
            )
            bound.full_clean()
            bound.save()


def demo_users_ensure() -> list[DemoAccount]:
    """The demo accounts, each created once with the shared demo password."""
    role_groups_ensure()
    for account in DEMO_ACCOUNTS:
        if User.objects.filter(username=account.username).exists():
            continue
        if account.role is None:
            user = User(username=account.username, first_name=account.full_name, is_staff=True, is_superuser=True)
            user.set_password(DEMO_PASSWORD)
            user.full_clean()
            user.save()
        else:
            user_create(
                username=account.username,
                password=DEMO_PASSWORD,
                role=account.role,
                region=Region.objects.get(code=account.region_code),
                full_name=account.full_name,
            )
    return list(DEMO_ACCOUNTS)


def _converter(field: models.Field[Any, Any], connection: Any) -> Any:
    """How one field's final Python value becomes a database parameter; None when as is."""
    if isinstance(field, models.DecimalField):
        if type(connection.ops).adapt_decimalfield_value is BaseDatabaseOperations.adapt_decimalfield_value:
            return None
        return lambda value: connection.ops.adapt_decimalfield_value(value, field.max_digits, field.decimal_places)
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        now = field.get_db_prep_save(timezone.now(), connection)
        return lambda value: now
    if isinstance(field, (models.IntegerField, models.BooleanField, models.CharField, models.ForeignKey)):
        return None
    return lambda value: field.get_db_prep_save(value, connection)


def _insert_many(model: type[models.Model], objects: Sequence[models.Model]) -> None:
    """INSERT rows whose values are final with executemany, like bulk_create without its cost.

    bulk_create prepares every value through the field machinery, which makes up most of the
    seeding time on the wide income table; these values are already typed and quantized.
    No ids come back, so use it only for rows nothing else points at.
    """
    connection = connections[router.db_for_write(model)]
    fields = [
        field for field in model._meta.concrete_fields if not isinstance(field, models.AutoField | models.BigAutoField)
    ]
    values = attrgetter(*[field.attname for field in fields])
    converters = [
        (index, converter) for index, field in enumerate(fields) if (converter := _converter(field, connection))
    ]
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        quote(model._meta.db_table), ", ".join(quote(field.column) for field in fields), ", ".join(["%s"] * len(fields))
    )
    with connection.cursor() as cursor:
        for start in range(0, len(objects), BATCH_SIZE):
            batch = []
            for instance in objects[start : start + BATCH_SIZE]:
                row = list(values(instance))
                for index, converter in converters:
                    row[index] = converter(row[index])
                batch.append(row)
            cursor.executemany(sql, batch)


def _write_chunk(
    rows: Sequence[HouseholdRow], *, villages: dict[str, int], risk_types: dict[str, int], measures: dict[str, int]
) -> None:
    """Insert one chunk of households with everything that hangs off them."""
    households = [
        Household(
            uuid=row.uuid,
            number=row.number,
            village_id=villages[row.village_code],
            household_type=row.household_type,
            lifted_year=row.lifted_year,
            relocated=row.relocated,
            phone=row.phone,
            address=row.address,
            helper_name=row.helper_name,
            helper_unit=row.helper_unit,
            helper_phone=row.helper_phone,
            latest_income_year=row.latest_income_year,
            latest_income_quarter=row.latest_income_quarter,
            trailing_per_capita=row.trailing_per_capita,
        )
        for row in rows
    ]
    Household.objects.bulk_create(households, batch_size=BATCH_SIZE)
    if any(household.pk is None for household in households):
        # Backends that cannot return ids from a bulk insert: look them up by number.
        ids = dict(Household.objects.filter(number__in=[row.number for row in rows]).values_list("number", "pk"))
        for household in households:
            household.pk = ids[household.number]
    members = [
        Member(
            household_id=household.pk,
            name=member.name,
            id_number=member.id_number,
            sex=member.sex,
            birth_date=member.birth_date,
            relation=member.relation,
            labour=member.labour,
            health=member.health,
            schooling=member.schooling,
            work_place=member.work_place,
            work_months=member.work_months,
            medical_insurance=member.medical_insurance,
        )
        for row, household in zip(rows, households, strict=True)
        for member in row.members
    ]
    _insert_many(Member, members)
    _write_cases(rows, households, risk_types=risk_types, measures=measures)
    records = []
    for row, household in zip(rows, households, strict=True):
        for income in row.incomes:
            record = IncomeRecord(
                household_id=household.pk,
                year=income.year,
                quarter=income.quarter,
                household_size=income.household_size,
                **income.amounts,
            )
            # Bulk inserts skip save(), which is where the stored totals are normally set.
            record.compute()
            records.append(record)
    _insert_many(IncomeRecord, records)


def _write_cases(
    rows: Sequence[HouseholdRow],
    households: Sequence[Household],
    *,
    risk_types: dict[str, int],
    measures: dict[str, int],
) -> None:
    """Insert the chunk's monitoring cases and their risk-type and measure links."""
    planned = [(row.case, household.pk) for row, household in zip(rows, households, strict=True) if row.case]
    cases = [
        MonitoringCase(
            household_id=household_id,
            category=plan.category,
            identified_month=plan.identified_month,
            eliminated_month=plan.eliminated_month,
            elimination_method=plan.elimination_method,
        )
        for plan, household_id in planned
    ]
    MonitoringCase.objects.bulk_create(cases, batch_size=BATCH_SIZE)
    risk_through = MonitoringCase.risk_types.through
    measure_through = MonitoringCase.measures.through
    risk_rows, measure_rows = [], []
    for case, (plan, _) in zip(cases, planned, strict=True):
        risk_rows += [
            risk_through(monitoringcase_id=case.pk, risktype_id=risk_types[code]) for code in plan.risk_type_codes
        ]
        measure_rows += [
            measure_through(monitoringcase_id=case.pk, assistancemeasure_id=measures[code])
            for code in plan.measure_codes
        ]
    risk_through.objects.bulk_create(risk_rows, batch_size=BATCH_SIZE)
    measure_through.objects.bulk_create(measure_rows, batch_size=BATCH_SIZE)


def demo_households_write(
    rows: Iterable[HouseholdRow], *, chunk_size: int = CHUNK_SIZE, on_chunk: Callable[[int], None] | None = None
) -> int:
    """Bulk-insert households chunk by chunk, one transaction each, without history rows."""
    villages = dict(Region.objects.filter(level=Level.VILLAGE).values_list("code", "pk"))
    risk_types = dict(RiskType.objects.values_list("code", "pk"))
    measures = dict(AssistanceMeasure.objects.values_list("code", "pk"))
    iterator = iter(rows)
    written = 0
    while chunk := list(islice(iterator, chunk_size)):
        with transaction.atomic():
            _write_chunk(chunk, villages=villages, risk_types=risk_types, measures=measures)
        written += len(chunk)
        if on_chunk is not None:
            on_chunk(written)
    return written


HISTORY_MODELS = ("households.Household", "households.Member", "households.MonitoringCase", "households.IncomeRecord")


def demo_history_ensure() -> None:
    """A first history row for every demo record, as every other way of writing one leaves: the bulk
    inserts above skip django-simple-history, and the API's conflict queue reads the version a provincial
    client last saw from the history (api/conflicts.py) — without it a county edit of a demo household
    made the province's next write a 412 instead of a conflict to resolve. Models that already have
    history rows are left alone (populate_history's rule)."""
    call_command("populate_history", *HISTORY_MODELS, batchsize=BATCH_SIZE, stdout=io.StringIO())


# Rural population ÷ registered members, by village (cycled): the ledger holds most but not all of a
# village's people, so the 监测对象 share lands on both sides of 002's 3% line.
POPULATION_FACTORS = (1.4, 1.8, 1.6, 2.0, 1.5)
POPULATION_SOURCE = "演示数据（非官方）：村农村人口"


def demo_populations_ensure(*, years: Iterable[int]) -> int:
    """Each demo village's rural population for the years, from its registered members; returns rows added."""
    members = dict(
        Member.objects.filter(is_active=True, household__village__code__startswith=COUNTY[0][:6])
        .values("household__village_id")
        .annotate(count=models.Count("pk"))
        .values_list("household__village_id", "count")
    )
    added = 0
    for index, village in enumerate(Region.objects.filter(code__startswith=COUNTY[0][:6], level=Level.VILLAGE)):
        people = members.get(village.pk, 0)
        if not people:
            continue
        population = max(10, round(people * POPULATION_FACTORS[index % len(POPULATION_FACTORS)], -1))
        for year in years:
            _row, created = VillagePopulation.objects.get_or_create(
                village=village, year=year, defaults={"population": population, "source": POPULATION_SOURCE}
            )
            added += int(created)
    return added


# What later registers add to the demo county (industries, cooperatives…): each step receives the
# county and the seed, runs after the households exist, and must be deterministic per seed.
DemoStep = Callable[..., None]
_demo_steps: list[DemoStep] = []


def register_demo_step(step: DemoStep) -> DemoStep:
    """Add a step to seed_demo (from an AppConfig.ready(); steps run in the order apps are installed)."""
    if step not in _demo_steps:
        _demo_steps.append(step)
    return step


def demo_seed(*, households: int, seed: int, on_chunk: Callable[[int], None] | None = None) -> list[DemoAccount]:
    """Regions, thresholds, accounts, `households` generated households, the villages' populations, and
    what the later registers add (register_demo_step)."""
    regions = demo_regions_ensure()
    demo_thresholds_ensure(province=regions[PROVINCE[0]])
    demo_income_check_bounds_ensure(county=regions[COUNTY[0]])
    accounts = demo_users_ensure()
    demo_households_write(generate_households(count=households, seed=seed), on_chunk=on_chunk)
    demo_history_ensure()
    demo_populations_ensure(years=THRESHOLDS)
    for step in _demo_steps:
        with transaction.atomic():
            step(county=regions[COUNTY[0]], seed=seed)
    # The first queries on the new county must not be planned on the empty database's statistics.
    statistics_refresh(models=apps.get_models())
    return accounts
