"""双绑 in a real Chromium: the township admin (xiang) binds a village's cooperative to the county's
龙头企业 and adds three households to it (two found by 户编号, one by a member's 身份证号), then reads
the enterprise page; both pages on a 1366-px screen and a 390-px phone without sideways scroll."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from assessment.demo import DEMO_COUNTY
from assessment.models import IndicatorValue, RecomputeRequest
from assessment.services import recompute_due
from cooperatives.models import Binding, Entity, EntityKind, EntityLevel, Membership
from cooperatives.selectors import eligible_households
from cooperatives.services import entity_register
from figures.periods import Quarter
from households.demo_names import TOWNSHIPS
from households.demo_writer import DEMO_PASSWORD, demo_seed
from households.models import Household
from households.selectors import latest_income_quarter
from regions.models import Region, User
from tests.browser.conftest import dashboard_when_fresh
from tests.cooperatives.world import credit_code

if TYPE_CHECKING:
    from tests.browser.conftest import PageProblems

pytestmark = pytest.mark.browser

Screenshot = Callable[[str], Path]


@dataclass
class Scene:
    enterprise: Entity
    cooperative: Entity
    households: list[Household]  # three eligible households of its village, in no cooperative
    period: Quarter  # the latest quarter with income, computed


@pytest.fixture
def scene(transactional_db: None, settings: Any) -> Scene:
    demo_seed(households=160, seed=11)
    village = Region.objects.get(code=TOWNSHIPS[0].village_code(0))
    # Three eligible households of the village that are in no cooperative yet (the demo's are dropped).
    households = list(eligible_households(Household.objects.filter(village=village)).order_by("number")[:3])
    assert len(households) == 3
    Membership.objects.filter(household__in=households).delete()
    enterprise = entity_register(
        by=User.objects.get(username="xianadmin"),
        entity=Entity(
            kind=EntityKind.ENTERPRISE,
            name="大姚县核桃产业集团有限公司",
            credit_code=credit_code(),
            region=village.parent.parent,  # type: ignore[union-attr]
            level=EntityLevel.PROVINCIAL,
            founded_on=date(2012, 5, 1),
        ),
    )
    cooperative = entity_register(
        by=User.objects.get(username="xiang"),
        entity=Entity(
            kind=EntityKind.COOPERATIVE,
            name=f"{village.name}核桃种植专业合作社",
            credit_code=credit_code(),
            region=village,
            founded_on=date(2019, 3, 1),
        ),
    )
    county = Region.objects.get(code=DEMO_COUNTY)
    period = latest_income_quarter(within=county.prefix)
    assert period is not None
    # The minute the embedded default waits after a computation passes; from then on every change is
    # recomputed as soon as it is saved (a user would otherwise see 数据已过期 for up to a minute).
    RecomputeRequest.objects.update(due_at=timezone.now())
    recompute_due()
    assert IndicatorValue.objects.for_period(period).filter(region=county).exists()
    settings.RECOMPUTE_DELAY_SECONDS = 0
    return Scene(enterprise=enterprise, cooperative=cooperative, households=households, period=period)


def coverage_tile(page: Page, base_url: str, scene: Scene) -> str:
    """The 双绑覆盖率 tile's value on the dashboard of the cooperative's township."""
    township = scene.cooperative.region.parent
    assert township is not None
    dashboard_when_fresh(page, f"{base_url}/assessment/dashboard/?region={township.code}&period={scene.period}")
    tile = page.locator('[data-testid="tile"][data-indicator="binding_coverage"]')
    return tile.get_by_test_id("tile-value").inner_text()


def covered(scene: Scene) -> int:
    township = scene.cooperative.region.parent
    value = IndicatorValue.objects.for_period(scene.period).get(region=township, indicator="binding_coverage")
    return int(value.numerator)


def log_in(page: Page, base_url: str, username: str) -> None:
    page.goto(base_url + "/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_test_id("user-region")).to_be_attached()


def no_sideways_scroll(page: Page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_a_township_admin_binds_a_cooperative_and_adds_three_households(
    scene: Scene, celery_worker: None, live_server: Any, page: Page, screenshot: Screenshot, page_problems: PageProblems
) -> None:
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, live_server.url, "xiang")
    coverage_before, covered_before = coverage_tile(page, live_server.url, scene), covered(scene)
    page.get_by_test_id("nav-cooperatives").click()
    expect(page.get_by_test_id("entity-table")).to_contain_text(scene.cooperative.name)
    screenshot("cooperatives-list")
    page.get_by_role("link", name=scene.cooperative.name).click()
    expect(page.get_by_test_id("bound-status")).to_have_text("未绑定龙头企业")

    # 企业绑定合作社
    page.get_by_test_id("bind-enterprise").click()
    form = page.get_by_test_id("binding-form")
    form.get_by_label("龙头企业").select_option(str(scene.enterprise.pk))
    form.get_by_label("合同编号").fill("DY-2025-001")
    form.get_by_label("开始日期").fill("2025-01-01")
    form.get_by_label("土地流转").check()
    form.get_by_label("务工就业").check()
    form.get_by_label("年订单量").fill("核桃 300 吨")
    form.get_by_label("年订单金额").fill("1800000")
    screenshot("cooperatives-binding-form")
    page.get_by_test_id("binding-save").click()
    expect(page.get_by_test_id("bound-status")).to_have_text("已绑定龙头企业")
    expect(page.get_by_test_id("bindings-table")).to_contain_text(scene.enterprise.name)

    # 合作社绑定农户: two by 户编号, one by a member's 身份证号.
    spouse = scene.households[2].members.exclude(relation="head").first() or scene.households[2].members.get()
    for key in (scene.households[0].number, scene.households[1].number, spouse.id_number):
        adding = page.get_by_test_id("member-add-form")
        adding.get_by_label("户编号或家庭成员身份证号").fill(key)
        adding.get_by_label("入社方式").select_option(label="土地经营权入股")
        adding.get_by_label("入股金额").fill("2000")
        adding.get_by_label("入社日期").fill("2025-03-01")
        page.get_by_test_id("member-add").click()
        expect(page.get_by_test_id("message").first).to_contain_text("登记为")
    expect(page.get_by_test_id("member-row")).to_have_count(3)
    expect(page.get_by_test_id("active-members")).to_have_text("3")
    screenshot("cooperatives-cooperative")
    assert Binding.objects.get(cooperative=scene.cooperative).enterprise == scene.enterprise
    assert set(Membership.objects.filter(cooperative=scene.cooperative).values_list("household", flat=True)) == {
        household.pk for household in scene.households
    }

    # The enterprise page: the bound cooperative, its members, and the households it now reaches.
    page.get_by_test_id("bindings-table").get_by_role("link", name=scene.enterprise.name).click()
    expect(page.get_by_test_id("bound-row")).to_have_count(1)
    expect(page.get_by_test_id("covered-households")).to_have_text("3")
    expect(page.get_by_test_id("member-table")).to_contain_text(scene.households[0].number)
    screenshot("cooperatives-enterprise")
    # The township's 双绑覆盖率: each change was recomputed after it was saved (no delay in this test),
    # so the dashboard shows the three households covered, not a stale figure.
    coverage_after = coverage_tile(page, live_server.url, scene)
    screenshot("cooperatives-township-dashboard")
    assert covered(scene) == covered_before + 3
    assert coverage_after != coverage_before

    for path, name in (
        (f"/cooperatives/{scene.cooperative.pk}/", "cooperatives-cooperative-phone"),
        (f"/cooperatives/{scene.enterprise.pk}/", "cooperatives-enterprise-phone"),
        ("/cooperatives/", "cooperatives-list-phone"),
        ("/cooperatives/coverage/", "cooperatives-coverage-phone"),
    ):
        page.set_viewport_size({"width": 1366, "height": 900})
        page.goto(live_server.url + path)
        no_sideways_scroll(page, 1366)
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(live_server.url + path)
        no_sideways_scroll(page, 390)
        screenshot(name)
    assert page_problems.broken_assets == [], "static files failed to load"
    assert page_problems.console_errors == [], "JavaScript errors in the page"
