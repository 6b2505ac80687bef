"""Batches (all-or-nothing, row errors, 5,000 at most), idempotency keys, and the import's words for the same faults."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connection, transaction

from api.conflicts import conflict_resolve
from api.models import ApiConflict, IdempotencyKey
from households.excel.income import IncomePlanner
from households.excel.roster import RosterPlanner
from households.models import Household, IncomeRecord
from households.services import MemberData, household_register
from tests.api.world import World
from tests.api.writing import household_body, make_writer, member_body, send
from tests.conftest import Staff
from tests.factories import Tree, id_number
from workbooks.reader import Table
from workbooks.staging import Stager

pytestmark = pytest.mark.django_db

HOUSEHOLDS = "/api/v1/households/"


def test_a_batch_with_one_bad_row_writes_nothing_and_names_every_bad_row(tree: Tree, staff: Staff) -> None:
    _client, secret = make_writer(tree.county)
    rows = [
        household_body("B-1", tree.village_a1, [member_body(id_number("19700101"))]),
        household_body("B-2", tree.village_a1, [member_body("110101199003070000")]),
        household_body("B-3", tree.village_a1, [member_body(id_number("19700303"))], household_type="富裕户"),
    ]
    response = send(secret, "POST", f"{HOUSEHOLDS}batch/", {"records": rows})
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert {(e["row"], e["field"]) for e in errors} == {(2, "members[1].id_number"), (3, "household_type")}
    assert all(set(e) == {"row", "field", "message"} for e in errors)
    assert not Household.objects.filter(number__startswith="B-").exists()
    rows[1]["members"][0]["id_number"] = id_number("19700202")
    rows[2]["household_type"] = "一般农户"
    rows[2].pop("lifted_year")
    done = send(secret, "POST", f"{HOUSEHOLDS}batch/", {"records": rows})
    assert done.status_code == 200, done.content
    assert done.json()["created"] == 3 and Household.objects.filter(number__startswith="B-").count() == 3


def test_more_than_5000_records_are_refused_in_chinese(tree: Tree) -> None:
    _client, secret = make_writer(tree.county)
    response = send(secret, "POST", "/api/v1/income-records/batch/", {"records": [{}] * 5001})
    assert response.status_code == 413
    assert response.json()["message"] == "一次最多提交 5,000 条记录（本次 5,001 条），请分批提交"


def test_the_same_key_and_body_get_the_same_answer_and_another_body_is_422(tree: Tree) -> None:
    client, secret = make_writer(tree.county, personal=True)
    body = household_body("I-1", tree.village_a1, [member_body(id_number("19700101"))])
    first = send(secret, "POST", HOUSEHOLDS, body, **{"Idempotency-Key": "key-1"})
    again = send(secret, "POST", HOUSEHOLDS, body, **{"Idempotency-Key": "key-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["ETag"] == first["ETag"] and again["Location"] == first["Location"]
    assert again["Idempotent-Replayed"] == "true" and Household.objects.filter(number="I-1").count() == 1
    other = send(secret, "POST", HOUSEHOLDS, {**body, "address": "别的"}, **{"Idempotency-Key": "key-1"})
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    # An error answer is kept too, status included; another client's same key is its own.
    bad = {**body, "number": "I-2", "household_type": "x"}
    assert send(secret, "POST", HOUSEHOLDS, bad, **{"Idempotency-Key": "key-2"}).status_code == 422
    assert send(secret, "POST", HOUSEHOLDS, bad, **{"Idempotency-Key": "key-2"})["Idempotent-Replayed"] == "true"
    _other, other_secret = make_writer(tree.county)
    body3 = household_body("I-3", tree.village_a1, [member_body(id_number("19700505"))])
    assert send(other_secret, "POST", HOUSEHOLDS, body3, **{"Idempotency-Key": "key-1"}).status_code == 201
    assert IdempotencyKey.objects.filter(client=client).count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_requests_with_one_key_apply_once(tree: Tree, staff: Staff) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serializes writers: the race needs PostgreSQL")
    _client, secret = make_writer(tree.county, personal=True)
    body = household_body("C-1", tree.village_a1, [member_body(id_number("19700101"))])
    body["members"] += [member_body(id_number(f"2000010{n}"), "son", f"子{n}") for n in range(1, 8)]
    answers: list[Any] = []
    start = threading.Barrier(2)

    def post() -> None:
        try:
            start.wait()
            answers.append(send(secret, "POST", HOUSEHOLDS, body, **{"Idempotency-Key": "same"}))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert [a.status_code for a in answers] == [201, 201]
    assert len([a for a in answers if a.has_header("Idempotent-Replayed")]) == 1
    assert Household.objects.filter(number="C-1").count() == 1
    assert Household.objects.get(number="C-1").history.count() == 1


def test_resolving_with_a_stale_conflict_version_is_refused(world: World, tree: Tree, staff: Staff) -> None:
    from django.core.exceptions import ValidationError

    from tests.api.test_conflicts import queued_conflict

    conflict = queued_conflict(world, tree, staff)
    record = Household.objects.get(pk=world.household.pk)
    choices = {field["key"]: "theirs" for field in conflict.fields}
    conflict_resolve(
        conflict=conflict, user=staff.county_admin, choices=choices, conflict_version=1, record_version=record.version
    )
    with pytest.raises(ValidationError, match="已由他人处理"):
        conflict_resolve(
            conflict=conflict,
            user=staff.township_admin,
            choices=choices,
            conflict_version=1,
            record_version=record.version + 1,
        )
    assert ApiConflict.objects.get(pk=conflict.pk).resolved_by == staff.county_admin


# --- the same fault, the same words --------------------------------------------------------------------


def roster_messages(staff: Staff, tree: Tree, cells: dict[str, Any]) -> list[tuple[str, str]]:
    keys = [
        "region_code",
        "household_number",
        "household_type",
        "lifted_year",
        "phone",
        "member_name",
        "id_number",
        "relation",
        "labour",
    ]
    base = {
        "region_code": tree.village_a1.code,
        "household_number": "X-1",
        "household_type": "脱贫户",
        "lifted_year": 2019.0,
        "phone": "",
        "member_name": "王五",
        "id_number": id_number("19700101"),
        "relation": "户主",
        "labour": "普通劳动力",
    }
    row = [{**base, **cells}[key] for key in keys]
    table = Table(
        sheet="花名册",
        header_row=1,
        column_map={k: n for n, k in enumerate(keys, 1)},
        ignored_columns=[],
        row_numbers=[2],
        data=[[v] for v in row],
    )
    plan = RosterPlanner(user=staff.county_admin, sheet="花名册", stager=Stager(batch_id=0)).run(table)
    return [(e.column, e.message) for e in plan.errors]


@pytest.mark.parametrize(
    ("cells", "payload", "field"),
    [
        ({"id_number": "11010119900307001X"}, {"members": [member_body("11010119900307001X")]}, "members[1].id_number"),
        ({"household_type": "富裕户"}, {"household_type": "富裕户"}, "household_type"),
        ({"lifted_year": ""}, {"lifted_year": None}, "lifted_year"),
        ({"phone": "138-abc"}, {"phone": "138-abc"}, "phone"),
        ({"region_code": "532399999999"}, {"village": "532399999999"}, "village"),
    ],
)
def test_a_household_fault_reads_as_the_roster_import_words_it(
    tree: Tree, staff: Staff, cells: dict, payload: dict, field: str
) -> None:
    imported = roster_messages(staff, tree, cells)
    assert len(imported) == 1, imported
    _client, secret = make_writer(tree.county, personal=True)
    body = {**household_body("X-1", tree.village_a1, [member_body(id_number("19700101"))]), **payload}
    response = send(secret, "POST", HOUSEHOLDS, body)
    assert response.status_code == 422, response.content
    assert [(e["field"], e["message"]) for e in response.json()["errors"]] == [(field, imported[0][1])]


@pytest.mark.parametrize(
    ("cells", "field"),
    [
        ({"wages_migrant_work": "abc"}, "wages_migrant_work"),
        ({"operating_costs": -5}, "operating_costs"),
        ({"quarter": 7}, "quarter"),
    ],
)
def test_an_income_fault_reads_as_the_income_import_words_it(
    world: World, tree: Tree, staff: Staff, cells: dict, field: str
) -> None:
    keys = ["household_number", "year", "quarter", "wages_migrant_work", "operating_costs"]
    base = {
        "household_number": world.household.number,
        "year": 2025,
        "quarter": 2,
        "wages_migrant_work": "100",
        "operating_costs": "0",
    }
    row = {**base, **cells}
    table = Table(
        sheet="收入表",
        header_row=1,
        column_map={k: n for n, k in enumerate(keys, 1)},
        ignored_columns=[],
        row_numbers=[2],
        data=[[row[k]] for k in keys],
    )
    plan = IncomePlanner(user=staff.county_admin, sheet="收入表", stager=Stager(batch_id=0)).run(table)
    imported = [e.message for e in plan.errors]
    assert len(imported) == 1, imported
    _client, secret = make_writer(tree.county)
    payload = {"household": world.household.number, "year": 2025, "quarter": 2, "wages_migrant_work": "100", **cells}
    response = send(secret, "POST", "/api/v1/income-records/", payload)
    assert response.status_code == 422, response.content
    assert [(e["field"], e["message"]) for e in response.json()["errors"]] == [(field, imported[0])]
    assert not IncomeRecord.objects.filter(household=world.household, year=2025, quarter=2).exists()


def _waiting_on_lock(table: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND query ILIKE %s",
            [f'%INSERT INTO "{table}"%'],
        )
        return bool(cursor.fetchone()[0])


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("batch", [False, True], ids=["single", "batch"])
def test_a_create_racing_another_of_the_same_household_answers_as_a_retry_would(
    tree: Tree, staff: Staff, batch: bool
) -> None:
    """Without an Idempotency-Key, the same new household posted twice at once: the second insert waits on
    the unique index until the first commits, then finds the household and answers 200 unchanged."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serializes writers: the race needs PostgreSQL")
    _client, secret = make_writer(tree.county, personal=True)
    head = id_number("19700101")
    body = household_body("R-1", tree.village_a1, [member_body(head)])
    inserted, release = threading.Event(), threading.Event()
    answers: list[Any] = []

    def county_registers_it_first() -> None:
        try:
            with transaction.atomic():
                draft = Household(number="R-1", village=tree.village_a1, household_type="lifted", lifted_year=2019)
                household_register(
                    by=staff.county_admin,
                    household=draft,
                    members=[MemberData(name="王五", id_number=head, relation="head", labour="ordinary")],
                )
                inserted.set()
                release.wait(30)
        finally:
            connection.close()

    def province_posts_it() -> None:
        try:
            if batch:
                answers.append(send(secret, "POST", f"{HOUSEHOLDS}batch/", {"records": [body]}))
            else:
                answers.append(send(secret, "POST", HOUSEHOLDS, body))
        finally:
            connection.close()

    first = threading.Thread(target=county_registers_it_first)
    first.start()
    assert inserted.wait(30)
    second = threading.Thread(target=province_posts_it)
    second.start()
    deadline = time.monotonic() + 30
    while not _waiting_on_lock("households_household") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _waiting_on_lock("households_household"), "the API's insert never waited on the unique index"
    release.set()
    first.join(30)
    second.join(60)

    assert len(answers) == 1 and answers[0].status_code == 200, answers and answers[0].content[:300]
    if batch:
        assert answers[0].json()["results"][0]["status"] == "unchanged"
    assert Household.objects.filter(number="R-1").count() == 1
