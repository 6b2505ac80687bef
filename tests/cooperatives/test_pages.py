"""The register's pages: lists and their filters, forms, the household page's block and the 明白卡 lines."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.test import Client
from django.urls import reverse

from cooperatives.models import (
    Binding,
    Earning,
    EarningKind,
    Entity,
    EntityKind,
    JoiningMethod,
    LinkageType,
    Membership,
    RichLeader,
)
from cooperatives.services import binding_end, earning_record, entity_cancel, entity_update
from households.quarter import Quarter
from regions.models import User
from tests.conftest import Staff
from tests.cooperatives.world import World, bind, credit_code, entity, industry
from tests.factories import PASSWORD, Tree, income


def login(user: User) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def listed(client: Client, name: str, **params: str | int) -> set[str]:
    page = client.get(reverse(name), params).context["page"]
    return {str(row) for row in page.object_list}


def test_a_township_admin_registers_a_cooperative_with_its_industries(tree: Tree, staff: Staff) -> None:
    walnut = industry(tree.county)
    client = login(staff.township_admin)
    assert (
        client.get(reverse("entity_create"), {"kind": "cooperative"}).context["form"].initial["kind"] == "cooperative"
    )
    code = credit_code()
    response = client.post(
        reverse("entity_create"),
        {
            "kind": EntityKind.COOPERATIVE,
            "name": "大村核桃专业合作社",
            "credit_code": f"{code[:6]} {code[6:].lower()}",
            "region": tree.village_a1.pk,
            "level": "county",
            "founded_on": "2019-03-01",
            "industries": [walnut.pk],
            "contact_phone": "138 1234 5678",
        },
    )
    assert response.status_code == 302
    created = Entity.objects.get(name="大村核桃专业合作社")
    assert created.credit_code == code and created.contact_phone == "13812345678"
    assert list(created.industries.all()) == [walnut]
    assert response["Location"] == reverse("entity_detail", args=[created.pk])


def test_the_entity_form_shows_the_models_messages_on_its_fields(tree: Tree, staff: Staff) -> None:
    client = login(staff.township_admin)
    response = client.post(
        reverse("entity_create"),
        {
            "kind": "cooperative",
            "name": "镇合作社",
            "credit_code": "91532326MA6K00000A",
            "region": tree.township_a.pk,
            "level": "none",
        },
    )
    errors = response.context["form"].errors
    assert "末位校验码" in errors["credit_code"][0]
    assert not Entity.objects.exists()
    response = client.post(
        reverse("entity_create"),
        {
            "kind": "cooperative",
            "name": "镇合作社",
            "credit_code": credit_code(),
            "region": tree.township_a.pk,
            "level": "none",
        },
    )
    assert response.context["form"].errors["region"] == ["合作社的注册地应选到村"]


def test_the_entity_list_filters_by_kind_level_region_status_industry_and_searches_name_or_code(
    world: World, staff: Staff, tree: Tree
) -> None:
    walnut = industry(tree.county)
    entity_update(by=staff.township_admin, entity=world.cooperative_a, industries=[walnut])
    farm = entity(staff.township_admin, tree.village_a2, EntityKind.FAMILY_FARM, name="石丫家庭农场", level="county")
    client = login(staff.county_viewer)
    everything = {"大姚核桃集团", "大村核桃合作社", "湾碧花椒合作社", "石丫家庭农场"}
    assert listed(client, "entity_list") == everything
    assert listed(client, "entity_list", kind="cooperative") == {"大村核桃合作社", "湾碧花椒合作社"}
    assert listed(client, "entity_list", level="county") == {"石丫家庭农场"}
    assert listed(client, "entity_list", region=tree.township_a.pk) == {"大村核桃合作社", "石丫家庭农场"}
    assert listed(client, "entity_list", industry=walnut.pk) == {"大村核桃合作社"}
    assert listed(client, "entity_list", q="花椒") == {"湾碧花椒合作社"}
    assert listed(client, "entity_list", q=farm.credit_code.lower()) == {"石丫家庭农场"}
    from cooperatives.services import entity_cancel

    entity_cancel(by=staff.township_admin, entity=farm, cancelled_on=date(2025, 1, 1))
    assert listed(client, "entity_list", status="cancelled") == {"石丫家庭农场"}


def test_the_binding_and_member_lists_filter_by_status(world: World, staff: Staff) -> None:
    from cooperatives.services import binding_end, membership_leave

    binding_end(by=staff.township_admin, binding=world.binding_a, ended_on=date(2025, 1, 1))
    client = login(staff.county_admin)
    assert listed(client, "binding_list", status="active") == {str(world.binding_b)}
    assert listed(client, "binding_list", status="ended") == {str(world.binding_a)}
    assert listed(client, "binding_list", enterprise=world.enterprise.pk) == {
        str(world.binding_a),
        str(world.binding_b),
    }
    membership = Membership.objects.get(household=world.household_a1)
    membership_leave(by=staff.village_clerk, membership=membership, left_on=date(2025, 1, 1))
    assert listed(client, "membership_list", status="ended") == {str(membership)}
    assert len(listed(client, "membership_list", status="active")) == 2
    assert listed(client, "membership_list", cooperative=world.cooperative_a.pk) == {str(membership)}


def test_a_binding_of_a_cancelled_cooperative_or_not_yet_begun_is_not_listed_as_in_force(
    world: World, staff: Staff
) -> None:
    # As the enterprise page and the 双绑 figures read it: the binding and both its entities in force today.
    from cooperatives.services import entity_cancel

    entity_cancel(by=staff.other_township_admin, entity=world.cooperative_b, cancelled_on=date(2025, 1, 1))
    binding_end(by=staff.township_admin, binding=world.binding_a, ended_on=date.today() + timedelta(10))
    later = bind(staff.township_admin, world.enterprise, world.cooperative_a, started_on=date.today() + timedelta(30))
    client = login(staff.county_admin)
    assert listed(client, "binding_list", status="active") == {str(world.binding_a)}
    assert listed(client, "binding_list", status="ended") == {str(world.binding_b), str(later)}
    response = client.get(reverse("binding_list"))
    assert response.context["active"] == {world.binding_a.pk}


def test_a_township_admin_binds_from_the_cooperative_page_and_ends_the_binding(
    world: World, staff: Staff, tree: Tree
) -> None:
    cooperative = entity(staff.township_admin, tree.village_a2, name="石丫烤烟合作社")
    client = login(staff.township_admin)
    page = client.get(reverse("entity_detail", args=[cooperative.pk])).content.decode()
    assert "未绑定龙头企业" in page
    form = client.get(reverse("binding_create"), {"cooperative": cooperative.pk}).context["form"]
    assert form.initial["cooperative"] == cooperative.pk
    types = list(LinkageType.objects.filter(code__in=["land_transfer", "employment"]).values_list("pk", flat=True))
    response = client.post(
        reverse("binding_create"),
        {
            "enterprise": world.enterprise.pk,
            "cooperative": cooperative.pk,
            "contract_number": "DY-2025-007",
            "started_on": "2025-01-01",
            "linkage_types": types,
            "order_volume": "烤烟 50 吨",
            "order_amount": "250000",
        },
    )
    assert response.status_code == 302
    binding = Binding.objects.get(cooperative=cooperative)
    assert set(binding.linkage_types.values_list("pk", flat=True)) == set(types)
    assert "已绑定龙头企业" in client.get(reverse("entity_detail", args=[cooperative.pk])).content.decode()
    end = client.post(reverse("binding_end", args=[binding.pk]), {"version": binding.version, "ended_on": "2025-06-30"})
    assert end.status_code == 302
    binding.refresh_from_db()
    assert binding.ended_on == date(2025, 6, 30)


def test_the_binding_form_requires_a_linkage_type(world: World, staff: Staff, tree: Tree) -> None:
    cooperative = entity(staff.township_admin, tree.village_a2)
    client = login(staff.township_admin)
    response = client.post(
        reverse("binding_create"),
        {"enterprise": world.enterprise.pk, "cooperative": cooperative.pk, "started_on": "2025-01-01"},
    )
    assert response.context["form"].errors["linkage_types"] == ["请至少选择一种利益联结方式"]


def test_a_member_leaves_from_the_cooperative_page(world: World, staff: Staff) -> None:
    membership = Membership.objects.get(household=world.household_a1)
    client = login(staff.village_clerk)
    page = client.get(reverse("entity_detail", args=[world.cooperative_a.pk])).content.decode()
    assert 'data-testid="leave-form"' in page
    response = client.post(
        reverse("membership_leave", args=[membership.pk]), {"version": membership.version, "left_on": "2025-03-31"}
    )
    assert response["Location"] == reverse("entity_detail", args=[world.cooperative_a.pk])
    membership.refresh_from_db()
    assert membership.left_on == date(2025, 3, 31)


def test_a_cancelled_cooperatives_page_says_its_members_no_longer_count(world: World, staff: Staff) -> None:
    client = login(staff.township_admin)
    url = reverse("entity_detail", args=[world.cooperative_a.pk])
    assert 'data-testid="cancelled-note"' not in client.get(url).content.decode()
    entity_cancel(by=staff.township_admin, entity=world.cooperative_a, cancelled_on=date(2025, 6, 30))
    page = client.get(url).content.decode()
    assert "合作社已于2025-06-30注销，成员不再计入覆盖；</span>注销前您的管辖范围内在社" in page


def test_a_membership_is_corrected_and_its_history_shown(world: World, staff: Staff) -> None:
    membership = Membership.objects.get(household=world.household_a1)
    client = login(staff.village_clerk)
    response = client.post(
        reverse("membership_edit", args=[membership.pk]),
        {
            "version": membership.version,
            "joining_method": JoiningMethod.objects.get(code="money").pk,
            "shares": "5000",
            "joined_on": "2024-03-01",
        },
    )
    assert response.status_code == 302
    page = client.get(reverse("membership_edit", args=[membership.pk])).content.decode()
    assert "入股金额（元）：1000.00 → 5000.00" in page


def test_the_household_page_shows_memberships_and_yearly_earnings_beside_the_ledger(world: World, staff: Staff) -> None:
    kinds = {kind.code: kind for kind in EarningKind.objects.all()}
    for code, amount in (("dividend", "600"), ("land_rent", "1200"), ("wages", "3000")):
        earning_record(
            by=staff.village_clerk,
            household=world.household_a1,
            cooperative=world.cooperative_a,
            year=2025,
            kind=kinds[code],
            amount=Decimal(amount),
        )
    income(staff.village_clerk, world.household_a1, "2025Q1", property_dividends="300", property_land_transfer="500")
    client = login(staff.county_viewer)
    response = client.get(reverse("household_detail", args=[world.household_a1.pk]))
    section = next(s for s in response.context["sections"] if s.key == "cooperatives")
    line = section.context["lines"][0]
    assert line.membership.cooperative == world.cooperative_a and line.enterprises == ["大姚核桃集团"]
    year = section.context["years"][0]
    assert (year.year, year.total, year.property_from_cooperatives) == (2025, Decimal("4800"), Decimal("1800"))
    assert year.recorded_property == Decimal("800") and year.property_below
    page = response.content.decode()
    assert 'data-testid="section-cooperatives"' in page and "双绑" in page
    assert "低于合作社分红与租金 1,800.00" in page


def test_the_household_page_compares_the_earnings_with_all_of_the_recorded_property_income(
    world: World, staff: Staff
) -> None:
    # As the 疑点 rule does: a dividend recorded under 其他财产性收入 still counts, so no red flag here.
    earning_record(
        by=staff.village_clerk,
        household=world.household_a1,
        cooperative=world.cooperative_a,
        year=2025,
        kind=EarningKind.objects.get(code="dividend"),
        amount=Decimal("500"),
    )
    income(staff.village_clerk, world.household_a1, "2025Q1", property_dividends="300", property_other="200")
    response = login(staff.county_viewer).get(reverse("household_detail", args=[world.household_a1.pk]))
    section = next(s for s in response.context["sections"] if s.key == "cooperatives")
    year = section.context["years"][0]
    assert year.recorded_property == Decimal("500") and not year.property_below
    assert "低于合作社分红与租金" not in response.content.decode()


def test_the_card_lists_the_households_cooperatives_at_the_quarters_end(world: World, staff: Staff) -> None:
    earning_record(
        by=staff.village_clerk,
        household=world.household_a1,
        cooperative=world.cooperative_a,
        year=2025,
        kind=EarningKind.objects.get(code="dividend"),
        amount=Decimal("600"),
    )
    client = login(staff.village_clerk)
    card = client.get(reverse("household_card", args=[world.household_a1.pk]), {"period": "2025Q4"})
    section = next(s for s in card.context["cards"][0].sections if s.title == "合作社与双绑")
    assert list(section.rows) == [("大村核桃合作社", "土地经营权入股", "2024-03-01", "大姚核桃集团", "600.00")]
    before = client.get(reverse("household_card", args=[world.household_a1.pk]), {"period": str(Quarter(2023, 4))})
    assert "未加入合作社" in before.content.decode()


def test_a_rich_leader_is_linked_to_a_member_of_the_village_by_id_number(
    world: World, staff: Staff, tree: Tree
) -> None:
    head = world.household_a1.members.get(relation="head")
    client = login(staff.township_admin)
    response = client.post(
        reverse("rich_leader_create"),
        {"village": tree.village_a1.pk, "member_id_number": head.id_number, "recognised_year": 2025, "phone": ""},
    )
    assert response.status_code == 302
    leader = RichLeader.objects.get()
    assert (leader.name, leader.member) == (head.name, head)
    other_village = client.post(
        reverse("rich_leader_create"),
        {"village": tree.village_a2.pk, "member_id_number": head.id_number, "recognised_year": 2025},
    )
    assert other_village.context["form"].errors["member_id_number"] == ["本村在户成员中没有该身份证号"]


def test_an_earnings_page_for_a_year_it_does_not_offer_is_404_and_saves_nothing(world: World, staff: Staff) -> None:
    client = login(staff.village_clerk)
    url = reverse("household_earnings", args=[world.household_a1.pk])
    before = Earning.objects.count()
    for year in ("abc", "1999", "²⁰²⁵", "3000"):
        assert client.get(url, {"year": year}).status_code == 404
        assert client.post(f"{url}?year={year}", {}).status_code == 404
    assert Earning.objects.count() == before
    assert client.get(url).status_code == 200
