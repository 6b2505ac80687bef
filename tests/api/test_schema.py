"""The OpenAPI schema is valid, every endpoint answers as it says, and its documentation is served locally."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from api.resources import RESOURCES
from api.writers import WRITERS
from figures import registry
from households.models import Household
from households.services import household_update
from tests.api.world import World, api_get, make_client
from tests.api.writing import household_body, make_writer, member_body, send
from tests.factories import PASSWORD, Tree, id_number

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def assert_matches(spec: dict[str, Any], path: str, status: int, body: Any, method: str = "get") -> None:
    """The body validates against the schema the spec gives for `method` `path` answering `status`."""
    response = spec["paths"][path][method]["responses"][str(status)]
    schema = {**response["content"]["application/json"]["schema"], "components": spec["components"]}
    errors = sorted(OAS30Validator(schema).iter_errors(body), key=str)
    assert not errors, f"{path} {status}: {errors[0]}"


def test_the_schema_is_a_valid_openapi_document(spec: dict[str, Any]) -> None:
    validate(spec)
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": spec["components"]["securitySchemes"]["bearerAuth"]["description"],
    }
    for name in RESOURCES:
        assert f"/api/v1/{name}/" in spec["paths"] and f"/api/v1/{name}/{{id}}/" in spec["paths"]
        assert f"/api/v1/{name}/changes/" in spec["paths"]


def test_every_operation_is_summarised_and_described_in_chinese(spec: dict[str, Any]) -> None:
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for text in (operation.get("summary", ""), operation.get("description", "")):
                assert re.search(r"[\u4e00-\u9fff]", text), f"{method} {path}"
            for parameter in operation.get("parameters", []):
                assert re.search(r"[\u4e00-\u9fff]", parameter.get("description", "")), f"{path} {parameter['name']}"


def test_every_field_is_described_in_chinese(spec: dict[str, Any]) -> None:
    for name, resource in RESOURCES.items():
        component = spec["components"]["schemas"][resource.serializer.__name__.removesuffix("Serializer")]
        for field, schema in component["properties"].items():
            text = schema.get("description") or (schema.get("allOf") or [{}])[0].get("description", "")
            assert re.search(r"[\u4e00-\u9fff]", text or ""), f"{name}.{field} has no Chinese description"


@pytest.mark.parametrize("personal", [False, True])
def test_every_resources_list_and_detail_answer_as_the_schema_says(
    spec: dict[str, Any], world: World, tree: Tree, personal: bool
) -> None:
    _client, secret = make_client(tree.county, personal=personal)
    for name in RESOURCES:
        listed = api_get(secret, f"/api/v1/{name}/")
        assert listed.status_code == 200
        body = listed.json()
        assert body["results"], f"the world has no {name}: the check would prove nothing"
        assert_matches(spec, f"/api/v1/{name}/", 200, body)
        detail = api_get(secret, f"/api/v1/{name}/{body['results'][0]['id']}/")
        assert detail.status_code == 200 and detail["ETag"]
        assert_matches(spec, f"/api/v1/{name}/{{id}}/", 200, detail.json())


def test_error_answers_match_the_error_schema(spec: dict[str, Any], world: World, tree: Tree) -> None:
    _client, secret = make_client(tree.county, readable=["households"], rate="1/min")
    path = "/api/v1/households/{id}/"
    assert_matches(spec, path, 404, api_get(secret, f"/api/v1/households/{world.other_household.pk}/").json())
    assert_matches(spec, path, 429, api_get(secret, f"/api/v1/households/{world.household.pk}/").json())
    assert_matches(spec, path, 401, api_get(None, f"/api/v1/households/{world.household.pk}/").json())
    _other, other_secret = make_client(tree.county, readable=[])
    assert_matches(spec, "/api/v1/households/", 403, api_get(other_secret, "/api/v1/households/").json())
    assert_matches(spec, "/api/v1/households/", 400, api_get(other_secret, "/api/v1/households/?after=x").json())


def test_the_schema_is_served_to_a_token_and_to_a_logged_in_admin_only(staff, tree: Tree) -> None:
    _client, secret = make_client(tree.county)
    assert api_get(secret, "/api/v1/schema/").status_code == 200
    assert Client().get("/api/v1/schema/").status_code == 401
    assert Client().get("/api/v1/docs/").status_code == 401
    browser = Client()
    assert browser.login(username="xianadmin", password=PASSWORD)
    assert browser.get("/api/v1/schema/").status_code == 200


def test_the_documentation_page_loads_nothing_from_outside_the_app(staff) -> None:
    browser = Client()
    assert browser.login(username="xianadmin", password=PASSWORD)
    response = browser.get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html), "the page refers to another host"
    assets = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    assert any("swagger-ui" in asset for asset in assets)
    for asset in assets:
        assert asset.startswith("/"), asset
        assert browser.get(asset).status_code == 200, asset
    # Nor does the inline script that starts Swagger UI (it fetches the schema from this app).
    assert not re.search(r"https?://(?!testserver)", html) and not re.search(r"cdn|unpkg|jsdelivr", html, re.I)


def test_every_write_endpoint_is_documented_with_its_headers_and_errors(spec: dict[str, Any]) -> None:
    for name in WRITERS:
        listing, detail = spec["paths"][f"/api/v1/{name}/"], spec["paths"][f"/api/v1/{name}/{{id}}/"]
        batch = spec["paths"][f"/api/v1/{name}/batch/"]["post"]
        assert {"201", "200", "409", "412", "428", "422"} <= set(listing["post"]["responses"])
        assert (
            {"200", "409", "412", "428", "422", "404"}
            <= set(detail["put"]["responses"])
            <= set(detail["patch"]["responses"])
        )
        assert {"200", "413", "422"} <= set(batch["responses"])
        headers = {p["name"]: p for p in detail["put"]["parameters"] if p["in"] == "header"}
        assert headers["If-Match"]["required"] is True
        assert "Idempotency-Key" in {p["name"] for p in listing["post"]["parameters"] if p["in"] == "header"}
        for operation in (listing["post"], detail["put"], detail["patch"], batch):
            assert re.search(r"[\u4e00-\u9fff]", operation["description"]), f"{name}: no Chinese description"


def test_every_write_answers_as_the_schema_says(spec: dict[str, Any], world: World, tree: Tree, staff) -> None:
    _client, secret = make_writer(tree.province, personal=True)
    hh = "/api/v1/households/"
    head = id_number("19700101")
    body = household_body("S-1", tree.village_a1, [member_body(head)])
    created = send(secret, "POST", hh, body, **{"Idempotency-Key": "s-1"})
    assert created.status_code == 201
    assert_matches(spec, hh, 201, created.json(), "post")
    assert_matches(spec, hh, 201, send(secret, "POST", hh, body, **{"Idempotency-Key": "s-1"}).json(), "post")
    assert_matches(spec, hh, 200, send(secret, "POST", hh, body).json(), "post")
    assert_matches(spec, hh, 428, send(secret, "POST", hh, {**body, "address": "甲"}).json(), "post")
    assert_matches(spec, hh, 422, send(secret, "POST", hh, {**body, "household_type": "x"}).json(), "post")
    url, path = created["Location"], "/api/v1/households/{id}/"
    patched = send(secret, "PATCH", url, {"address": "乙"}, **{"If-Match": created["ETag"]})
    assert_matches(spec, path, 200, patched.json(), "patch")
    assert_matches(
        spec, path, 412, send(secret, "PATCH", url, {"address": "丙"}, **{"If-Match": created["ETag"]}).json(), "patch"
    )
    assert_matches(spec, path, 428, send(secret, "PUT", url, body).json(), "put")
    put = send(secret, "PUT", url, body, **{"If-Match": patched["ETag"]})
    assert put.status_code == 200
    assert_matches(spec, path, 200, put.json(), "put")
    assert_matches(
        spec,
        path,
        404,
        send(secret, "PUT", f"{hh}{world.other_household.pk}/", body, **{"If-Match": '"1"'}).json(),
        "put",
    )
    seen = send(secret, "GET", f"{hh}{world.household.pk}/")["ETag"]
    fresh = Household.objects.get(pk=world.household.pk)
    fresh.address = "县里改的"
    household_update(by=staff.village_clerk, household=fresh, expected_version=fresh.version)
    conflict = send(secret, "PATCH", f"{hh}{world.household.pk}/", {"address": "省里改的"}, **{"If-Match": seen})
    assert conflict.status_code == 409
    assert_matches(spec, path, 409, conflict.json(), "patch")
    batch = send(
        secret,
        "POST",
        f"{hh}batch/",
        {"records": [body, {**body, "number": "S-2", "members": [member_body(id_number("19700202"))]}]},
    )
    assert batch.status_code == 200
    assert_matches(spec, "/api/v1/households/batch/", 200, batch.json(), "post")
    assert_matches(
        spec, "/api/v1/households/batch/", 422, send(secret, "POST", f"{hh}batch/", {"records": [{}]}).json(), "post"
    )
    assert_matches(
        spec,
        "/api/v1/households/batch/",
        413,
        send(secret, "POST", f"{hh}batch/", {"records": [{}] * 5001}).json(),
        "post",
    )
    for name, payload in (
        ("income-records", {"household": world.household.number, "year": 2025, "quarter": 3, "wages_other": "10"}),
        (
            "monitoring-cases",
            {"household": "S-2", "category": "unstable", "identified_month": "2025-02", "risk_types": ["因病"]},
        ),
        ("thresholds", {"region": tree.province.code, "year": 2030, "amount": "9999", "source": "测试文件"}),
        (
            "targets",
            {
                "indicator": registry.indicators()[0].code,
                "region": tree.province.code,
                "year": 2030,
                "comparator": "gte",
                "value": "5",
            },
        ),
    ):
        answer = send(secret, "POST", f"/api/v1/{name}/", payload)
        assert answer.status_code == 201, (name, answer.content)
        assert_matches(spec, f"/api/v1/{name}/", 201, answer.json(), "post")
        changed = send(secret, "PATCH", answer["Location"], {}, **{"If-Match": answer["ETag"]})
        assert changed.status_code == 200, (name, changed.content)
        assert_matches(spec, f"/api/v1/{name}/{{id}}/", 200, changed.json(), "patch")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("personal", [False, True])
def test_every_resources_feed_answers_as_the_schema_says(
    spec: dict[str, Any], tree: Tree, staff: Any, personal: bool
) -> None:
    from tests.api.world import build_world

    world = build_world(tree, staff)
    _client, secret = make_client(tree.county, personal=personal)
    for name in RESOURCES:
        path = f"/api/v1/{name}/changes/"
        start = api_get(secret, path)
        assert_matches(spec, path, 200, start.json())
        body = api_get(secret, f"{path}?since=0.0").json()
        assert body["changes"], f"the world has no {name}: the check would prove nothing"
        assert_matches(spec, path, 200, body)
    from households.models import IncomeRecord

    IncomeRecord.history.filter(id=world.income.pk).delete()
    IncomeRecord.objects.filter(pk=world.income.pk).delete()
    tombstone = api_get(secret, f"/api/v1/income-records/changes/?since={start.json()['cursor']}").json()
    assert {"id": world.income.pk, "op": "delete"} in tombstone["changes"]
    assert_matches(spec, "/api/v1/income-records/changes/", 200, tombstone)
    assert_matches(
        spec, "/api/v1/households/changes/", 400, api_get(secret, "/api/v1/households/changes/?since=x").json()
    )


def test_reconciliation_answers_match_the_schema(spec: dict[str, Any], world: World, tree: Tree) -> None:
    import json

    from django.test import Client

    _client, secret = make_client(tree.county, personal=True)
    headers = {"Authorization": f"Bearer {secret}"}

    def post(url: str, body: Any) -> Any:
        return Client().post(url, json.dumps(body), content_type="application/json", headers=headers)

    entry = {"kind": "household", "key": "X1", "checksum": "a" * 64}
    created = post("/api/v1/reconciliations/", {"county": tree.county.code, "entries": [entry]})
    assert_matches(spec, "/api/v1/reconciliations/", 201, created.json(), "post")
    pk = created.json()["id"]
    refused = post(f"/api/v1/reconciliations/{pk}/entries/", {"entries": [entry]})
    assert refused.status_code == 400
    assert_matches(spec, "/api/v1/reconciliations/{id}/entries/", 400, refused.json(), "post")
    assert_matches(
        spec,
        "/api/v1/reconciliations/{id}/entries/",
        200,
        post(f"/api/v1/reconciliations/{pk}/entries/", {"entries": []}).json(),
        "post",
    )
    finished = post(f"/api/v1/reconciliations/{pk}/finish/", {})
    assert_matches(spec, "/api/v1/reconciliations/{id}/finish/", 200, finished.json(), "post")
    assert_matches(spec, "/api/v1/reconciliations/{id}/", 200, api_get(secret, f"/api/v1/reconciliations/{pk}/").json())
    differences = api_get(secret, f"/api/v1/reconciliations/{pk}/differences/").json()
    assert len(differences["results"]) == 3  # X1 missing in the county; the household and its member not posted
    assert_matches(spec, "/api/v1/reconciliations/{id}/differences/", 200, differences)
    assert_matches(
        spec, "/api/v1/reconciliations/{id}/", 404, api_get(secret, "/api/v1/reconciliations/999999/").json()
    )
