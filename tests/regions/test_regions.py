"""Region codes, the hierarchy, and the scoping every query goes through."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from regions.models import Level, Region, Role, regions_visible_to
from regions.services import region_create
from tests.conftest import Staff
from tests.factories import Tree, make_user


@pytest.mark.parametrize(
    ("code", "level", "message"),
    [
        ("53232600000", Level.COUNTY, "12位数字"),
        ("5323260000AB", Level.COUNTY, "12位数字"),
        ("532326100001", Level.TOWNSHIP, "之后应全部为0"),
        ("532326000000", Level.TOWNSHIP, "不能全为0"),
    ],
)
def test_malformed_region_codes_are_refused(tree: Tree, code: str, level: int, message: str) -> None:
    parent = tree.county if level == Level.TOWNSHIP else tree.prefecture
    with pytest.raises(ValidationError, match=message):
        region_create(code=code, name="测试", level=level, parent=parent)


def test_a_child_code_must_start_with_its_parents_prefix(tree: Tree) -> None:
    with pytest.raises(ValidationError, match="开头"):
        region_create(code="532327100000", name="别县的镇", level=Level.TOWNSHIP, parent=tree.county)


def test_subtree_follows_the_code_prefix(tree: Tree) -> None:
    township = set(Region.objects.subtree(tree.township_a).values_list("name", flat=True))
    assert township == {"金碧镇", "大村村", "石丫村"}
    assert Region.objects.subtree(tree.county).count() == 6


def test_ancestors_run_from_the_region_up_to_the_province(tree: Tree) -> None:
    names = list(Region.objects.ancestors_of(tree.village_a1).values_list("name", flat=True))
    assert names == ["大村村", "金碧镇", "大姚县", "楚雄彝族自治州", "云南省"]
    assert tree.village_a1.full_name() == "大姚县金碧镇大村村"


def test_each_user_sees_exactly_their_subtree(tree: Tree, staff: Staff) -> None:
    assert set(regions_visible_to(staff.village_clerk)) == {tree.village_a1}
    assert tree.village_b1 not in regions_visible_to(staff.township_admin)
    assert tree.village_b1 in regions_visible_to(staff.county_viewer)
    assert regions_visible_to(staff.superuser).count() == Region.objects.count()


def test_a_role_must_sit_at_its_level(tree: Tree) -> None:
    with pytest.raises(ValidationError, match="村级填报员"):
        make_user("misplaced", Role.VILLAGE_CLERK, tree.township_a)


def test_roles_map_to_groups_with_permissions(tree: Tree, staff: Staff) -> None:
    assert staff.village_clerk.has_perm("households.change_household")
    assert staff.village_clerk.has_perm("households.view_personal_data")
    assert not staff.county_viewer.has_perm("households.change_household")
    assert not staff.county_viewer.has_perm("households.view_personal_data")
    assert staff.county_admin.has_perm("households.change_incomerecord")
    assert [g.name for g in staff.township_admin.groups.all()] == ["乡镇管理员"]


def test_changing_a_role_moves_the_user_between_groups(tree: Tree, staff: Staff) -> None:
    user = staff.county_viewer
    user.role = Role.COUNTY_ADMIN
    user.save()
    assert [g.name for g in user.groups.all()] == ["县级管理员"]


def test_an_inactive_user_sees_nothing(tree: Tree, staff: Staff) -> None:
    staff.county_viewer.is_active = False
    assert staff.county_viewer.scope_prefix() is None
