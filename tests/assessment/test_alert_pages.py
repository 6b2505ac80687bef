"""The alert inbox, an alert's page, its actions, the home page's count, scope and masking."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from assessment.alert_selectors import alert_list
from assessment.alerts import alert_confirm, alert_dismiss, alerts_raise
from assessment.models import Alert, AlertStatus
from households import views as household_views
from households.id_numbers import mask_id_number
from households.models import HouseholdType, MonitoringCase
from regions.models import Region, User
from tests.assessment.alert_fixtures import (
    PERIOD,
    below_threshold,
    exact_id,
    open_case,
    person,
    refresh,
    set_threshold,
)
from tests.conftest import Staff
from tests.factories import Tree, household, income

PHONE = "13812345678"


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def doubt(by: User, village: Region, **fields: object) -> Alert:
    """A household flagged only by 疑点：成员年龄超过100岁 (its quarter's income is recorded)."""
    target = household(by, village, members=[person(birth="19200101")], **fields)  # type: ignore[arg-type]
    income(by, target, "2026Q2", wages_migrant_work="100")
    refresh(Region.objects.get(code=village.code[:6].ljust(12, "0")))
    alerts_raise(scope=None, period=PERIOD)
    return Alert.objects.get(household=target)


@pytest.fixture
def alerts(tree: Tree, staff: Staff) -> dict[str, Alert]:
    return {
        "a1": doubt(staff.county_admin, tree.village_a1),
        "a2": doubt(staff.county_admin, tree.village_a2),
        "b1": doubt(staff.county_admin, tree.village_b1),
    }


def ids_on_page(response: object) -> set[int]:
    content = response.content.decode()  # type: ignore[attr-defined]
    return {int(pk) for pk in re.findall(r'href="/assessment/alerts/(\d+)/"', content)}


def test_the_inbox_lists_the_alerts_of_the_users_scope_only(staff: Staff, alerts: dict[str, Alert]) -> None:
    township = login(staff.township_admin).get(reverse("alert_list"))
    county = login(staff.county_viewer).get(reverse("alert_list"))

    assert township.status_code == 200
    assert ids_on_page(township) == {alerts["a1"].pk, alerts["a2"].pk}
    assert ids_on_page(county) == {alert.pk for alert in alerts.values()}
    assert "疑点：成员年龄超过100岁" in township.content.decode()
    assert "最大年龄" in township.content.decode()


def test_another_townships_alert_is_404_by_id_for_reading_and_for_every_action(
    staff: Staff, alerts: dict[str, Alert]
) -> None:
    client = login(staff.township_admin)
    foreign = alerts["b1"]

    assert client.get(reverse("alert_detail", args=[foreign.pk])).status_code == 404
    for action in ("confirm", "dismiss", "handle"):
        response = client.post(reverse("alert_action", args=[foreign.pk, action]), {"version": 1, "reason": "越权"})
        assert response.status_code == 404
    foreign.refresh_from_db()
    assert (foreign.status, foreign.version) == (AlertStatus.PENDING, 1)


def household_home(user: User) -> str:
    """The ledger's home page (工作概览), which county users reach only through the view itself."""
    request = RequestFactory().get("/")
    request.user = user
    return household_views.home(request).content.decode()


def test_the_home_page_count_equals_the_inbox_list_and_links_to_it(
    staff: Staff, alerts: dict[str, Alert], tree: Tree
) -> None:
    alert_dismiss(by=staff.county_admin, alert=alerts["a2"], reason="核实无误", expected_version=1)
    alert_confirm(by=staff.county_admin, alert=alerts["a1"], expected_version=1)
    # County users open on their dashboard (its 待处理预警 links to the inbox); the ledger home is below.
    assert login(staff.county_viewer).get(reverse("home"))["Location"] == reverse("assessment_dashboard")
    for user, expected in ((staff.township_admin, 1), (staff.county_viewer, 2), (staff.other_township_admin, 1)):
        client = login(user)
        home = household_home(user)
        count = re.search(r'data-testid="todo-alerts-count">(\d+)<', home)
        inbox = client.get(reverse("alert_list")).content.decode()
        total = re.search(r'data-testid="alert-total">(\d+)<', inbox)
        assert count is not None and total is not None
        assert int(count.group(1)) == int(total.group(1)) == expected == alert_list(user=user).count()
        assert reverse("alert_list") in home


def test_the_inbox_filters_by_rule_status_quarter_region_and_search(
    staff: Staff, alerts: dict[str, Alert], tree: Tree
) -> None:
    set_threshold(tree.county)
    below = below_threshold(staff.village_clerk, tree.village_a1)
    refresh(tree.county)
    alerts_raise(scope=tree.county, period=PERIOD)
    poor = Alert.objects.get(household=below)
    alert_dismiss(by=staff.county_admin, alert=alerts["a2"], reason="核实无误", expected_version=1)
    client = login(staff.county_admin)

    def listed(**query: str) -> set[int]:
        return ids_on_page(client.get(reverse("alert_list"), query))

    everything = {alert.pk for alert in alerts.values()} | {poor.pk}
    assert listed() == everything - {alerts["a2"].pk}
    assert listed(rule="below_threshold_unmonitored") == {poor.pk}
    assert listed(status="dismissed") == {alerts["a2"].pk}
    assert listed(status="all") == everything
    assert listed(status="all", quarter="2026Q2") == everything
    assert listed(status="all", region=str(tree.township_a.pk)) == {alerts["a1"].pk, alerts["a2"].pk, poor.pk}
    assert listed(status="all", region=str(tree.village_b1.pk)) == {alerts["b1"].pk}
    assert listed(q=alerts["b1"].household.number) == {alerts["b1"].pk}
    assert listed(q="户主") == everything - {alerts["a2"].pk}
    assert listed(q="无此人") == set()


def test_a_quarter_not_offered_or_a_region_outside_scope_is_a_filter_error_not_a_leak(
    staff: Staff, alerts: dict[str, Alert], tree: Tree
) -> None:
    client = login(staff.township_admin)
    for query in ({"region": tree.village_b1.pk}, {"quarter": "2026Q1"}, {"quarter": "garbage"}):
        response = client.get(reverse("alert_list"), query)
        assert "筛选条件有误" in response.content.decode()
        assert ids_on_page(response) == {alerts["a1"].pk, alerts["a2"].pk}  # the default list of the own scope


def test_actions_from_the_alert_page_and_a_stale_click_is_refused(staff: Staff, alerts: dict[str, Alert]) -> None:
    client = login(staff.village_clerk)
    alert = alerts["a1"]
    url = reverse("alert_action", args=[alert.pk, "confirm"])

    assert client.post(url, {"version": 1}).status_code == 302
    stale = client.post(
        reverse("alert_action", args=[alert.pk, "dismiss"]), {"version": 1, "reason": "重复"}, follow=True
    )

    assert "已被他人处理" in stale.content.decode()
    alert.refresh_from_db()
    assert (alert.status, alert.version) == (AlertStatus.CONFIRMED, 2)
    refused = client.post(
        reverse("alert_action", args=[alert.pk, "dismiss"]), {"version": 2, "reason": ""}, follow=True
    )
    assert "排除预警须填写原因" in refused.content.decode()
    detail = client.get(reverse("alert_detail", args=[alert.pk])).content.decode()
    assert "cun" in detail and "已核实" in detail  # the history row: who and what


def test_a_viewer_sees_no_action_buttons_and_cannot_post_one(staff: Staff, alerts: dict[str, Alert]) -> None:
    client = login(staff.county_viewer)
    page = client.get(reverse("alert_detail", args=[alerts["a1"].pk])).content.decode()
    inbox = client.get(reverse("alert_list")).content.decode()

    assert 'data-testid="alert-actions"' not in page
    assert 'data-testid="bulk-dismiss"' not in inbox
    response = client.post(reverse("alert_action", args=[alerts["a1"].pk, "confirm"]), {"version": 1})
    assert response.status_code == 403


def test_bulk_dismissal_from_the_inbox_needs_a_reason_and_skips_foreign_ids(
    staff: Staff, alerts: dict[str, Alert]
) -> None:
    client = login(staff.township_admin)
    ids = [alerts["a1"].pk, alerts["a2"].pk, alerts["b1"].pk]

    refused = client.post(reverse("alert_dismiss_bulk"), {"ids": ids, "reason": ""}, follow=True)
    assert "批量排除须填写原因" in refused.content.decode()
    assert not Alert.objects.filter(status=AlertStatus.DISMISSED).exists()

    done = client.post(reverse("alert_dismiss_bulk"), {"ids": ids, "reason": "已入户核实"}, follow=True)

    assert "已排除2条预警" in done.content.decode()
    assert set(Alert.objects.filter(status=AlertStatus.DISMISSED).values_list("pk", flat=True)) == {
        alerts["a1"].pk,
        alerts["a2"].pk,
    }
    assert Alert.objects.get(pk=alerts["b1"].pk).status == AlertStatus.PENDING


def test_a_confirmed_below_threshold_alert_offers_a_prefilled_monitoring_form(tree: Tree, staff: Staff) -> None:
    set_threshold(tree.county)
    below = below_threshold(staff.village_clerk, tree.village_a1)
    refresh(tree.county)
    alerts_raise(scope=tree.county, period=PERIOD)
    alert = Alert.objects.get(household=below, rule="below_threshold_unmonitored")
    client = login(staff.village_clerk)
    assert 'data-testid="start-monitoring"' not in client.get(reverse("alert_detail", args=[alert.pk])).content.decode()

    alert_confirm(by=staff.village_clerk, alert=alert, expected_version=1)
    page = client.get(reverse("alert_detail", args=[alert.pk])).content.decode()
    link = re.search(r'href="([^"]+)" data-testid="start-monitoring"', page)

    assert link is not None
    url = link.group(1).replace("&amp;", "&")
    assert url.startswith(reverse("case_register", args=[below.pk]))
    form = client.get(url).content.decode()
    assert "由预警“低于监测标准未纳入监测”（2026年第2季度）核实后纳入" in form
    assert '<option value="unstable" selected>' in form  # 脱贫户 → 脱贫不稳定户
    open_case(staff.village_clerk, below, date(2026, 11, 1))
    assert MonitoringCase.objects.filter(household=below).exists()
    assert 'data-testid="start-monitoring"' not in client.get(reverse("alert_detail", args=[alert.pk])).content.decode()


@pytest.mark.parametrize(
    ("role", "reveals"),
    [("county_viewer", False), ("city_viewer", False), ("township_admin", True), ("county_admin", True)],
)
def test_personal_data_in_the_inbox_is_masked_for_roles_without_permission(
    tree: Tree, staff: Staff, role: str, reveals: bool
) -> None:
    id_number = exact_id("19200101")
    alert = doubt(
        staff.county_admin,
        tree.village_a1,
        number=id_number,  # a 户编号 built from the head's 身份证号, as some villages do
        phone=PHONE,
        household_type=HouseholdType.LIFTED,
    )
    client = login(getattr(staff, role))
    pages = [client.get(reverse("alert_list")), client.get(reverse("alert_detail", args=[alert.pk]))]
    for response in pages:
        content = response.content.decode()
        assert response.status_code == 200
        assert (id_number in content) is reveals
        assert mask_id_number(id_number) in content or reveals
        assert PHONE not in content
        assert "1920-01-01" not in content  # an age stands in for a birth date


def test_the_inbox_runs_a_fixed_number_of_queries_whatever_the_page_holds(
    tree: Tree, staff: Staff, django_assert_max_num_queries: object
) -> None:
    for _ in range(6):
        doubt(staff.county_admin, tree.village_a1)
    client = login(staff.county_admin)
    with django_assert_max_num_queries(14):  # type: ignore[operator]
        response = client.get(reverse("alert_list"))
    assert len(ids_on_page(response)) == 6


@pytest.mark.parametrize("bad_id", ["99999999999999999999999", "-1", "0"])
def test_bulk_dismissal_refuses_an_id_no_alert_can_have_without_an_error_page(
    staff: Staff, alerts: dict[str, Alert], bad_id: str
) -> None:
    client = login(staff.township_admin)

    response = client.post(
        reverse("alert_dismiss_bulk"), {"ids": [alerts["a1"].pk, bad_id], "reason": "已入户核实"}, follow=True
    )

    assert response.status_code == 200
    assert "所选预警无效" in response.content.decode()
    assert not Alert.objects.filter(status=AlertStatus.DISMISSED).exists()
