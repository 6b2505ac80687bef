"""The API's JSON is written by orjson: byte for byte what DRF's JSONRenderer writes for the same data."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer

from api.renderers import FastJSONRenderer
from api.resources import RESOURCES
from tests.api.world import World, api_get, make_client
from tests.factories import Tree

pytestmark = pytest.mark.django_db


def drf_bytes(data: object, accepted_media_type: str | None = None) -> bytes:
    return JSONRenderer().render(data, accepted_media_type)


@pytest.mark.parametrize("personal", [False, True])
def test_every_resources_list_detail_and_feed_are_the_bytes_drfs_renderer_writes(
    world: World, tree: Tree, personal: bool
) -> None:
    _client, secret = make_client(tree.county, personal=personal)
    for name in RESOURCES:
        listed = api_get(secret, f"/api/v1/{name}/?limit=5000")
        assert listed.status_code == 200, listed.content
        assert listed.data["results"], f"the world has no {name}: the check would prove nothing"
        assert listed.content == drf_bytes(listed.data), name
        first = listed.data["results"][0]["id"]
        for url in (f"/api/v1/{name}/{first}/", f"/api/v1/{name}/changes/"):
            response = api_get(secret, url)
            assert response.status_code == 200, response.content
            assert response.content == drf_bytes(response.data), url


def test_error_bodies_are_the_bytes_drfs_renderer_writes(world: World, tree: Tree) -> None:
    _client, secret = make_client(tree.county)
    for token, url, status in [
        (None, "/api/v1/households/", 401),
        (secret, "/api/v1/households/?limit=abc", 400),
        (secret, f"/api/v1/households/{world.other_household.pk}/", 404),
    ]:
        response = api_get(token, url)
        assert response.status_code == status
        assert response.content == drf_bytes(response.data)
        assert "message" in response.json()


def test_values_drfs_encoder_writes_come_out_as_it_writes_them() -> None:
    data = {
        "utc": datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
        "beijing": datetime(2025, 1, 2, 11, 4, 5, tzinfo=ZoneInfo("Asia/Shanghai")),
        "naive": datetime(2025, 1, 2, 3, 4, 5),
        "day": date(2025, 3, 31),
        "clock": time(8, 30, 15),
        "span": timedelta(hours=1, seconds=3),
        "amount": Decimal("1234.50"),
        "lazy": gettext_lazy("记录不存在"),
        "key": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "text": '大姚县 "引号" \\ \n\t\x00\x1f\x7f \u2028\u2029 😀',
        "nested": ({"a": [1, True, None, -0, 10**18]}, [], {}),
        "float": 0.1,
    }
    written = FastJSONRenderer().render(data)
    assert written == drf_bytes(data)
    assert b"\\u2028" in written and "大姚县".encode() in written


@pytest.mark.parametrize("data", [{1: "a key that is not text"}, {"big": 2**70}], ids=["int key", "beyond 64 bits"])
def test_what_orjson_refuses_is_left_to_drfs_renderer(data: dict[object, object]) -> None:
    assert FastJSONRenderer().render(data) == drf_bytes(data)


def test_pretty_printing_on_request_is_drfs() -> None:
    data = {"名称": "大姚县", "amounts": ["1.00", "2.50"]}
    written = FastJSONRenderer().render(data, "application/json; indent=4")
    assert written == drf_bytes(data, "application/json; indent=4")
    assert b"\n    " in written
