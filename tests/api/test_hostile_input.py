"""What a careless or hostile client sends: every fault is answered in the error format, never a server error."""

from __future__ import annotations

import pytest
from django.test import Client

from api.models import ApiConflict
from households.models import MonitoringCase
from tests.api.world import World
from tests.api.writing import make_writer, send
from tests.factories import Tree

pytestmark = pytest.mark.django_db


def post_raw(secret: str, url: str, body: str) -> object:
    return Client().post(url, body, content_type="application/json", headers={"Authorization": f"Bearer {secret}"})


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/api/v1/households/", "[" * 100_000 + "]" * 100_000),
        ("/api/v1/households/batch/", '{"records": ' + "[" * 50_000 + "]" * 50_000 + "}"),
        ("/api/v1/reconciliations/", '{"county": "532326000000", "entries": ' + "[" * 50_000 + "]" * 50_000 + "}"),
    ],
)
def test_json_nested_too_deep_is_a_400_in_the_error_format(tree: Tree, url: str, body: str) -> None:
    _client, secret = make_writer(tree.county, personal=True)
    response = post_raw(secret, url, body)
    assert response.status_code == 400, response.content[:200]  # type: ignore[attr-defined]
    assert response.json()["code"] == "parse_error"  # type: ignore[attr-defined]


def test_a_nul_in_a_cases_risk_types_or_measures_is_refused_in_the_imports_words(world: World, tree: Tree) -> None:
    _client, secret = make_writer(tree.county, personal=True)
    body = {
        "household": world.household.number,
        "category": "unstable",
        "identified_month": "2025-03",
        "risk_types": ["因病\x00"],
        "measures": ["x\x00"],
    }
    response = send(secret, "POST", "/api/v1/monitoring-cases/", body)
    assert response.status_code == 422, response.content[:300]
    errors = response.json()["errors"]
    assert {error["field"] for error in errors} == {"risk_types", "measures"}
    assert all("空字符" in error["message"] for error in errors)
    assert MonitoringCase.objects.filter(household=world.household).count() == 1
    assert not ApiConflict.objects.exists()
