"""The read endpoints build records from values() rows: every resource's records equal what its DRF serializer
gives for the same rows, for a client that may see personal data and for one that may not."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from api import fast
from api.principal import ApiPrincipal
from api.resources import RESOURCES
from tests.api.world import World, make_client
from tests.factories import Tree

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("personal", [False, True])
def test_every_resources_fast_records_equal_its_serializers(world: World, tree: Tree, personal: bool) -> None:
    client, _secret = make_client(tree.county, personal=personal)
    principal = ApiPrincipal(client)
    for name, resource in RESOURCES.items():
        rows = resource.rows(principal).order_by("pk")
        expected = resource.serializer(rows, many=True, context={"request": SimpleNamespace(user=principal)}).data
        assert expected, f"the world has no {name}: the check would prove nothing"
        assert fast.records(resource, rows, principal) == expected, name
