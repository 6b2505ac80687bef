"""Helpers of the write tests: a client that may write, and JSON requests with its token."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from api.models import ApiClient
from api.resources import RESOURCES
from api.services import api_client_create
from api.writers import WRITERS
from regions.models import Region


def make_writer(
    region: Region, *, writable: list[str] | None = None, personal: bool = False, name: str | None = None
) -> tuple[ApiClient, str]:
    issued = api_client_create(
        name=name or f"省平台写{ApiClient.objects.count() + 1}",
        region=region,
        readable=list(RESOURCES),
        writable=list(WRITERS) if writable is None else writable,
        may_view_personal_data=personal,
        throttle_rate="100000/min",
        by=None,
    )
    return issued.token.client, issued.secret


def send(secret: str, method: str, url: str, body: Any = None, **headers: str) -> Any:
    """A JSON request with the client's token; extra headers by their HTTP names (If-Match=…)."""
    http = {"Authorization": f"Bearer {secret}", **{name.replace("_", "-"): value for name, value in headers.items()}}
    return getattr(Client(), method.lower())(
        url, data=json.dumps(body) if body is not None else None, content_type="application/json", headers=http
    )


def household_body(number: str, village: Region, members: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    return {
        "number": number,
        "village": village.code,
        "household_type": "lifted",
        "lifted_year": 2019,
        "members": members,
        **fields,
    }


def member_body(id_number: str, relation: str = "head", name: str = "王五", **fields: Any) -> dict[str, Any]:
    return {"id_number": id_number, "name": name, "relation": relation, "labour": "ordinary", **fields}
