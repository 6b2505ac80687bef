"""The audit page: logins, failed logins, exports, imports and personal-data views, by user and date, in scope."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from households.excel.models import ExportRecord
from regions.models import AuditEvent, AuditKind, Role, User
from tests.conftest import Staff
from tests.factories import PASSWORD, Tree, household
from workbooks.models import ImportBatch


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def audit_rows(client: Client, **params: str) -> list[str]:
    page = client.get(reverse("audit_list"), params).content.decode()
    return [row for row in page.split('data-testid="audit-row"')[1:]]


def login(username: str, password: str, address: str = "10.0.0.7") -> int:
    return (
        Client().post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address).status_code
    )


def test_logins_and_failed_logins_are_listed_with_their_address(staff: Staff) -> None:
    assert login("cun", PASSWORD) == 302
    assert login("cun", "wrong") == 200
    rows = audit_rows(client_for(staff.county_admin), tab="access", username="cun")
    assert len(rows) == 2
    assert "登录失败" in rows[0] and "10.0.0.7" in rows[0]
    assert "登录" in rows[1] and "登录失败" not in rows[1]


def test_the_user_filter_and_the_date_filter_narrow_the_list(staff: Staff) -> None:
    login("cun", PASSWORD)
    login("cun2", PASSWORD)
    old = AuditEvent.objects.filter(username="cun2").get()
    AuditEvent.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=10))
    client = client_for(staff.county_admin)
    assert len(audit_rows(client, tab="access", username="cun2")) == 1
    today = timezone.localdate().isoformat()
    recent = audit_rows(client, tab="access", since=today)
    assert not any(">cun2<" in row for row in recent) and any(">cun<" in row for row in recent)
    earlier = (timezone.localdate() - timedelta(days=10)).isoformat()
    assert len(audit_rows(client, tab="access", since=earlier, until=earlier)) == 1


def test_a_township_admin_sees_only_their_townships_accounts(staff: Staff) -> None:
    login("cun", "wrong")
    login("xiang2", "wrong")
    login("nobody", "wrong")
    client = client_for(staff.township_admin)
    rows = audit_rows(client, tab="access")
    assert any(">cun<" in row for row in rows)
    assert not any(">xiang2<" in row or ">nobody<" in row for row in rows)
    # Asking for another township's account by name shows nothing of theirs.
    assert not any(">xiang2<" in row for row in audit_rows(client, tab="access", username="xiang2"))


def test_exports_are_listed_with_whether_personal_data_left_unmasked(staff: Staff) -> None:
    household(staff.village_clerk, staff.village_clerk.region)  # type: ignore[arg-type]
    assert client_for(staff.village_clerk).get(reverse("export_download", args=["roster"])).status_code == 200
    assert ExportRecord.objects.filter(exported_by=staff.village_clerk).count() == 1
    rows = audit_rows(client_for(staff.county_admin), tab="exports")
    assert len(rows) == 1 and ">cun<" in rows[0] and "花名册" in rows[0] and "含完整个人信息" in rows[0]
    assert audit_rows(client_for(staff.other_township_admin), tab="exports") == []


def test_imports_are_listed_for_the_uploaders_area(staff: Staff, tree: Tree) -> None:
    for uploader in [staff.village_clerk, staff.other_township_admin]:
        ImportBatch.objects.create(
            kind="roster",
            uploaded_by=uploader,
            region=uploader.region,
            file="imports/x.xlsx",
            file_name=f"{uploader.username}花名册.xlsx",
            file_sha256="0" * 64,
            row_count=12,
        )
    rows = audit_rows(client_for(staff.township_admin), tab="imports")
    assert len(rows) == 1 and "cun花名册.xlsx" in rows[0] and "花名册" in rows[0] and "排队中" in rows[0]
    assert len(audit_rows(client_for(staff.county_admin), tab="imports")) == 2


def test_opening_a_household_with_full_id_numbers_is_recorded(staff: Staff, tree: Tree) -> None:
    target = household(staff.village_clerk, tree.village_a1)
    client_for(staff.village_clerk).get(reverse("household_detail", args=[target.pk]))
    # A county viewer sees the numbers masked: nothing to record.
    client_for(staff.county_viewer).get(reverse("household_detail", args=[target.pk]))
    events = AuditEvent.objects.filter(kind=AuditKind.PERSONAL_DATA_VIEWED)
    assert [event.username for event in events] == ["cun"]
    rows = audit_rows(client_for(staff.county_admin), tab="personal")
    assert len(rows) == 1 and target.number in rows[0]


def test_the_household_list_and_a_card_with_full_id_numbers_are_recorded(staff: Staff, tree: Tree) -> None:
    target = household(staff.village_clerk, tree.village_a1)
    client_for(staff.village_clerk).get(reverse("household_list"))
    client_for(staff.village_clerk).get(reverse("household_card", args=[target.pk]))
    client_for(staff.county_viewer).get(reverse("household_list"))
    subjects = list(AuditEvent.objects.filter(kind=AuditKind.PERSONAL_DATA_VIEWED).values_list("username", "subject"))
    assert sorted(subjects) == [("cun", "农户台账 第1页（1户）"), ("cun", f"明白卡 {target.number}")]


def test_account_changes_are_listed_for_the_county(staff: Staff) -> None:
    client_for(staff.township_admin).post(reverse("account_password_reset", args=[staff.village_clerk.pk]))
    rows = audit_rows(client_for(staff.county_admin), tab="accounts")
    assert len(rows) == 1 and "重置密码" in rows[0] and ">xiang<" in rows[0]


def test_the_list_is_paginated(staff: Staff) -> None:
    clerk = staff.village_clerk
    AuditEvent.objects.bulk_create(
        [AuditEvent(kind=AuditKind.LOGIN, user=clerk, username="cun", region=clerk.region) for _ in range(60)]
    )
    client = client_for(staff.county_admin)
    assert len(audit_rows(client, tab="access", username="cun")) == 50
    assert len(audit_rows(client, tab="access", username="cun", page="2")) == 10


def test_the_audit_and_account_lists_read_in_the_same_number_of_queries_for_few_and_many_rows(
    staff: Staff, tree: Tree, django_assert_num_queries: Any
) -> None:
    client = client_for(staff.county_admin)

    def add(count: int) -> None:
        for index in range(count):
            username = f"c{User.objects.count()}-{index}"
            clerk = User.objects.create_user(username, role=Role.VILLAGE_CLERK, region=tree.village_a2)
            AuditEvent.objects.create(kind=AuditKind.LOGIN, user=clerk, username=username, region=tree.village_a2)

    add(2)
    for url, params in [(reverse("audit_list"), {"tab": "access"}), (reverse("account_list"), {})]:
        client.get(url, params)  # the reference lists (permissions…) are kept from now on
        with CaptureQueriesContext(connection) as few:
            client.get(url, params)
        add(20)
        with django_assert_num_queries(len(few.captured_queries)):
            client.get(url, params)


def test_a_reversed_date_range_says_so_instead_of_an_empty_list(staff: Staff) -> None:
    page = client_for(staff.county_admin).get(reverse("audit_list"), {"since": "2026-12-01", "until": "2026-01-01"})
    assert "截止日期（2026-01-01）早于起始日期（2026-12-01）" in page.content.decode()


@pytest.mark.parametrize("tab", ["access", "exports", "imports"])
@pytest.mark.parametrize(
    "params", [{"since": "0001-01-01"}, {"until": "9999-12-31"}, {"since": "0001-01-01", "until": "9999-12-31"}]
)
def test_the_first_and_last_days_of_the_calendar_list_everything(
    staff: Staff, tab: str, params: dict[str, str]
) -> None:
    # A hand-edited range to the ends of the calendar was a 500 (OverflowError: date value out of range).
    AuditEvent.objects.create(kind=AuditKind.LOGIN, user=staff.village_clerk, subject="cun")
    page = client_for(staff.county_admin).get(reverse("audit_list"), {"tab": tab, **params})
    assert page.status_code == 200
    assert "筛选条件有误" not in page.content.decode()
    if tab == "access":
        assert audit_rows(client_for(staff.county_admin), tab=tab, **params)
