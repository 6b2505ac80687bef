"""The API's world: one row of every resource in 大姚县 and a household in another county."""

from __future__ import annotations

import pytest

from tests.api.world import World, build_world
from tests.conftest import Staff
from tests.factories import Tree


@pytest.fixture
def world(tree: Tree, staff: Staff) -> World:
    return build_world(tree, staff)
