"""The funds pages as their users see them: lists, details with history, forms with Chinese
messages naming the field, 万元 input, the lifecycle buttons, the overview and the township page."""

from __future__ import annotations

import re
from decimal import Decimal

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from assessment.models import Comparator, Target
from funds.models import (
    Allocation,
    Beneficiary,
    CollectiveIncome,
    Funding,
    Payment,
    Project,
    ProjectStatus,
    ProjectType,
    ReviewStatus,
)
from regions.models import User
from tests.conftest import Staff
from tests.factories import PASSWORD, Tree, household, member
from tests.funds.conftest import Rows, staff_clerk_b


def login(user: User) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def page_urls(rows: Rows) -> list[str]:
    return [
        reverse("fund_overview"),
        reverse("allocation_list"),
        reverse("allocation_detail", args=[rows.central.pk]),
        reverse("allocation_detail", args=[rows.split_b.pk]),
        reverse("allocation_edit", args=[rows.central.pk]),
        reverse("allocation_edit", args=[rows.split_b.pk]),
        reverse("allocation_split", args=[rows.central.pk]),
        reverse("allocation_delete", args=[rows.split_b.pk]),
        reverse("allocation_create"),
        reverse("project_list"),
        reverse("project_create"),
        reverse("project_detail", args=[rows.project.pk]),
        reverse("project_edit", args=[rows.project.pk]),
        reverse("project_send_back", args=[rows.project.pk]),
        reverse("beneficiaries_add", args=[rows.project.pk]),
        reverse("funding_create", args=[rows.project.pk]),
        reverse("funding_detail", args=[rows.funding.pk]),
        reverse("funding_edit", args=[rows.funding.pk]),
        reverse("funding_delete", args=[rows.funding.pk]),
        reverse("payment_create", args=[rows.funding.pk]),
        reverse("payment_list"),
        reverse("payment_detail", args=[rows.payment.pk]),
        reverse("payment_edit", args=[rows.payment.pk]),
        reverse("payment_delete", args=[rows.payment.pk]),
        reverse("asset_create", args=[rows.project.pk]),
        reverse("asset_list"),
        reverse("asset_detail", args=[rows.asset.pk]),
        reverse("asset_edit", args=[rows.asset.pk]),
        reverse("asset_delete", args=[rows.asset.pk]),
        reverse("collective_township"),
        reverse("collective_income_list"),
        reverse("collective_income_entry", args=[rows.income.village_id, 2025, 1]),
        reverse("village_profile_list"),
        reverse("village_profile_edit", args=[rows.profile.village_id, 2025]),
    ]


def test_every_page_opens_for_the_county_administrator(staff: Staff, township_b_rows: Rows) -> None:
    client = login(staff.county_admin)
    for url in page_urls(township_b_rows):
        response = client.get(url)
        assert response.status_code == 200, url
    history = client.get(reverse("project_detail", args=[township_b_rows.project.pk])).context["history"]
    entity = township_b_rows.cooperative.name
    assert ("扶持的经营主体（双绑）", "（空）", entity) in [f for change in history for f in change.fields]
    assert [change.reason for change in history][:2] == ["入库", "新增受益农户1户"]


def test_the_overview_shows_allocated_arranged_and_paid_by_level_and_type(
    tree: Tree, staff: Staff, township_b_rows: Rows
) -> None:
    page = login(staff.county_admin).get(reverse("fund_overview"), {"year": 2025})
    overview = page.context["overview"]
    total = overview.total
    assert (total.allocated, total.arranged, total.paid) == (Decimal("1000000"), Decimal("100000"), Decimal("40000"))
    assert (total.industry_share, total.supported_share, total.paid_progress) == (
        Decimal("0.1000"),
        Decimal("0.1000"),
        Decimal("0.0400"),
    )
    html = page.content.decode()
    assert 'data-testid="total-allocated">100</div>' in html  # 万元
    assert 'data-testid="total-paid">4</div>' in html
    industry = next(row for row in overview.types if row.project_type.code == "industry")
    assert (industry.arranged, industry.paid, industry.projects) == (Decimal("100000"), Decimal("40000"), 1)
    # The township sees its split as what it received.
    township = login(staff.other_township_admin).get(reverse("fund_overview"), {"year": 2025}).context["overview"]
    assert (township.region, township.total.allocated, township.total.arranged) == (
        tree.township_b,
        Decimal("200000"),
        Decimal("100000"),
    )


def test_the_overview_shows_each_share_against_the_target_set_for_the_county_and_year(
    tree: Tree, staff: Staff, township_b_rows: Rows
) -> None:
    client = login(staff.county_admin)
    html = client.get(reverse("fund_overview"), {"year": 2025}).content.decode()
    assert "≥ 65.0%" not in html  # no target set yet: "—"
    Target.objects.create(
        indicator="fund_industry_share",
        region=tree.county,
        year=2025,
        comparator=Comparator.AT_LEAST,
        value=Decimal("0.65"),
    )
    Target.objects.create(
        indicator="fund_industry_share_central",
        region=tree.province,
        year=2025,
        quarter=4,
        comparator=Comparator.AT_LEAST,
        value=Decimal("0.7"),
    )
    page = client.get(reverse("fund_overview"), {"year": 2025}).content.decode()
    industry = page[page.index('data-testid="share-industry_share"') :]
    assert '<td class="money" data-testid="share-target">≥ 65.0%</td>' in industry[: industry.index("</tr>")]
    central = page[page.index('data-testid="share-industry_share:central"') :]
    # The province's year-end target, nearest ancestor of the county.
    assert '<td class="money" data-testid="share-target">≥ 70.0%</td>' in central[: central.index("</tr>")]
    # Another year holds its own targets (none here).
    assert "≥ 65.0%" not in client.get(reverse("fund_overview"), {"year": 2024}).content.decode()


def test_an_allocation_is_entered_in_wan_and_stored_in_yuan_exactly(tree: Tree, staff: Staff) -> None:
    client = login(staff.county_admin)
    data = {
        "county": tree.county.pk,
        "year": 2025,
        "level": "provincial",
        "document_number": "云财农〔2025〕3号",
        "issued_on": "2025-02-10",
        "amount": "1.2345",
        "unit": "wan",
        "note": "",
    }
    response = client.post(reverse("allocation_create"), data)
    assert response.status_code == 302
    assert Allocation.objects.get().amount == Decimal("12345.00")
    refused = client.post(
        reverse("allocation_create"), {**data, "document_number": "云财农〔2025〕4号", "amount": "1.2345678"}
    )
    assert refused.context["form"].error_summary() == ["金额：金额最多保留六位小数（精确到分）"]
    blank = client.post(reverse("allocation_create"), {**data, "document_number": "", "amount": ""})
    assert blank.context["form"].error_summary() == ["文号：请填写文号", "金额：请填写金额"]
    assert Allocation.objects.count() == 1
    edit = client.get(reverse("allocation_edit", args=[Allocation.objects.get().pk]))
    assert edit.context["form"].initial["amount"] == Decimal("1.2345")


def test_a_project_moves_through_its_lifecycle_from_its_page(tree: Tree, staff: Staff) -> None:
    client = login(staff.county_admin)
    head = member(birth="19760606")
    target = household(staff.county_admin, tree.village_a1, number="A-100", members=[head])
    response = client.post(
        reverse("project_create"),
        {
            "code": "DY-2025-001",
            "name": "核桃提质增效",
            "year": 2025,
            "region": tree.village_a1.pk,
            "project_type": ProjectType.objects.get(code="industry_base").pk,
            "linkage_mechanism": "",
        },
    )
    project = Project.objects.get(code="DY-2025-001")
    assert response.status_code == 302
    advance = reverse("project_advance", args=[project.pk])
    today = timezone.localdate().isoformat()
    refused = client.post(advance, {"version": project.version, "on": today}, follow=True)
    assert "产业发展项目须写明联农带农机制" in refused.content.decode()
    assert Project.objects.get(pk=project.pk).status == ProjectStatus.RESERVE
    client.post(
        reverse("project_edit", args=[project.pk]),
        {
            "version": project.version,
            "code": project.code,
            "name": project.name,
            "year": 2025,
            "region": tree.village_a1.pk,
            "project_type": project.project_type_id,
            "linkage_mechanism": "务工就业",
        },
    )
    project.refresh_from_db()
    missing = client.post(
        reverse("beneficiaries_add", args=[project.pk]), {"version": project.version, "households": "A-100\nNOPE-1"}
    )
    assert missing.context["form"].error_summary() == [
        "户编号或家庭成员身份证号：在您的管辖范围内没有找到：NOPE-1（请核对户编号或身份证号）"
    ]
    client.post(
        reverse("beneficiaries_add", args=[project.pk]), {"version": project.version, "households": head.id_number}
    )
    assert list(Beneficiary.objects.values_list("household", flat=True)) == [target.pk]
    project.refresh_from_db()
    moved = client.post(advance, {"version": project.version, "on": today}, follow=True)
    assert "项目已进入“入库”" in moved.content.decode()
    project.refresh_from_db()
    assert (project.status, project.status_on) == (ProjectStatus.LIBRARY, timezone.localdate())
    stale = client.post(advance, {"version": project.version - 1, "on": today}, follow=True)
    assert "该记录已被他人修改" in stale.content.decode()
    back = client.post(
        reverse("project_send_back", args=[project.pk]), {"version": project.version, "on": today, "reason": ""}
    )
    assert back.context["form"].error_summary() == ["退回原因：请填写退回原因"]
    client.post(
        reverse("project_send_back", args=[project.pk]),
        {"version": project.version, "on": today, "reason": "实施方案待完善"},
    )
    detail = client.get(reverse("project_detail", args=[project.pk])).content.decode()
    assert "实施方案待完善" in detail and "退回至储备：实施方案待完善" in detail


def test_a_funding_line_and_a_payment_are_refused_above_what_is_left(
    tree: Tree, staff: Staff, township_b_rows: Rows
) -> None:
    client = login(staff.other_township_admin)
    project = township_b_rows.project
    over = client.post(
        reverse("funding_create", args=[project.pk]),
        {"allocation": township_b_rows.split_b.pk, "amount": "10.0001", "unit": "wan"},
    )
    # The same allocation already funds this project: the page says so on the field.
    assert over.context["form"].error_summary() == ["资金来源：该项目已安排了这笔资金，请修改原安排的金额"]
    too_much = client.post(
        reverse("funding_edit", args=[township_b_rows.funding.pk]),
        {"version": township_b_rows.funding.version, "amount": "20.000001", "unit": "wan"},
    )
    assert too_much.context["form"].error_summary() == [
        "安排金额：安排金额超出该笔资金可安排的金额（最多可安排 200,000.00 元）"
    ]
    paid = client.post(
        reverse("payment_create", args=[township_b_rows.funding.pk]),
        {"paid_on": "2025-08-01", "amount": "60000.01", "unit": "yuan", "voucher": "记-08"},
    )
    assert paid.context["form"].error_summary() == [
        "支付金额：支付金额超出该项资金安排的未支付金额（未支付 60,000.00 元）"
    ]
    assert Funding.objects.get().amount == Decimal("100000.00") and Payment.objects.count() == 1


def test_the_township_page_lists_villages_below_the_floor_first_with_their_gap(
    tree: Tree, staff: Staff, township_b_rows: Rows
) -> None:
    from funds import services

    clerk = staff.village_clerk
    services.collective_income_save(
        by=clerk, village=tree.village_a1, year=2025, quarter=2, amounts={"business_income": Decimal("50000.00")}
    )
    other = staff.other_village_clerk
    services.collective_income_save(
        by=other, village=tree.village_a2, year=2025, quarter=2, amounts={"asset_income": Decimal("12345.67")}
    )
    page = login(staff.township_admin).get(reverse("collective_township"), {"year": 2025, "quarter": 2})
    rows = page.context["figures"].villages
    assert [(row.village.name, row.gap) for row in rows] == [
        ("石丫村", Decimal("37654.33")),
        ("大村村", Decimal("0.00")),
    ]
    assert page.context["figures"].at_floor == 1
    html = page.content.decode()
    assert "37,654.33" in html and "已达标" in html


def test_the_village_clerk_enters_submits_and_the_township_returns_then_approves(
    tree: Tree, staff: Staff, township_b_rows: Rows
) -> None:
    clerk = login(staff_clerk_b(tree))
    url = reverse("collective_income_entry", args=[tree.village_b1.pk, 2025, 2])
    form = clerk.post(
        url, {"unit": "wan", "business_income": "3.5", "investment_income": "1.5", "subsidy_income": "-1"}
    )
    assert form.context["form"].error_summary() == ["补助收入：补助收入不能为负数"]
    clerk.post(url, {"unit": "wan", "business_income": "3.5", "investment_income": "1.5"})
    income = CollectiveIncome.objects.get(village=tree.village_b1, quarter=2)
    assert (income.business_income, income.investment_income, income.operating_income) == (
        Decimal("35000.00"),
        Decimal("15000.00"),
        Decimal("50000.00"),
    )
    clerk.post(reverse("collective_income_submit", args=[income.pk]), {"version": income.version})
    income.refresh_from_db()
    assert income.review_status == ReviewStatus.SUBMITTED
    assert (
        clerk.post(reverse("collective_income_approve", args=[income.pk]), {"version": income.version}).status_code
        == 403
    )
    reviewer = login(staff.other_township_admin)
    entry = reviewer.get(url).content.decode()
    assert 'data-testid="approve-income"' in entry and 'data-testid="row-form"' not in entry
    reviewer.post(
        reverse("collective_income_return", args=[income.pk]), {"version": income.version, "review_note": "请附合同"}
    )
    income.refresh_from_db()
    assert (income.review_status, income.review_note) == (ReviewStatus.RETURNED, "请附合同")
    assert "请附合同" in clerk.get(url).content.decode()


def test_a_stale_page_is_refused_and_the_other_save_kept(tree: Tree, staff: Staff, township_b_rows: Rows) -> None:
    client = login(staff.county_admin)
    url = reverse("allocation_edit", args=[township_b_rows.central.pk])
    form = client.get(url).context["form"]
    data = {
        **{name: form.initial.get(name, "") for name in ("version", "year", "level", "document_number", "note")},
        "issued_on": "2025-03-01",
        "unit": "wan",
    }
    assert client.post(url, {**data, "amount": "101"}).status_code == 302
    stale = client.post(url, {**data, "amount": "99"})
    assert stale.context["form"].error_summary() == [
        "该记录已被他人修改，您的修改未保存。请刷新页面查看最新内容后重新填写。"
    ]
    assert Allocation.objects.get(pk=township_b_rows.central.pk).amount == Decimal("1010000.00")


def test_the_township_page_opens_on_the_latest_quarter_entered(tree: Tree, staff: Staff, township_b_rows: Rows) -> None:
    page = login(staff.other_township_admin).get(reverse("collective_township"))
    assert (page.context["year"], page.context["quarter"]) == (2025, 1)
    assert [row.operating for row in page.context["figures"].villages] == [Decimal("12000.00")]


def test_the_overviews_arranged_figures_link_to_project_lists_whose_sums_are_the_figures(
    tree: Tree, staff: Staff, township_b_rows: Rows
) -> None:
    from funds import services as fund_services
    from tests.funds.factories import library_project

    admin = staff.county_admin
    rows = township_b_rows
    # A township-B project drawing on the split and, too, on a county provincial allocation.
    provincial = Allocation.objects.create(
        region=tree.county,
        year=2025,
        level="provincial",
        document_number="云财农〔2025〕1号",
        issued_on=timezone.localdate().replace(year=2025, month=1, day=2),
        amount=Decimal("500000"),
    )
    fund_services.funding_create(by=admin, project=rows.project, allocation=provincial, amount=Decimal("30000"))
    other = library_project(staff.other_township_admin, tree.village_b1, [rows.household], code="XM-B-002")
    fund_services.funding_create(by=admin, project=other, allocation=provincial, amount=Decimal("7000"))
    client = login(admin)
    for region in (tree.county, tree.township_b):
        page = client.get(reverse("fund_overview"), {"year": 2025, "region": region.pk})
        html = page.content.decode()
        for row in page.context["overview"].levels:
            link = re.search(
                rf'<tr data-testid="level-{row.level}">.*?</a></td>\s*<td class="money"><a href="([^"]+)"', html, re.S
            )
            assert link is not None
            listed = client.get(link.group(1).replace("&amp;", "&"))
            assert (listed.context["total"] or 0) == row.totals.arranged, (region.name, row.level)
            assert sum(project.funded for project in listed.context["page"]) == row.totals.arranged
            paid = re.search(
                rf'<tr data-testid="level-{row.level}">.*?<td class="money"><a href="(/funds/payments/[^"]+)"',
                html,
                re.S,
            )
            assert paid is not None
            payments = client.get(paid.group(1).replace("&amp;", "&"))
            assert (payments.context["total"] or 0) == row.totals.paid, (region.name, row.level)
        for type_row in page.context["overview"].types:
            link = re.search(
                rf'<tr data-testid="type-{type_row.project_type.code}"[^>]*>\s*<td>[^<]*<a href="([^"]+)"', html
            )
            assert link is not None
            listed = client.get(link.group(1).replace("&amp;", "&"))
            assert listed.context["page"].paginator.count == type_row.projects, (region.name, type_row.project_type)
            assert (listed.context["total"] or 0) == type_row.arranged, (region.name, type_row.project_type)


def test_a_villages_quarter_lists_its_operating_assets_whose_return_it_enters(
    tree: Tree, staff: Staff, township_b_rows: Rows
) -> None:
    client = login(staff.other_township_admin)
    page = client.get(reverse("collective_income_entry", args=[tree.village_b1.pk, 2025, 1])).content.decode()
    assets = page[page.index('data-testid="operating-assets"') :]
    assert "其年收益计入“资产租赁及项目资产收益”" in assets
    assert "核桃烘干房" in assets and "90,000.00" in assets and "湾碧村股份经济合作社" in assets
    assert assets.count('data-testid="operating-asset"') == 1
    other = login(staff.county_admin).get(reverse("collective_income_entry", args=[tree.village_a1.pk, 2025, 1]))
    assert "本村尚无登记的经营性项目资产" in other.content.decode()


def test_a_quarter_whose_running_total_falls_below_the_last_one_is_saved_with_a_warning(
    tree: Tree, staff: Staff, township_b_rows: Rows
) -> None:
    clerk = login(staff_clerk_b(tree))
    q1 = township_b_rows.income  # 2025Q1 of 湾碧村
    url = reverse("collective_income_entry", args=[tree.village_b1.pk, 2025, 2])
    low = str(q1.business_income - 1)
    page = clerk.post(url, {"unit": "yuan", "business_income": low}, follow=True).content.decode()
    assert f"经营收入累计{q1.business_income - 1:,.2f}元，低于第1季度末的累计{q1.business_income:,.2f}元" in page
    assert CollectiveIncome.objects.get(village=tree.village_b1, year=2025, quarter=2).business_income == Decimal(low)
    higher = clerk.post(
        url,
        {"unit": "yuan", "business_income": str(q1.business_income + 1), "version": 1},
        follow=True,
    ).content.decode()
    assert "低于第1季度末的累计" not in higher
    saved = CollectiveIncome.objects.get(village=tree.village_b1, year=2025, quarter=2)
    assert saved.business_income == q1.business_income + 1
