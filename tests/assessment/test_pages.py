"""The assessment pages on a small demo county: scope, drill-down counts, masking, the target editor, recompute."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from assessment.demo import DEMO_COUNTY, demo_targets_ensure
from assessment.models import ComputeRun, IndicatorValue, RunStatus, ScoringRule, Status, Target
from assessment.services import compute_run_now
from figures import registry
from figures.periods import Quarter
from households.demo_writer import DEMO_PASSWORD, demo_seed
from households.indicators.base import CountIndicator
from households.population import VillagePopulation
from regions.models import Level, Region, Role, User
from regions.services import user_create
from tests.conftest import Staff
from tests.factories import PASSWORD, Tree

PERIOD = Quarter(2026, 3)
TOWNSHIP_A = "532326100000"  # 金碧镇, the demo township admin's
TOWNSHIP_B = "532326101000"  # 石羊镇


@pytest.fixture
def demo(db: Any) -> Region:
    """A demo-like county: 160 generated households, populations, the seeds' targets, Q3 2026 computed."""
    demo_seed(households=160, seed=11)
    county = Region.objects.get(code=DEMO_COUNTY)
    demo_targets_ensure(county=county)
    compute_run_now(scope=county, period=PERIOD, reason="test")
    return county


def client_for(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=DEMO_PASSWORD)
    return client


@pytest.fixture
def other_township_admin(demo: Region) -> User:
    return user_create(
        username="xiang2",
        password=DEMO_PASSWORD,
        role=Role.TOWNSHIP_ADMIN,
        region=Region.objects.get(code=TOWNSHIP_B),
    )


def shown_count(html: str) -> int:
    found = re.search(r'data-testid="record-count">[^<]*共 <strong>(\d+)</strong>', html)
    assert found, "the drill-down page states its count"
    return int(found.group(1))


def test_the_indicator_list_shows_every_registered_indicator_with_status_in_words(demo: Region) -> None:
    response = client_for("xianadmin").get(reverse("assessment_indicators"))
    assert response.status_code == 200
    html = response.content.decode()
    for indicator in registry.indicators():
        assert indicator.name in html
    assert "未达标" in html and "达标" in html
    assert "重新计算" in html


def test_drill_down_counts_equal_the_stored_figures_for_every_indicator(demo: Region) -> None:
    client = client_for("xianadmin")
    regions = [demo, Region.objects.get(code=TOWNSHIP_A)]
    checked = 0
    for region in regions:
        for indicator in registry.indicators():
            value = IndicatorValue.objects.for_period(PERIOD).get(region=region, indicator=indicator.code)
            query = {"region": region.code, "period": str(PERIOD)}
            numerator = client.get(reverse("assessment_numerator", args=[indicator.code]), query)
            assert numerator.status_code == 200
            count = shown_count(numerator.content.decode())
            if isinstance(indicator, CountIndicator):
                assert count == value.numerator, indicator.code
                denominator = client.get(reverse("assessment_denominator", args=[indicator.code]), query)
                assert shown_count(denominator.content.decode()) == value.denominator, indicator.code
            else:
                assert count == value.records, indicator.code
            checked += 1
    assert checked == 2 * len(registry.indicators())


def test_the_population_share_lists_the_villages_it_divides_by(demo: Region) -> None:
    value = IndicatorValue.objects.for_period(PERIOD).get(region=demo, indicator="monitored_population_share")
    response = client_for("xianadmin").get(
        reverse("assessment_denominator", args=["monitored_population_share"]), {"period": str(PERIOD)}
    )
    villages = VillagePopulation.objects.filter(year=PERIOD.year, village__code__startswith=demo.prefix)
    assert shown_count(response.content.decode()) == villages.count()
    assert sum(village.population for village in villages) == value.denominator


def test_some_demo_villages_exceed_three_percent_and_some_targets_are_missed(demo: Region) -> None:
    shares = IndicatorValue.objects.for_period(PERIOD).filter(
        indicator="monitored_population_share", region__level=Level.VILLAGE
    )
    assert shares.filter(value__gt=Decimal("0.03")).exists()
    assert shares.filter(value__lte=Decimal("0.03")).exists()
    statuses = set(IndicatorValue.objects.for_period(PERIOD).values_list("status", flat=True))
    assert {Status.MET, Status.MISSED} <= statuses


def test_a_township_user_gets_404_for_another_townships_region(demo: Region, other_township_admin: User) -> None:
    client = client_for("xiang")
    other = {"region": TOWNSHIP_B, "period": str(PERIOD)}
    assert client.get(reverse("assessment_indicators"), other).status_code == 404
    assert client.get(reverse("assessment_indicator", args=["entry_progress"]), other).status_code == 404
    assert client.get(reverse("assessment_numerator", args=["entry_progress"]), other).status_code == 404
    assert client.get(reverse("assessment_denominator", args=["entry_progress"]), other).status_code == 404
    assert client.get(reverse("assessment_scores"), other).status_code == 404


def test_a_township_user_cannot_look_above_their_township(demo: Region) -> None:
    client = client_for("xiang")
    assert client.get(reverse("assessment_indicators"), {"region": DEMO_COUNTY}).status_code == 404
    own = client.get(reverse("assessment_indicators"))
    assert own.status_code == 200
    assert "金碧镇" in own.content.decode()


def test_drill_down_masks_id_numbers_for_a_county_viewer(demo: Region) -> None:
    query = {"region": DEMO_COUNTY, "period": str(PERIOD)}
    url = reverse("assessment_denominator", args=["entry_progress"])
    masked = client_for("xian").get(url, query).content.decode()
    full = client_for("xianadmin").get(url, query).content.decode()
    assert re.search(r"\d{6}\*{8}[\dX]{4}", masked)
    assert not re.search(r"\b\d{17}[\dX]\b", masked)
    assert re.search(r"\b\d{17}[\dX]\b", full)


def test_read_only_roles_cannot_edit_targets(demo: Region) -> None:
    target = Target.objects.filter(region=demo, year=PERIOD.year).first()
    assert target is not None
    for username in ("xian", "xiang", "cun"):
        client = client_for(username)
        page = client.get(reverse("assessment_targets"))
        assert page.status_code == 200
        # No edit link (the menu's 修改密码 is every user's own).
        assert reverse("assessment_policy_edit", args=["target", target.pk]) not in page.content.decode()
        assert client.get(reverse("assessment_policy_new", args=["target"])).status_code == 403
        edit = client.post(reverse("assessment_policy_edit", args=["target", target.pk]), {"value": "1"})
        assert edit.status_code == 403
        assert client.post(reverse("assessment_policy_delete", args=["target", target.pk])).status_code == 403
    assert Target.objects.filter(pk=target.pk).exists()


def test_a_county_admin_changes_a_target_and_the_history_records_who(demo: Region) -> None:
    target = Target.objects.get(region=demo, year=PERIOD.year, indicator="entry_progress")
    client = client_for("xianadmin")
    response = client.post(
        reverse("assessment_policy_edit", args=["target", target.pk]),
        {
            "indicator": "entry_progress",
            "region": demo.pk,
            "year": PERIOD.year,
            "quarter": "",
            "comparator": "gte",
            "value": "0.95",
            "source_document": "实践",
            "clause": "季度关账前录入95%",
        },
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.value == Decimal("0.95")
    latest = target.history.first()
    assert latest.history_user.username == "xianadmin"
    assert latest.history_type == "~"
    page = client.get(reverse("assessment_targets"), {"year": PERIOD.year}).content.decode()
    assert "季度关账前录入95%" in page
    assert reverse("assessment_policy_edit", args=["target", target.pk]) in page


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"floor": "20"}, "保底分不能高于满分"),
        ({"deduction_per_point": "-1"}, "每差1点扣分不能小于 0"),
        ({"weight": "-1"}, "权重不能小于 0"),
        ({"full_score": "-10"}, "满分不能小于 0"),
        ({"floor": "-5"}, "保底分不能小于 0"),
        ({"point": "0"}, "1点的大小须大于0"),
    ],
)
def test_a_scoring_rule_that_would_score_a_miss_above_full_marks_or_below_zero_is_refused(
    demo: Region, change: dict[str, str], message: str
) -> None:
    """A floor above full marks, or a negative deduction, would score a missed target higher than a met one."""
    township = Region.objects.get(code=TOWNSHIP_A)
    rule = {
        "indicator": "entry_progress",
        "region": township.pk,
        "year": 2026,
        "weight": "1",
        "full_score": "10",
        "deduction_per_point": "1",
        "point": "0.01",
        "floor": "0",
    }
    response = client_for("xianadmin").post(reverse("assessment_policy_new", args=["rule"]), {**rule, **change})

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ScoringRule.objects.filter(region=township).exists()


def test_a_county_admin_cannot_set_a_target_above_their_county(demo: Region) -> None:
    province = Region.objects.get(level=Level.PROVINCE)
    response = client_for("xianadmin").post(
        reverse("assessment_policy_new", args=["target"]),
        {"indicator": "entry_progress", "region": province.pk, "year": 2026, "comparator": "zero"},
    )
    assert response.status_code == 200
    assert not Target.objects.filter(region=province).exists()


def test_an_invalid_target_shows_the_models_message(demo: Region) -> None:
    township = Region.objects.get(code=TOWNSHIP_A)
    response = client_for("xianadmin").post(
        reverse("assessment_policy_new", args=["target"]),
        {"indicator": "entry_progress", "region": township.pk, "year": 2026, "comparator": "gte", "value": ""},
    )
    assert response.status_code == 200
    assert "需要填写目标值" in response.content.decode()
    assert not Target.objects.filter(region=township).exists()


def test_deleting_a_target_keeps_it_in_the_history(demo: Region) -> None:
    target = Target.objects.get(region=demo, year=PERIOD.year, indicator="zero_employment_with_labour")
    response = client_for("xianadmin").post(reverse("assessment_policy_delete", args=["target", target.pk]))
    assert response.status_code == 302
    assert not Target.objects.filter(pk=target.pk).exists()
    deleted = Target.history.filter(id=target.pk, history_type="-").get()
    assert deleted.history_user.username == "xianadmin"


def test_recompute_runs_and_the_run_page_reports_done(demo: Region, django_capture_on_commit_callbacks: Any) -> None:
    client = client_for("xianadmin")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("assessment_compute"), {"region": DEMO_COUNTY, "period": str(PERIOD)})
    assert response.status_code == 302
    run = ComputeRun.objects.filter(requested_by__username="xianadmin").get()
    if run.status == RunStatus.QUEUED:
        # With workers (REDIS_URL set) the run waits for one: do what the worker does.
        from assessment.services import compute_run_execute

        waiting = client.get(reverse("assessment_run_progress", args=[run.pk])).content.decode()
        assert "hx-trigger" in waiting  # the page keeps polling while it waits
        run = compute_run_execute(run_id=run.pk)
    assert run.status == RunStatus.DONE
    progress = client.get(reverse("assessment_run_progress", args=[run.pk])).content.decode()
    assert 'data-testid="run-done"' in progress
    assert "hx-trigger" not in progress


def test_only_county_admins_may_recompute(demo: Region) -> None:
    for username in ("xian", "xiang"):
        response = client_for(username).post(
            reverse("assessment_compute"), {"region": TOWNSHIP_A, "period": str(PERIOD)}
        )
        assert response.status_code == 403
    assert not ComputeRun.objects.filter(requested_by__isnull=False).exists()


def test_a_quarter_that_has_not_begun_cannot_be_computed_and_become_everyones_default(demo: Region) -> None:
    from django.utils import timezone

    future = Quarter.containing(timezone.localdate()).next()
    client = client_for("xianadmin")

    response = client.post(reverse("assessment_compute"), {"region": DEMO_COUNTY, "period": str(future)})

    assert response.status_code == 404
    assert not ComputeRun.objects.filter(requested_by__isnull=False).exists()
    assert not IndicatorValue.objects.filter(year=future.year, quarter=future.number).exists()
    assert f"{PERIOD.label}" in client_for("xian").get(reverse("assessment_indicators")).content.decode()


def test_a_value_computed_before_a_data_change_is_marked_stale(demo: Region) -> None:
    from regions.models import DataVersion

    DataVersion.objects.filter(county=demo).update(version=10**6)
    html = client_for("xianadmin").get(reverse("assessment_indicators"), {"period": str(PERIOD)}).content.decode()
    assert "数据已过期" in html


def test_the_scoring_table_ranks_townships_and_marks_the_lagging(demo: Region) -> None:
    html = client_for("xian").get(reverse("assessment_scores"), {"period": str(PERIOD)}).content.decode()
    assert html.count('data-testid="rank"') == Region.objects.filter(parent=demo).count()
    assert "通报" in html
    by_score = client_for("xian").get(reverse("assessment_scores"), {"period": str(PERIOD), "sort": "-score"})
    assert by_score.status_code == 200


def test_seed_targets_is_idempotent_and_computes_values(demo: Region) -> None:
    before = Target.objects.count()
    call_command("seed_targets", quarters=1)
    assert Target.objects.count() == before
    assert IndicatorValue.objects.for_period(PERIOD).filter(region=demo).exists()


def test_the_badge_of_an_uncomputed_value_renders_without_a_deprecated_call() -> None:
    import warnings

    from assessment.templatetags.assessment_tags import status_badge

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # format_html() without arguments is removed in Django 6
        assert "未计算" in status_badge(None)


def test_a_townships_drill_down_uses_the_parameters_its_figure_was_computed_with(demo: Region) -> None:
    """The engine reads parameters once per county; a row set on a township must not change its list."""
    from assessment.models import ParameterValue

    township = Region.objects.get(code=TOWNSHIP_A)
    ParameterValue.objects.create(region=township, year=PERIOD.year, key="key_household_line", value=Decimal("99999"))
    compute_run_now(scope=demo, period=PERIOD, reason="test")
    value = IndicatorValue.objects.for_period(PERIOD).get(region=township, indicator="below_key_line")
    client = client_for("xianadmin")
    query = {"region": township.code, "period": str(PERIOD)}

    listed = client.get(reverse("assessment_numerator", args=["below_key_line"]), query).content.decode()
    page = client.get(reverse("assessment_indicator", args=["below_key_line"]), query).content.decode()

    assert shown_count(listed) == value.numerator
    assert "99,999" not in page


def test_parameters_are_set_on_the_county_or_above_only(demo: Region) -> None:
    from assessment.models import ParameterValue

    township = Region.objects.get(code=TOWNSHIP_A)
    response = client_for("xianadmin").post(
        reverse("assessment_policy_new", args=["parameter"]),
        {"key": "key_household_line", "region": township.pk, "year": PERIOD.year, "value": "12000"},
    )

    assert response.status_code == 200
    assert not ParameterValue.objects.filter(region=township).exists()


@pytest.mark.parametrize("year", ["%C2%B2", "abc", ""])
def test_the_target_page_reads_a_malformed_year_as_no_year(staff: Staff, year: str) -> None:
    client = Client()
    assert client.login(username=staff.county_viewer.username, password=PASSWORD)
    # "²" passes str.isdigit() but not int(): it must not reach int().
    assert client.get(f"{reverse('assessment_targets')}?year={year}").status_code == 200


@pytest.mark.parametrize("side", ["assessment_numerator", "assessment_denominator", "assessment_complement"])
def test_the_long_open_cases_list_of_the_first_quarter_a_date_can_hold_is_a_page_not_an_error(
    staff: Staff, side: str
) -> None:
    client = Client()
    assert client.login(username=staff.county_viewer.username, password=PASSWORD)
    # Twelve months before 0001Q1 ends lie in year 0, which no date holds: nothing is due then.
    url = reverse(side, args=["monitoring_open_twelve_months"])
    response = client.get(url, {"period": "0001Q1"})
    assert response.status_code == 200
    assert shown_count(response.content.decode()) == 0


def test_a_target_value_in_scientific_notation_is_refused_with_a_message(tree: Tree) -> None:
    from assessment.forms import TargetForm

    form = TargetForm(
        {"value": "1e5", "year": "2025", "comparator": "gte", "region": tree.county.pk},
        regions=Region.objects.filter(pk=tree.county.pk),
    )
    assert not form.is_valid()
    assert "科学计数法" in form.errors["value"][0]
