"""The everyday pages (list, household page, home page, income form) read a fixed number of queries for
each role: the same with 10 households as with 200, and no more than pinned here."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.test import Client
from django.urls import reverse

from households.models import (
    Household,
    HouseholdType,
    Labour,
    Member,
    MonitoringCase,
    MonitoringCategory,
    Relation,
    RiskType,
)
from households.services import monitoring_case_register
from tests.conftest import Staff
from tests.factories import PASSWORD, Tree, household, id_number, income, member, threshold

# Queries per request once the reference lists are kept, by page and role. Every page: the session and
# the user with their region. The list: its COUNT, the page's ids and its rows, and for the roles that
# see full 身份证号 the audit record; the household page: the household with its members and cases
# (and their risk types and measures), income, history (4), the registered sections (7) and the audit
# record; the home page: its counts in one query and the open alerts; the income form: the household,
# the record and its open case.
PINNED = {
    ("list", "county_viewer"): 5,
    ("list", "township_admin"): 6,
    ("list", "village_clerk"): 6,
    ("detail", "county_viewer"): 19,
    ("detail", "township_admin"): 20,
    ("detail", "village_clerk"): 20,
    ("home", "township_admin"): 4,
    ("home", "village_clerk"): 4,
    ("income form", "township_admin"): 5,
    ("income form", "village_clerk"): 5,
}


def _fill(staff: Staff, tree: Tree, count: int, start: int) -> None:
    """`count` households of two members in the clerk's village through the services, one in three
    with income and an open case."""
    for index in range(start, start + count):
        made = household(
            staff.village_clerk,
            tree.village_a1,
            members=[member(name=f"户主{index}"), member("spouse", name=f"配偶{index}", birth="19820202")],
        )
        if index % 3 == 0:
            income(staff.village_clerk, made, "2025Q4", wages_other="1200")
            _open_case(staff, made)


def _bulk_fill(tree: Tree, count: int, start: int) -> None:
    """`count` more households of two members in the clerk's village as rows (the services would take
    minutes for 190 on a busy machine); one in three with an open case."""
    made = Household.objects.bulk_create(
        Household(
            number=f"{tree.village_a1.code}{90000 + index}",
            village=tree.village_a1,
            household_type=HouseholdType.LIFTED,
            lifted_year=2019,
        )
        for index in range(start, start + count)
    )
    members = []
    for index, row in enumerate(made, start=start):
        for relation, name, birth, sex in (
            (Relation.HEAD, "户主", "19800101", "M"),
            (Relation.SPOUSE, "配偶", "19820202", "F"),
        ):
            members.append(
                Member(
                    household=row,
                    name=f"{name}{index}",
                    id_number=id_number(birth, sex=sex),
                    sex=sex,
                    birth_date=date(int(birth[:4]), int(birth[4:6]), int(birth[6:])),
                    relation=relation,
                    labour=Labour.ORDINARY,
                )
            )
    Member.objects.bulk_create(members)
    cases = MonitoringCase.objects.bulk_create(
        MonitoringCase(household=row, category=MonitoringCategory.UNSTABLE, identified_month=date(2025, 1, 1))
        for index, row in enumerate(made, start=start)
        if index % 3 == 0
    )
    illness = RiskType.objects.get(code="illness")
    MonitoringCase.risk_types.through.objects.bulk_create(
        MonitoringCase.risk_types.through(monitoringcase=case, risktype=illness) for case in cases
    )


def _open_case(staff: Staff, target: Household) -> None:
    monitoring_case_register(
        by=staff.township_admin,
        household=target,
        category=MonitoringCategory.UNSTABLE,
        identified_month=date(2025, 1, 1),
        risk_types=RiskType.objects.filter(code="illness"),
    )


def test_the_everyday_pages_read_the_same_pinned_number_of_queries_for_10_and_200_households(
    staff: Staff, tree: Tree, django_assert_num_queries: Any
) -> None:
    threshold(tree.province, 2025, "8700")
    target = household(
        staff.village_clerk,
        tree.village_a1,
        members=[member(), member("spouse", name="李四", birth="19820202"), member("son", name="子", birth="20050505")],
    )
    for year in (2024, 2025):
        for quarter in range(1, 5):
            income(staff.village_clerk, target, f"{year}Q{quarter}", wages_other=str(1000 * quarter))
    monitoring_case_register(
        by=staff.township_admin,
        household=target,
        category=MonitoringCategory.UNSTABLE,
        identified_month=date(2025, 3, 1),
        risk_types=RiskType.objects.filter(code__in=["illness", "disability"]),
    )
    urls = {
        "list": reverse("household_list"),
        "detail": reverse("household_detail", args=[target.pk]),
        "home": reverse("home"),
        "income form": reverse("income_edit", args=[target.pk, "2025Q4"]),
    }
    clients: dict[str, Client] = {}
    for role in {role for _, role in PINNED}:
        client = Client()
        assert client.login(username=getattr(staff, role).username, password=PASSWORD)
        clients[role] = client

    def check(households: int) -> None:
        assert Household.objects.count() == households
        for (page, role), queries in PINNED.items():
            with django_assert_num_queries(queries, info=f"{page} as {role} with {households} households"):
                response = clients[role].get(urls[page])
            assert response.status_code == 200, (page, role)

    _fill(staff, tree, 9, start=0)
    for page, role in PINNED:  # the reference lists (villages, thresholds, permissions…) are kept from now on
        clients[role].get(urls[page])
    check(10)
    _bulk_fill(tree, 190, start=9)
    check(200)
