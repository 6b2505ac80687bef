"""项目资产 (what a project formed, who owns it, who looks after it) and 村情况 (a village's
attributes in a year: 脱贫村, 党建综合体)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from funds.models import Asset, Project, VillageProfile
from funds.services.common import (
    atomic_write,
    claim_next_version,
    register_row_delete,
    register_row_save,
    require_permission,
    require_region_in_scope,
    require_row_in_scope,
)
from households.models import Household
from regions.models import Region


def _require_owner_in_scope(by: Any, village: Region | None, household: Household | None) -> None:
    if village is not None:
        require_region_in_scope(by, village)
    if household is not None and not Household.objects.visible_to(by).filter(pk=household.pk).exists():
        raise PermissionDenied(_("该农户不在您的管辖范围内"))


def _codes(asset: Asset) -> list[str]:
    codes = [asset.project.region.code]
    if asset.owner_village is not None:
        codes.append(asset.owner_village.code)
    if asset.owner_household is not None:
        codes.append(asset.owner_household.village.code)
    return codes


@atomic_write
def asset_create(
    *,
    by: Any,
    project: Project,
    kind: str,
    name: str,
    value: Decimal,
    owner_village: Region | None = None,
    owner_household: Household | None = None,
    custodian: str = "",
) -> Asset:
    """Record an asset a project formed (经营性 / 公益性 owned by a village, 到户类 by a household)."""
    require_permission(by, "funds.add_asset")
    require_row_in_scope(by, project)
    _require_owner_in_scope(by, owner_village, owner_household)
    asset = Asset(
        project=project,
        kind=kind,
        name=name.strip(),
        value=value,
        owner_village=owner_village,
        owner_household=owner_household,
        custodian=custodian.strip(),
    )
    register_row_save(asset, by=by, codes=_codes(asset))
    return asset


@atomic_write
def asset_update(
    *,
    by: Any,
    asset: Asset,
    expected_version: int,
    kind: str,
    name: str,
    value: Decimal,
    owner_village: Region | None,
    owner_household: Household | None,
    custodian: str,
) -> Asset:
    require_permission(by, "funds.change_asset")
    require_row_in_scope(by, asset)
    _require_owner_in_scope(by, owner_village, owner_household)
    claim_next_version(asset, expected_version)
    old_codes = _codes(asset)
    asset.kind, asset.name, asset.value, asset.custodian = kind, name.strip(), value, custodian.strip()
    asset.owner_village, asset.owner_household = owner_village, owner_household
    register_row_save(asset, by=by, codes=[*old_codes, *_codes(asset)])
    return asset


@atomic_write
def asset_delete(*, by: Any, asset: Asset, expected_version: int) -> None:
    require_permission(by, "funds.delete_asset")
    require_row_in_scope(by, asset)
    register_row_delete(asset, by=by, codes=_codes(asset), expected_version=expected_version)


# 村情况 -------------------------------------------------------------------------------------------


@atomic_write
def village_profile_save(
    *,
    by: Any,
    village: Region,
    year: int,
    was_poverty_village: bool,
    has_party_complex: bool,
    expected_version: int | None = None,
) -> VillageProfile:
    """Set a village's attributes of a year (creating the year's row the first time)."""
    require_region_in_scope(by, village)
    profile = VillageProfile.objects.filter(village=village, year=year).first()
    if profile is None:
        require_permission(by, "funds.add_villageprofile")
        profile = VillageProfile(village=village, year=year)
    else:
        require_permission(by, "funds.change_villageprofile")
        if expected_version is None:
            raise ValidationError(
                {
                    "year": _("%(village)s%(year)d年的村情况已填写，请修改原记录")
                    % {"village": village.name, "year": year}
                }
            )
        claim_next_version(profile, expected_version)
    profile.was_poverty_village, profile.has_party_complex = was_poverty_village, has_party_complex
    duplicate = ValidationError(
        {"year": _("%(village)s%(year)d年的村情况刚被他人填写，请刷新后重试") % {"village": village.name, "year": year}}
    )
    register_row_save(profile, by=by, codes=[village.code], duplicate=duplicate)
    return profile
