"""资金下达: a county's allocations of each budget level, and their splits to its townships.

An allocation is never left owing: amount ≥ Σ its splits + Σ its funding lines. Every write that
could break that locks the allocation row first (select_for_update), so two saves never both
spend the same remainder.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.utils.translation import gettext as _

from funds.models import Allocation, Funding
from funds.services import messages
from funds.services.common import (
    atomic_write,
    claim_next_version,
    register_row_delete,
    register_row_save,
    require_permission,
    require_region_in_scope,
    require_row_in_scope,
)
from regions.models import Region

ZERO = Decimal("0.00")


def allocation_used(
    allocation: Allocation, *, except_split: int | None = None, except_funding: int | None = None
) -> Decimal:
    """What the allocation already gives away: its splits and its funding lines (leaving one out)."""
    splits = Allocation.objects.filter(parent=allocation).exclude(pk=except_split).order_by()
    fundings = Funding.objects.filter(allocation=allocation).exclude(pk=except_funding).order_by()
    return (splits.aggregate(total=Sum("amount"))["total"] or ZERO) + (
        fundings.aggregate(total=Sum("amount"))["total"] or ZERO
    )


def lock_allocation(allocation: Allocation) -> Allocation:
    """The allocation's row, locked until the transaction ends (its amount read under the lock)."""
    return Allocation.objects.select_for_update().get(pk=allocation.pk)


def _duplicate(region: Region, year: int, level_label: str, document_number: str) -> ValidationError:
    return ValidationError(
        {
            "document_number": _("%(region)s%(year)d年%(level)s资金已有文号“%(number)s”的下达记录")
            % {"region": region.name, "year": year, "level": level_label, "number": document_number}
        }
    )


def _check_unique(allocation: Allocation) -> ValidationError:
    duplicate = _duplicate(
        allocation.region, allocation.year, allocation.get_level_display(), allocation.document_number
    )
    others = Allocation.objects.filter(
        region=allocation.region,
        year=allocation.year,
        level=allocation.level,
        document_number=allocation.document_number,
    ).exclude(pk=allocation.pk)
    if others.exists():
        raise duplicate
    return duplicate


def _codes(allocation: Allocation) -> list[str]:
    return [allocation.region.code]


@atomic_write
def allocation_create(
    *,
    by: Any,
    county: Region,
    year: int,
    level: str,
    document_number: str,
    issued_on: date,
    amount: Decimal,
    note: str = "",
) -> Allocation:
    """Record money of one budget level received by a county (下达到县)."""
    require_permission(by, "funds.add_allocation")
    require_region_in_scope(by, county)
    allocation = Allocation(
        region=county,
        year=year,
        level=level,
        document_number=document_number.strip(),
        issued_on=issued_on,
        amount=amount,
        note=note,
    )
    allocation.full_clean(validate_unique=False, validate_constraints=False)
    duplicate = _check_unique(allocation)
    register_row_save(allocation, by=by, codes=_codes(allocation), duplicate=duplicate)
    return allocation


@atomic_write
def allocation_split(
    *,
    by: Any,
    parent: Allocation,
    township: Region,
    amount: Decimal,
    document_number: str,
    issued_on: date,
    note: str = "",
) -> Allocation:
    """Split part of a county's allocation to one of its townships (cannot exceed what is left of it)."""
    require_permission(by, "funds.add_allocation")
    require_row_in_scope(by, parent)
    require_region_in_scope(by, township)
    if parent.parent_id is not None:
        raise ValidationError({"parent": messages.SPLIT_OF_SPLIT})
    parent = lock_allocation(parent)
    split = Allocation(
        region=township,
        year=parent.year,
        level=parent.level,
        parent=parent,
        document_number=document_number.strip(),
        issued_on=issued_on,
        amount=amount,
        note=note,
    )
    split.full_clean(validate_unique=False, validate_constraints=False)
    remainder = parent.amount - allocation_used(parent)
    if amount > remainder:
        raise ValidationError({"amount": messages.split_over_remainder(remainder)})
    duplicate = _check_unique(split)
    register_row_save(split, by=by, codes=[parent.region.code, township.code], duplicate=duplicate)
    return split


@atomic_write
def allocation_update(
    *,
    by: Any,
    allocation: Allocation,
    expected_version: int,
    year: int,
    level: str,
    document_number: str,
    issued_on: date,
    amount: Decimal,
    note: str,
) -> Allocation:
    """Correct an allocation; never below what its splits and funding lines already use."""
    require_permission(by, "funds.change_allocation")
    require_row_in_scope(by, allocation)
    parent = lock_allocation(allocation.parent) if allocation.parent is not None else None
    locked = lock_allocation(allocation)
    has_splits = Allocation.objects.filter(parent=locked).exists()
    if has_splits and (year, level) != (locked.year, locked.level):
        raise ValidationError({"year": _("该笔资金已分配到乡镇，不能修改年度或级次")})
    used = allocation_used(locked)
    if amount < used:
        raise ValidationError({"amount": messages.allocation_below_used(used)})
    if parent is not None:
        left = parent.amount - allocation_used(parent, except_split=locked.pk)
        if amount > left:
            raise ValidationError({"amount": messages.split_over_parent(left)})
    claim_next_version(allocation, expected_version)
    allocation.year, allocation.level, allocation.issued_on = year, level, issued_on
    allocation.document_number, allocation.amount, allocation.note = document_number.strip(), amount, note
    allocation.full_clean(validate_unique=False, validate_constraints=False)
    duplicate = _check_unique(allocation)
    register_row_save(allocation, by=by, codes=_codes(allocation), duplicate=duplicate)
    return allocation


@atomic_write
def allocation_delete(*, by: Any, allocation: Allocation, expected_version: int) -> None:
    """Remove an allocation entered by mistake: only one nothing has been split from or funded by."""
    require_permission(by, "funds.delete_allocation")
    require_row_in_scope(by, allocation)
    lock_allocation(allocation)
    if Allocation.objects.filter(parent=allocation).exists():
        raise ValidationError(_("该笔资金已分配到乡镇，请先删除分配记录"))
    if Funding.objects.filter(allocation=allocation).exists():
        raise ValidationError(_("该笔资金已安排到项目，请先撤销资金安排"))
    codes = _codes(allocation)
    if allocation.parent is not None:
        codes.append(allocation.parent.region.code)
    register_row_delete(allocation, by=by, codes=codes, expected_version=expected_version)
