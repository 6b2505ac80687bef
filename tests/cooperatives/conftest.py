from __future__ import annotations

import pytest

from tests.conftest import Staff
from tests.cooperatives.world import Foreign, World, build_foreign, build_world
from tests.factories import Tree


@pytest.fixture
def world(tree: Tree, staff: Staff) -> World:
    return build_world(tree, staff)


@pytest.fixture
def foreign(tree: Tree, staff: Staff, world: World) -> Foreign:
    return build_foreign(tree, staff, world)
