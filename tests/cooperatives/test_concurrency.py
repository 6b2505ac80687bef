"""Concurrent edits: a page read before someone else saved is refused, never written over their change."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse

from cooperatives.models import (
    Binding,
    Earning,
    EarningKind,
    Entity,
    EntityKind,
    LinkageType,
    Membership,
    RichLeader,
)
from cooperatives.services import (
    NO_RECORD,
    binding_update,
    earning_record,
    entity_register,
    entity_update,
    membership_update,
    rich_leader_register,
    rich_leader_update,
)
from households.services import ConcurrentEditError
from regions.models import User
from tests.conftest import Staff
from tests.cooperatives.world import World, bind, credit_code, entity, join
from tests.factories import PASSWORD, Tree, household
from tests.workbooks.test_failures import backend_waiting_for_lock

STALE = "该记录已被他人修改"


def login(user: User) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_an_entity_edited_meanwhile_refuses_the_older_page(world: World, staff: Staff) -> None:
    url = reverse("entity_edit", args=[world.cooperative_a.pk])
    mine, theirs = login(staff.township_admin), login(staff.county_admin)
    data = mine.get(url).context["form"].initial
    posted = {key: value for key, value in data.items() if value is not None and key != "industries"}
    posted["region"] = world.cooperative_a.region_id
    theirs_form = {**posted, "name": "他人改名合作社", "version": world.cooperative_a.version}
    assert theirs.post(url, theirs_form).status_code == 302
    response = mine.post(url, {**posted, "name": "我的改名", "version": world.cooperative_a.version})
    assert response.status_code == 200
    assert STALE in response.content.decode()
    assert Entity.objects.get(pk=world.cooperative_a.pk).name == "他人改名合作社"


def test_services_refuse_a_stale_version(world: World, staff: Staff, tree: Tree) -> None:
    read_version = world.cooperative_a.version
    entity_update(by=staff.township_admin, entity=world.cooperative_a, expected_version=read_version)
    with pytest.raises(ConcurrentEditError):
        entity_update(by=staff.township_admin, entity=world.cooperative_a, expected_version=read_version)

    binding = Binding.objects.get(pk=world.binding_a.pk)
    binding.order_volume = "核桃 100 吨"
    binding_update(by=staff.township_admin, binding=binding, expected_version=1)
    binding.order_volume = "核桃 200 吨"
    with pytest.raises(ConcurrentEditError):
        binding_update(
            by=staff.township_admin, binding=binding, linkage_types=LinkageType.objects.all(), expected_version=1
        )
    assert Binding.objects.get(pk=binding.pk).order_volume == "核桃 100 吨"

    membership = Membership.objects.get(cooperative=world.cooperative_a, household=world.household_a1)
    membership.shares = Decimal("3000")
    membership_update(by=staff.village_clerk, membership=membership, expected_version=1)
    with pytest.raises(ConcurrentEditError):
        membership_update(by=staff.village_clerk, membership=membership, expected_version=1)

    leader = rich_leader_register(
        by=staff.township_admin, leader=RichLeader(village=tree.village_a1, name="赵德明", recognised_year=2024)
    )
    rich_leader_update(by=staff.township_admin, leader=leader, expected_version=1)
    with pytest.raises(ConcurrentEditError):
        rich_leader_update(by=staff.county_admin, leader=leader, expected_version=1)


def test_leaving_twice_from_the_same_page_is_refused(world: World, staff: Staff) -> None:
    membership = Membership.objects.get(cooperative=world.cooperative_a, household=world.household_a1)
    client = login(staff.village_clerk)
    url = reverse("membership_leave", args=[membership.pk])
    posted = {"version": membership.version, "left_on": "2025-06-30"}
    client.post(url, posted)
    second = client.post(url, {**posted, "left_on": "2025-07-31"}, follow=True)
    assert "已于2025-06-30退社" in second.content.decode()
    membership.refresh_from_db()
    assert membership.left_on == date(2025, 6, 30)
    assert membership.version == 2


def grid_as_posted(client: Client, url: str) -> dict[str, object]:
    """What the earnings page posts when nothing is typed: every cell as the page showed it."""
    form = client.get(url).context["form"]
    return {name: "" if field.initial is None else field.initial for name, field in form.fields.items()}


def test_a_tampered_earnings_page_is_refused_as_outdated(world: World, staff: Staff) -> None:
    url = reverse("household_earnings", args=[world.household_a1.pk]) + "?year=2025"
    client = login(staff.village_clerk)
    posted = {name: value for name, value in grid_as_posted(client, url).items() if not name.startswith("version_")}
    response = client.post(url, posted)
    assert "页面已过期" in response.content.decode()
    assert not Earning.objects.exists()


def test_an_earnings_cell_filled_meanwhile_is_not_overwritten(world: World, staff: Staff) -> None:
    dividend = EarningKind.objects.get(code="dividend")
    url = reverse("household_earnings", args=[world.household_a1.pk]) + "?year=2025"
    key = f"{world.cooperative_a.pk}_{dividend.pk}"
    page = login(staff.village_clerk)
    posted = grid_as_posted(page, url)
    assert posted[f"version_{key}"] == NO_RECORD
    earning_record(
        by=staff.township_admin,
        household=world.household_a1,
        cooperative=world.cooperative_a,
        year=2025,
        kind=dividend,
        amount=Decimal("900"),
        expected_version=NO_RECORD,
    )
    response = page.post(url, {**posted, f"amount_{key}": "700"})
    assert response.status_code == 200
    assert STALE in response.content.decode()
    assert Earning.objects.get(household=world.household_a1, year=2025).amount == Decimal("900")


def test_an_earnings_grid_saves_only_the_cells_the_user_changed(world: World, staff: Staff) -> None:
    kinds = {kind.code: kind for kind in EarningKind.objects.all()}
    url = reverse("household_earnings", args=[world.household_a1.pk]) + "?year=2025"
    client = login(staff.village_clerk)
    posted = grid_as_posted(client, url)
    cell = f"{world.cooperative_a.pk}_{kinds['land_rent'].pk}"
    response = client.post(url, {**posted, f"amount_{cell}": "1200.50"})
    assert response.status_code == 302
    saved = Earning.objects.get(household=world.household_a1)
    assert (saved.kind, saved.amount, saved.year) == (kinds["land_rent"], Decimal("1200.50"), 2025)
    assert saved.history.get().history_user == staff.village_clerk


def _two_at_once(
    monkeypatch: pytest.MonkeyPatch, model: Any, saves: dict[str, Callable[[], object]], check: str = "clean"
) -> dict[str, str]:
    """Run the two saves in two connections, the first held just after its model's `check` passed."""
    first_inside, let_first_finish = threading.Event(), threading.Event()
    real_check = getattr(model, check)

    def check_then_hold(instance: Any, *args: Any, **kwargs: Any) -> None:
        real_check(instance, *args, **kwargs)
        if threading.current_thread().name == "first":
            first_inside.set()  # the first found nothing in its way and has not written yet
            let_first_finish.wait(30)

    monkeypatch.setattr(model, check, check_then_hold)
    outcomes: dict[str, str] = {}

    def save(name: str) -> None:
        try:
            saves[name]()
            outcomes[name] = "saved"
        except ValidationError as error:
            outcomes[name] = "；".join(error.messages)
        finally:
            connection.close()

    first = threading.Thread(target=save, args=("first",), name="first")
    first.start()
    assert first_inside.wait(30)
    second = threading.Thread(target=save, args=("second",), name="second")
    second.start()
    deadline = time.monotonic() + 10
    while not backend_waiting_for_lock("FOR UPDATE") and time.monotonic() < deadline and "second" not in outcomes:
        time.sleep(0.05)
    let_first_finish.set()
    first.join(30)
    second.join(30)
    return outcomes


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections (PostgreSQL leg)")
@pytest.mark.django_db(transaction=True)
def test_two_overlapping_memberships_saved_at_once_leave_one(
    world: World, staff: Staff, tree: Tree, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A double click on 加入合作社, or two clerks at once: the second waits for the first and is refused.
    newcomer = household(staff.village_clerk, tree.village_a1)

    def join_on(day: date) -> Callable[[], object]:
        return lambda: join(staff.village_clerk, world.cooperative_a, newcomer, joined_on=day)

    outcomes = _two_at_once(
        monkeypatch, Membership, {"first": join_on(date(2025, 1, 1)), "second": join_on(date(2025, 6, 1))}
    )
    assert outcomes == {"first": "saved", "second": "该户在此期间已是该合作社成员"}
    assert list(Membership.objects.filter(household=newcomer).values_list("joined_on", flat=True)) == [date(2025, 1, 1)]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections (PostgreSQL leg)")
@pytest.mark.django_db(transaction=True)
def test_two_overlapping_bindings_saved_at_once_leave_one(
    world: World, staff: Staff, monkeypatch: pytest.MonkeyPatch
) -> None:
    cooperative = entity(staff.township_admin, world.cooperative_a.region, name="大村花椒合作社")

    def bind_on(day: date) -> Callable[[], object]:
        return lambda: bind(staff.township_admin, world.enterprise, cooperative, started_on=day)

    outcomes = _two_at_once(
        monkeypatch, Binding, {"first": bind_on(date(2025, 1, 1)), "second": bind_on(date(2025, 6, 1))}
    )
    assert outcomes == {"first": "saved", "second": "该企业与该合作社在此期间已有绑定"}
    assert Binding.objects.filter(cooperative=cooperative).count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections (PostgreSQL leg)")
@pytest.mark.django_db(transaction=True)
def test_one_credit_code_registered_twice_at_once_is_refused_in_plain_words(
    world: World, staff: Staff, tree: Tree, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A double click on 保存 of a new entity: the loser reads the uniqueness message, not a server error.
    code = credit_code()

    def register() -> Entity:
        draft = Entity(kind=EntityKind.COOPERATIVE, name="双击合作社", credit_code=code, region=tree.village_a1)
        return entity_register(by=staff.township_admin, entity=draft)

    outcomes = _two_at_once(monkeypatch, Entity, {"first": register, "second": register}, check="validate_unique")
    assert outcomes == {"second": "saved", "first": "该统一社会信用代码已登记在其他经营主体名下"}
    assert Entity.objects.filter(credit_code=code).count() == 1
