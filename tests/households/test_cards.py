"""明白卡: the figures a family is handed, masking by role, scope, a village's cards in a fixed number
of queries, and the record of who printed which village's cards."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from households import cards
from households.cards import CardSection
from households.excel.models import ExportKind, ExportRecord
from households.id_numbers import mask_id_number, mask_phone
from households.models import AssistanceMeasure, Household, Labour, MonitoringCase, Relation, RiskType
from households.quarter import Quarter
from households.services import household_cancel, monitoring_case_register
from regions.models import User
from tests.conftest import Staff
from tests.factories import PASSWORD, Tree, household, income, member, threshold

MASKED_ROLES = ["county_viewer", "city_viewer"]
REVEALING_ROLES = ["village_clerk", "township_admin", "county_admin", "superuser"]
HELPER_PHONE = "13987654321"
Q3 = Quarter(2026, 3)


def client_for(user: User) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def card_url(target: Household, period: str = "2026Q3") -> str:
    return f"{reverse('household_card', args=[target.pk])}?period={period}"


def village_url(village_id: int, period: str = "2026Q3") -> str:
    return f"{reverse('village_cards')}?village={village_id}&period={period}"


@pytest.fixture
def family(staff: Staff, tree: Tree) -> Household:
    """Three members, four quarters 2025Q4–2026Q3 whose per-capita figures differ by a fen when rounded each."""
    target = household(
        staff.village_clerk,
        tree.village_a1,
        number="532326100201-M001",
        members=[
            member(name="王大山", birth="19700315"),
            member(Relation.SPOUSE, name="李秀英", birth="19720808", labour=Labour.WEAK),
            member(Relation.SON, name="王小川", birth="19990101", health="chronic"),
        ],
        helper_name="赵干部",
        helper_unit="大姚县农业农村局",
        helper_phone=HELPER_PHONE,
    )
    for quarter in ("2025Q4", "2026Q1", "2026Q2"):
        income(staff.village_clerk, target, quarter, wages_other="1000.01")
    income(
        staff.village_clerk,
        target,
        "2026Q3",
        wages_migrant_work="3000",
        wages_public_welfare_job="500.50",
        operating_planting="2000",
        operating_breeding="1000",
        property_dividends="300",
        property_land_transfer="200",
        transfer_minimum_living="450.25",
        transfer_pension="100",
        operating_costs="800.01",
    )
    return target


def test_card_figures_equal_a_hand_calculation(staff: Staff, tree: Tree, family: Household) -> None:
    threshold(tree.province, 2026, "3000")
    threshold(tree.province, 2025, "9999")  # the year the quarter ends in decides, never an earlier one
    card = cards.household_card(user=staff.village_clerk, pk=family.pk, period=Q3)

    assert card.totals is not None and card.record is not None
    assert card.totals.wages == Decimal("3500.50")  # 3000 + 500.50
    assert card.totals.operating == Decimal("3000.00")  # 2000 + 1000
    assert card.totals.property_income == Decimal("500.00")  # 300 + 200
    assert card.totals.transfers == Decimal("550.25")  # 450.25 + 100
    assert card.record.operating_costs == Decimal("800.01")
    assert card.record.net_income == Decimal("6750.74")  # 7550.75 − 800.01
    assert card.record.per_capita_net_income == Decimal("2250.25")  # 6750.74 ÷ 3 = 2250.2466…
    # Σ net 3 × 1000.01 + 6750.74 = 9750.77, ÷ 3 = 3250.2566… → 3250.26, rounded once.
    # (Rounding each quarter first would give 3 × 333.34 + 2250.25 = 3250.27.)
    assert card.trailing_per_capita == Decimal("3250.26")
    assert card.trailing_label == "2025Q4–2026Q3"
    assert card.comparison.words == "高于2026年监测标准 3,000.00 元"
    assert card.village_name == "大姚县金碧镇大村村"
    assert [m.name for m in card.members] == ["王大山", "李秀英", "王小川"]
    assert card.head_name == "王大山"

    page = client_for(staff.village_clerk).get(card_url(family)).content.decode()
    for shown in ("3,500.50", "3,000.00", "500.00", "550.25", "800.01", "6,750.74", "2,250.25", "3,250.26"):
        assert shown in page
    assert "高于2026年监测标准 3,000.00 元" in page
    assert "大姚县金碧镇大村村" in page and "2019年" in page and "脱贫户" in page
    assert "弱劳动力或半劳动力" in page and "长期慢性病" in page
    assert "赵干部" in page and "大姚县农业农村局" in page
    assert "2026年第3季度" in page and "打印日期" in page


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("3250.25", "高于2026年监测标准 3,250.25 元"),
        ("3250.26", "等于2026年监测标准 3,250.26 元"),
        # Against the sum of rounded quarters (3250.27) this would read 等于: the card rounds once.
        ("3250.27", "低于2026年监测标准 3,250.27 元"),
    ],
)
def test_card_compares_the_trailing_per_capita_with_the_threshold_in_words(
    staff: Staff, tree: Tree, family: Household, amount: str, words: str
) -> None:
    threshold(tree.province, 2026, amount)
    card = cards.household_card(user=staff.village_clerk, pk=family.pk, period=Q3)
    assert card.comparison.words == words
    assert card.comparison.below == words.startswith("低于")


def test_card_says_when_the_window_is_incomplete_or_no_threshold_is_set(
    staff: Staff, tree: Tree, family: Household
) -> None:
    threshold(tree.province, 2027, "9000")
    later = cards.household_card(user=staff.village_clerk, pk=family.pk, period=Quarter(2027, 1))
    assert later.record is None and later.trailing_per_capita is None
    assert later.comparison.words == "近四个季度收入未录全，暂不能与监测标准比较"
    no_threshold = cards.household_card(user=staff.village_clerk, pk=family.pk, period=Q3)
    assert no_threshold.comparison.words == "2026年尚未设置监测标准"
    page = client_for(staff.village_clerk).get(card_url(family, "2027Q1")).content.decode()
    assert "本季度收入尚未录入" in page


def test_card_shows_the_open_case_with_its_risks_and_measures(staff: Staff, family: Household) -> None:
    monitoring_case_register(
        by=staff.village_clerk,
        household=family,
        category="unstable",
        identified_month=date(2026, 5, 1),
        risk_types=RiskType.objects.filter(name__in=["因病", "因学"]),
        measures=AssistanceMeasure.objects.filter(name="产业帮扶"),
    )
    page = client_for(staff.village_clerk).get(card_url(family)).content.decode()
    assert "脱贫不稳定户" in page and "2026年5月识别" in page
    assert "因病" in page and "因学" in page and "产业帮扶" in page


def test_card_shows_the_case_open_at_the_quarters_end_not_the_case_open_today(staff: Staff, family: Household) -> None:
    case = monitoring_case_register(
        by=staff.village_clerk,
        household=family,
        category="unstable",
        identified_month=date(2025, 12, 1),
        risk_types=RiskType.objects.filter(name="因病"),
        measures=AssistanceMeasure.objects.filter(name="产业帮扶"),
    )
    MonitoringCase.objects.filter(pk=case.pk).update(eliminated_month=date(2026, 8, 1), elimination_method="assisted")
    client = client_for(staff.village_clerk)
    # Identified after 2025Q3 ended, open at the end of 2026Q2, eliminated before 2026Q3 ended.
    assert "未纳入监测对象" in client.get(card_url(family, "2025Q3")).content.decode()
    during = client.get(card_url(family, "2026Q2")).content.decode()
    assert "脱贫不稳定户" in during and "2025年12月识别" in during and "产业帮扶" in during
    assert "未纳入监测对象" in client.get(card_url(family, "2026Q3")).content.decode()


def test_card_without_an_open_case_says_so(staff: Staff, family: Household) -> None:
    page = client_for(staff.village_clerk).get(card_url(family)).content.decode()
    assert "未纳入监测对象" in page


def _full_and_masked(target: Household) -> tuple[list[str], list[str]]:
    numbers = list(target.members.values_list("id_number", flat=True))
    return [*numbers, HELPER_PHONE], [*(mask_id_number(n) for n in numbers), mask_phone(HELPER_PHONE)]


@pytest.mark.parametrize("role", MASKED_ROLES)
def test_roles_without_personal_data_permission_see_masked_numbers_on_cards(
    staff: Staff, tree: Tree, family: Household, role: str
) -> None:
    full, masked = _full_and_masked(family)
    client = client_for(getattr(staff, role))
    for url in (card_url(family), village_url(tree.village_a1.pk)):
        page = client.get(url).content.decode()
        for value in full:
            assert value not in page
        for value in masked:
            assert value in page


@pytest.mark.parametrize("role", REVEALING_ROLES)
def test_roles_with_personal_data_permission_see_full_numbers_on_cards(
    staff: Staff, tree: Tree, family: Household, role: str
) -> None:
    full, _masked = _full_and_masked(family)
    client = client_for(getattr(staff, role))
    for url in (card_url(family), village_url(tree.village_a1.pk)):
        page = client.get(url).content.decode()
        for value in full:
            assert value in page


def test_a_household_number_built_from_an_id_number_is_masked_like_on_the_household_page(
    staff: Staff, tree: Tree
) -> None:
    head = member(name="周一", birth="19650505")
    target = household(staff.village_clerk, tree.village_a1, number=head.id_number, members=[head])
    page = client_for(staff.county_viewer).get(card_url(target)).content.decode()
    assert head.id_number not in page
    assert mask_id_number(head.id_number) in page


@pytest.mark.parametrize("role", ["other_village_clerk", "other_township_admin"])
def test_foreign_households_and_villages_are_404(staff: Staff, tree: Tree, family: Household, role: str) -> None:
    client = client_for(getattr(staff, role))
    assert client.get(card_url(family)).status_code == 404
    assert client.get(village_url(tree.village_a1.pk)).status_code == 404
    assert not ExportRecord.objects.exists()


@pytest.mark.parametrize(
    "query",
    [
        "village=999999&period=2026Q3",
        "village=abc&period=2026Q3",
        "village={village}&period=2026Q9",
        "period=26Q3",
        # isdigit() accepts a superscript two, which int() refuses.
        "village=%C2%B2&period=2026Q3",
    ],
)
def test_unknown_villages_and_malformed_quarters_are_404(staff: Staff, tree: Tree, query: str) -> None:
    url = f"{reverse('village_cards')}?{query.format(village=tree.village_a1.pk)}"
    assert client_for(staff.village_clerk).get(url).status_code == 404


def test_cards_are_printed_a_village_at_a_time_never_for_a_township(staff: Staff, tree: Tree) -> None:
    client = client_for(staff.county_admin)
    assert client.get(village_url(tree.township_a.pk)).status_code == 404
    assert client.get(village_url(tree.county.pk)).status_code == 404


def test_a_township_user_without_a_village_picks_one_of_their_own(staff: Staff, tree: Tree) -> None:
    response = client_for(staff.township_admin).get(reverse("village_cards"), {"period": "2026Q3"})
    assert response.status_code == 200
    offered = [village.pk for village in response.context["villages"]]
    assert offered == [tree.village_a1.pk, tree.village_a2.pk]
    assert not ExportRecord.objects.exists()


def test_a_village_document_holds_its_active_households_in_number_order(staff: Staff, tree: Tree) -> None:
    third = household(staff.village_clerk, tree.village_a1, number="532326100201-C003")
    first = household(staff.village_clerk, tree.village_a1, number="532326100201-C001")
    gone = household(staff.village_clerk, tree.village_a1, number="532326100201-C002")
    household(staff.other_village_clerk, tree.village_a2, number="532326100202-C001")
    household_cancel(by=staff.village_clerk, household=gone, reason_text="户籍迁出")
    response = client_for(staff.village_clerk).get(village_url(tree.village_a1.pk))
    assert [card.household.pk for card in response.context["cards"]] == [first.pk, third.pk]
    assert response.content.decode().count('data-testid="card"') == 2


def test_printing_a_village_records_who_printed_which_village_and_quarter(
    staff: Staff, tree: Tree, family: Household
) -> None:
    household(staff.village_clerk, tree.village_a1)
    client_for(staff.county_viewer).get(village_url(tree.village_a1.pk))
    record = ExportRecord.objects.get()
    assert record.kind == ExportKind.CARDS
    assert record.get_kind_display() == "明白卡"
    assert record.exported_by == staff.county_viewer
    assert record.region == tree.village_a1
    assert record.row_count == 2
    assert record.masked is True
    assert "2026年第3季度" in record.description and "大村村" in record.description

    client_for(staff.village_clerk).get(village_url(tree.village_a1.pk))
    assert ExportRecord.objects.filter(exported_by=staff.village_clerk, masked=False).count() == 1


def test_opening_one_household_card_writes_no_print_record(staff: Staff, family: Household) -> None:
    assert client_for(staff.village_clerk).get(card_url(family)).status_code == 200
    assert not ExportRecord.objects.exists()


def _fill_village(staff: Staff, tree: Tree, count: int, start: int) -> None:
    risks, measures = RiskType.objects.filter(name="因病"), AssistanceMeasure.objects.filter(name="产业帮扶")
    for index in range(start, start + count):
        target = household(
            staff.village_clerk,
            tree.village_a1,
            number=f"532326100201-Q{index:03d}",
            members=[member(name=f"户主{index}"), member(Relation.SPOUSE, name=f"配偶{index}")],
        )
        for quarter in ("2025Q4", "2026Q1", "2026Q2", "2026Q3"):
            income(staff.village_clerk, target, quarter, wages_other="1500")
        if index % 2:
            monitoring_case_register(
                by=staff.village_clerk,
                household=target,
                category="unstable",
                identified_month=date(2026, 1, 1),
                risk_types=risks,
                measures=measures,
            )


def _bulk_section(households: Sequence[Household], period: Quarter) -> CardSection:
    """A later register's section: one query for all the document's households."""
    rows = {
        pk: [("大村核桃合作社", f"{period.year}年入社")]
        for pk in Household.objects.filter(pk__in=[h.pk for h in households], number__endswith="1").values_list(
            "pk", flat=True
        )
    }
    return CardSection(title="合作社入社情况", columns=("合作社", "入社时间"), rows=rows, empty="未加入合作社")


def test_a_village_document_reads_in_the_same_number_of_queries_for_5_and_50_households(
    staff: Staff, tree: Tree, django_assert_num_queries: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cards, "_sections", [_bulk_section])
    threshold(tree.province, 2026, "5000")
    client = client_for(staff.township_admin)
    _fill_village(staff, tree, 5, start=0)
    client.get(village_url(tree.village_a1.pk))  # the reference lists (thresholds, permissions) are cached now
    with CaptureQueriesContext(connection) as five:
        response = client.get(village_url(tree.village_a1.pk))
    assert len(response.context["cards"]) == 5
    _fill_village(staff, tree, 45, start=5)
    with django_assert_num_queries(len(five.captured_queries)):
        response = client.get(village_url(tree.village_a1.pk))
    assert len(response.context["cards"]) == 50
    assert response.content.decode().count('data-testid="card"') == 50


def test_sections_registered_by_later_registers_appear_on_every_card(
    staff: Staff, tree: Tree, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cards, "_sections", [])
    member_household = household(staff.village_clerk, tree.village_a1, number="532326100201-S001")
    other = household(staff.village_clerk, tree.village_a1, number="532326100201-S002")
    client = client_for(staff.village_clerk)
    assert 'data-testid="card-section"' not in client.get(village_url(tree.village_a1.pk)).content.decode()

    assert cards.register_card_section(_bulk_section) is _bulk_section
    cards.register_card_section(_bulk_section)
    assert cards.card_section_sources() == (_bulk_section,)
    page = client.get(village_url(tree.village_a1.pk)).content.decode()
    assert page.count("合作社入社情况") == 2
    assert page.count("大村核桃合作社") == 1
    assert page.count("未加入合作社") == 1
    member_card = client.get(card_url(member_household)).content.decode()
    assert "2026年入社" in member_card
    assert "未加入合作社" in client.get(card_url(other)).content.decode()


def test_the_household_page_links_to_its_card(staff: Staff, family: Household) -> None:
    page = client_for(staff.county_viewer).get(reverse("household_detail", args=[family.pk])).content.decode()
    assert reverse("household_card", args=[family.pk]) in page


def test_a_card_for_the_last_quarter_a_date_can_hold_is_a_page_not_an_error(
    staff: Staff, tree: Tree, family: Household
) -> None:
    client = client_for(staff.village_clerk)
    assert client.get(card_url(family, "9999Q4")).status_code == 200
    assert client.get(village_url(tree.village_a1.pk, "9999Q4")).status_code == 200


def test_a_card_offers_the_next_quarter_only_once_that_quarter_has_ended(staff: Staff, family: Household) -> None:
    client = client_for(staff.county_admin)
    last_ended = cards.default_card_period()
    latest = client.get(card_url(family, str(last_ended))).content.decode()
    assert 'data-testid="card-next"' not in latest and last_ended.previous().label in latest
    earlier = client.get(card_url(family, str(last_ended.previous()))).content.decode()
    assert 'data-testid="card-next"' in earlier and f"period={last_ended}" in earlier
