"""Export → import is a no-op: every table, history included, unchanged — repeatedly, and into an empty ledger."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from households.models import Household, IncomeRecord, Member, MonitoringCase
from regions.models import User
from tests.households.excel.test_import import check, confirm
from tests.households.test_seed_demo import LATER_REGISTERS
from workbooks.models import ImportStatus, StagedRow

# What an import may write: the registry and its history (the batch log itself is the import's own record).
TABLES = [Household, Member, MonitoringCase, MonitoringCase.risk_types.through, IncomeRecord]


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def county_admin(db: None) -> User:
    call_command("seed_demo", households=120, seed=11, verbosity=0)
    return User.objects.get(username="xianadmin")


def checksums() -> dict[str, str]:
    """A digest of every row of every table an import writes, history tables included, as stored."""
    models: list[Any] = [*TABLES, *(model.history.model for model in (Household, Member, MonitoringCase, IncomeRecord))]
    sums = {}
    with connection.cursor() as cursor:
        for model in models:
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(f"SELECT * FROM {table} ORDER BY 1")
            sums[model._meta.db_table] = hashlib.sha256(repr(cursor.fetchall()).encode()).hexdigest()
    return sums


def exported(user: User, kind: str) -> bytes:
    client = Client()
    client.force_login(user)
    response = client.get(reverse("export_download", args=[kind]))
    assert response.status_code == 200, response
    return b"".join(response.streaming_content)  # type: ignore[attr-defined]


def content() -> dict[str, list[Any]]:
    """What the two workbooks carry, keyed by natural keys instead of ids, for comparing two ledgers."""
    numbers = dict(Household.objects.values_list("pk", "number"))
    member_fields = [
        "name",
        "id_number",
        "sex",
        "birth_date",
        "relation",
        "labour",
        "health",
        "schooling",
        "work_place",
        "work_months",
        "medical_insurance",
    ]
    latest_case: dict[int, MonitoringCase] = {}
    for case in MonitoringCase.objects.order_by("household", "-identified_month", "-pk").prefetch_related("risk_types"):
        current = latest_case.get(case.household_id)
        if current is None or (current.eliminated_month is not None and case.eliminated_month is None):
            latest_case[case.household_id] = case
    return {
        "households": sorted(
            Household.objects.values_list(
                "number", "village__code", "household_type", "lifted_year", "relocated", "phone", "status"
            )
        ),
        "members": sorted(
            (numbers[row[0]], *row[1:])
            for row in Member.objects.filter(is_active=True).values_list("household", *member_fields)
        ),
        "cases": sorted(
            (
                numbers[household],
                case.category,
                case.identified_month,
                case.eliminated_month,
                case.elimination_method,
                sorted(r.code for r in case.risk_types.all()),
            )
            for household, case in latest_case.items()
        ),
        "income": sorted(
            (numbers[row[0]], *row[1:])
            for row in IncomeRecord.objects.values_list(
                "household",
                "year",
                "quarter",
                "household_size",
                "net_income",
                "per_capita_net_income",
                "wages_migrant_work",
                "operating_planting",
                "transfer_minimum_living",
                "operating_costs",
            )
        ),
    }


def test_exported_roster_and_income_import_unchanged_twice_leaving_every_table_as_it_was(county_admin: User) -> None:
    assert MonitoringCase.objects.exclude(eliminated_month=None).exists(), "the demo has eliminated cases"
    before = checksums()
    for _ in range(2):
        for kind in ("roster", "income"):
            batch = check(county_admin, exported(county_admin, kind), kind=kind, name=f"{kind}.xlsx")
            assert batch.status == ImportStatus.UNCHANGED, (kind, batch.errors[:5], batch.changes[:5], batch.counts)
            assert not StagedRow.objects.filter(batch=batch).exists()
        assert checksums() == before


def test_exported_workbooks_rebuild_the_same_ledger_in_an_empty_database(county_admin: User) -> None:
    roster, income = exported(county_admin, "roster"), exported(county_admin, "income")
    original = content()
    history: list[Any] = [model.history.model for model in (IncomeRecord, MonitoringCase, Member, Household)]
    # The later registers' demo rows point at households and members (致富带头人, beneficiaries…): they go first.
    for label in reversed(LATER_REGISTERS):
        if label == "funds.allocation":
            apps.get_model(label).objects.exclude(parent=None).delete()
        apps.get_model(label).objects.all().delete()
    for model in [IncomeRecord, MonitoringCase.risk_types.through, MonitoringCase, Member, Household, *history]:
        model.objects.all().delete()
    for kind, data in (("roster", roster), ("income", income)):
        batch = check(county_admin, data, kind=kind, name=f"{kind}.xlsx")
        assert batch.status == ImportStatus.READY, (kind, batch.errors[:5])
        assert confirm(batch, county_admin).status == ImportStatus.APPLIED
    rebuilt = content()
    for part in original:
        assert rebuilt[part] == original[part], part
    # And the rebuilt ledger exports to the same workbooks, which import as unchanged.
    for kind in ("roster", "income"):
        batch = check(county_admin, exported(county_admin, kind), kind=kind, name=f"{kind}.xlsx")
        assert batch.status == ImportStatus.UNCHANGED, (kind, batch.changes[:5])
