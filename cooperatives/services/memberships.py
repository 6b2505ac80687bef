"""Writes of 合作社绑定农户 (memberships) and of what a household earned from its cooperatives.

A clerk changes them for their own village's households, a township administrator for their township's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from cooperatives.models import Earning, EarningKind, Entity, Membership, not_in_force
from cooperatives.services.common import NOT_IN_SCOPE, claim, lock_row, validated_save
from households.models import Household
from households.services import ConcurrentEditError, claim_next_version, require_permission
from regions.services import data_changed

# Memberships (合作社绑定农户) -------------------------------------------------------------------------


def _require_membership_in_scope(by: Any, membership: Membership) -> None:
    """A clerk changes memberships of their own village's households, a township admin of their township's."""
    if membership.pk is not None and not Membership.objects.visible_to(by).filter(pk=membership.pk).exists():
        raise PermissionDenied(_("该成员记录") + NOT_IN_SCOPE)
    if (
        membership.household_id is not None
        and not Household.objects.visible_to(by).filter(pk=membership.household_id).exists()
    ):
        raise PermissionDenied(_("该农户") + NOT_IN_SCOPE)
    if (
        membership.cooperative_id is not None
        and not Entity.objects.visible_to(by).filter(pk=membership.cooperative_id).exists()
    ):
        raise PermissionDenied(_("该合作社") + NOT_IN_SCOPE)


def _require_joinable(membership: Membership) -> None:
    """What joining requires, checked again when a membership's 入社日期 is corrected."""
    if not membership.household.is_active:
        raise ValidationError({"household": _("已注销农户不能加入合作社")})
    if (reason := not_in_force(membership.cooperative, membership.joined_on)) is not None:
        raise ValidationError({"joined_on": reason})


@transaction.atomic
def membership_add(*, by: Any, membership: Membership) -> Membership:
    """合作社绑定农户: a household of the user's area joins a cooperative."""
    require_permission(by, "cooperatives.add_membership")
    if membership.pk is not None:
        raise ValidationError(_("该成员记录已登记"))
    _require_membership_in_scope(by, membership)
    lock_row(Household, membership.household_id)
    validated_save(membership, by=by)
    data_changed(codes=[membership.household.village.code])
    return membership


@transaction.atomic
def membership_update(*, by: Any, membership: Membership, expected_version: int | None = None) -> Membership:
    """Correct a membership (入社方式, 入股金额, dates); the household and cooperative stay."""
    require_permission(by, "cooperatives.change_membership")
    _require_membership_in_scope(by, membership)
    stored = Membership.objects.get(pk=membership.pk)
    if (stored.household_id, stored.cooperative_id) != (membership.household_id, membership.cooperative_id):
        raise ValidationError(_("成员记录的农户和合作社不能更改"))
    if stored.joined_on != membership.joined_on:
        _require_joinable(membership)
    lock_row(Household, membership.household_id)
    claim(membership, expected_version)
    validated_save(membership, by=by)
    data_changed(codes=[membership.household.village.code])
    return membership


@transaction.atomic
def membership_leave(
    *, by: Any, membership: Membership, left_on: date, expected_version: int | None = None
) -> Membership:
    """退社 on a date: the household is no longer a member from that day."""
    require_permission(by, "cooperatives.change_membership")
    _require_membership_in_scope(by, membership)
    if membership.left_on is not None:
        raise ValidationError({"left_on": _("该户已于%(day)s退社") % {"day": membership.left_on}})
    claim(membership, expected_version)
    membership.left_on = left_on
    validated_save(membership, by=by, reason=_("退社"))
    data_changed(codes=[membership.household.village.code])
    return membership


# Earnings ----------------------------------------------------------------------------------------

# The version a page sends for a cell that had no record when it was read (stored versions start at 1).
NO_RECORD = 0


@transaction.atomic
def earning_record(
    *,
    by: Any,
    household: Household,
    cooperative: Entity,
    year: int,
    kind: EarningKind,
    amount: Decimal,
    expected_version: int | None = None,
) -> Earning:
    """Record what a household earned from a cooperative in a year, of one kind (the amount replaces
    an earlier one). `expected_version` is the version the page read, NO_RECORD if it read none."""
    require_permission(by, "cooperatives.add_earning")
    if not Household.objects.visible_to(by).filter(pk=household.pk).exists():
        raise PermissionDenied(_("该农户") + NOT_IN_SCOPE)
    earning = Earning.objects.filter(household=household, cooperative=cooperative, year=year, kind=kind).first()
    if earning is None:
        if expected_version not in (None, NO_RECORD):
            raise ConcurrentEditError()
        earning = Earning(household=household, cooperative=cooperative, year=year, kind=kind)
    else:
        require_permission(by, "cooperatives.change_earning")
        if expected_version == NO_RECORD:
            raise ConcurrentEditError()
        claim_next_version(earning, expected_version)
    earning.amount = amount
    try:
        with transaction.atomic():
            validated_save(earning, by=by)
    except IntegrityError as error:  # someone recorded the same cell between our read and write
        raise ConcurrentEditError() from error
    data_changed(codes=[household.village.code])
    return earning


@dataclass(frozen=True)
class EarningEntry:
    """One cell of a household's earnings for a year, as the page posts it."""

    cooperative: Entity
    kind: EarningKind
    amount: Decimal | None
    expected_version: int


@transaction.atomic
def earnings_year_save(*, by: Any, household: Household, year: int, entries: Sequence[EarningEntry]) -> int:
    """Save the cells of a household's earnings for a year that the user changed, all or nothing.
    Returns how many records were written (a blank cell that had no record writes nothing)."""
    written = 0
    for entry in entries:
        amount = entry.amount if entry.amount is not None else Decimal("0.00")
        if not amount and entry.expected_version == NO_RECORD:
            if Earning.objects.filter(
                household=household, cooperative=entry.cooperative, year=year, kind=entry.kind
            ).exists():
                raise ConcurrentEditError()
            continue
        earning_record(
            by=by,
            household=household,
            cooperative=entry.cooperative,
            year=year,
            kind=entry.kind,
            amount=amount,
            expected_version=entry.expected_version,
        )
        written += 1
    return written
