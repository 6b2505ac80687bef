"""A county administrator keeps the county's 监测标准: scoped, audited, and the figures go stale."""

from __future__ import annotations

from decimal import Decimal

from django.test import Client
from django.urls import reverse

from households.models import MonitoringThreshold
from households.thresholds import threshold_digest
from regions.models import AuditEvent, AuditKind, DataVersion, Level, Region, Role, User
from tests.conftest import Staff
from tests.factories import PASSWORD, Tree, threshold


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def other_county(tree: Tree) -> Region:
    return Region.objects.create(code="532301000000", name="楚雄市", level=Level.COUNTY, parent=tree.prefecture)


def version_of(county: Region) -> int:
    return DataVersion.objects.filter(county=county).values_list("version", flat=True).first() or 0


def test_a_county_admin_adds_a_threshold_for_the_county_and_the_figures_go_stale(staff: Staff, tree: Tree) -> None:
    before = version_of(tree.county)
    form = {"region": tree.county.pk, "year": 2026, "amount": "7500", "source": "县乡村振兴局通知"}
    response = client_for(staff.county_admin).post(reverse("threshold_create"), form)
    assert response.status_code == 302
    saved = MonitoringThreshold.objects.get(region=tree.county, year=2026)
    assert saved.amount == Decimal("7500.00")
    assert version_of(tree.county) == before + 1
    event = AuditEvent.objects.get(kind=AuditKind.THRESHOLD_CHANGED)
    assert event.user == staff.county_admin and "大姚县 2026年 7500.00元/人·年" in event.detail


def test_an_edit_is_audited_with_the_old_and_new_amount(staff: Staff, tree: Tree) -> None:
    own = threshold(tree.county, 2026, "7000")
    form = {"region": tree.county.pk, "year": 2026, "amount": "7600", "source": "测试", "shown": threshold_digest(own)}
    assert client_for(staff.county_admin).post(reverse("threshold_edit", args=[own.pk]), form).status_code == 302
    own.refresh_from_db()
    assert own.amount == Decimal("7600.00")
    detail = AuditEvent.objects.get(kind=AuditKind.THRESHOLD_CHANGED).detail
    assert "7000.00元/人·年（测试） → 大姚县 2026年 7600.00元/人·年" in detail


def test_of_two_edits_from_the_same_page_the_second_is_refused_instead_of_overwriting_the_first(
    staff: Staff, tree: Tree
) -> None:
    own = threshold(tree.county, 2026, "7000")
    first, second = client_for(staff.county_admin), client_for(staff.county_admin)
    url = reverse("threshold_edit", args=[own.pk])
    # Both tabs open the form before either saves: each carries the threshold as it showed it.
    shown = threshold_digest(own)
    assert all(f'name="shown" value="{shown}"' in client.get(url).content.decode() for client in (first, second))
    raised = {"region": tree.county.pk, "year": 2026, "amount": "7600", "source": "县政府调高", "shown": shown}
    assert first.post(url, raised).status_code == 302
    renamed = {**raised, "amount": "7000", "source": "只改了文件名称"}
    response = second.post(url, renamed)
    assert response.status_code == 200
    assert "该记录已被他人修改，您的修改未保存" in response.content.decode()
    own.refresh_from_db()
    assert (own.amount, own.source) == (Decimal("7600.00"), "县政府调高")
    assert AuditEvent.objects.filter(kind=AuditKind.THRESHOLD_CHANGED).count() == 1


def test_the_provinces_threshold_is_shown_but_not_editable_and_another_countys_is_404(staff: Staff, tree: Tree) -> None:
    provincial = threshold(tree.province, 2026, "7000")
    elsewhere = threshold(other_county(tree), 2026, "8000")
    client = client_for(staff.county_admin)
    page = client.get(reverse("threshold_list")).content.decode()
    assert "云南省" in page and "上级设置" in page and "楚雄市" not in page
    for target in [provincial, elsewhere]:
        assert client.get(reverse("threshold_edit", args=[target.pk])).status_code == 404
        form = {"region": tree.county.pk, "year": 2030, "amount": "1", "source": "x"}
        assert client.post(reverse("threshold_edit", args=[target.pk]), form).status_code == 404
        target.refresh_from_db()
        assert target.year == 2026


def test_a_threshold_cannot_be_placed_outside_the_county(staff: Staff, tree: Tree) -> None:
    form = {"region": other_county(tree).pk, "year": 2026, "amount": "7500", "source": "x"}
    response = client_for(staff.county_admin).post(reverse("threshold_create"), form)
    assert response.status_code == 200 and "不在可选范围内，请重新选择" in response.content.decode()
    assert not MonitoringThreshold.objects.exists()


def test_a_second_threshold_for_the_same_region_and_year_is_refused_in_words(staff: Staff, tree: Tree) -> None:
    threshold(tree.county, 2026, "7000")
    form = {"region": tree.county.pk, "year": 2026, "amount": "7500", "source": "x"}
    response = client_for(staff.county_admin).post(reverse("threshold_create"), form)
    assert "大姚县2026年的监测标准已存在" in response.content.decode()


def test_only_county_administrators_keep_thresholds(staff: Staff, tree: Tree) -> None:
    for user in [staff.township_admin, staff.village_clerk, staff.county_viewer]:
        assert client_for(user).get(reverse("threshold_list")).status_code == 404
        form = {"region": user.region.pk if user.region else "", "year": 2026, "amount": "7500", "source": "x"}
        assert client_for(user).post(reverse("threshold_create"), form).status_code == 404
    assert not MonitoringThreshold.objects.exists()
    system = User.objects.create_user("sys", password=PASSWORD, role=Role.SYSTEM_ADMIN, region=tree.province)
    assert client_for(system).get(reverse("threshold_list")).status_code == 200
