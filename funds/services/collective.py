"""村级集体经济收入: a village clerk enters the village's quarter-to-date figures and submits them;
the township approves them or returns them with a note (填报中 → 已提交 → 已审核 / 已退回)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from figures.periods import Quarter
from funds.models import INCOME_FIELDS, CollectiveIncome, ReviewStatus
from funds.services import messages
from funds.services.common import (
    atomic_write,
    claim_next_version,
    register_row_save,
    require_permission,
    require_region_in_scope,
    require_row_in_scope,
)
from households.models import validate_quarter_has_begun
from regions.models import Region

EDITABLE = (ReviewStatus.DRAFT, ReviewStatus.RETURNED)


def _label(income: CollectiveIncome) -> str:
    return messages.income_period(income.year, income.quarter)


@atomic_write
def collective_income_save(
    *,
    by: Any,
    village: Region,
    year: int,
    quarter: int,
    amounts: Mapping[str, Decimal],
    expected_version: int | None = None,
) -> CollectiveIncome:
    """Enter (or correct, before it is submitted) a village's income from 1 January to a quarter's end."""
    require_region_in_scope(by, village)
    unknown = set(amounts) - set(INCOME_FIELDS)
    if unknown:
        raise ValueError(f"unknown income lines: {sorted(unknown)}")
    if 1 <= quarter <= 4:
        try:
            validate_quarter_has_begun(Quarter(year, quarter))
        except ValidationError as error:
            raise ValidationError({"quarter": messages.quarter_not_begun(year, quarter)}) from error
    income = CollectiveIncome.objects.filter(village=village, year=year, quarter=quarter).first()
    if income is None:
        require_permission(by, "funds.add_collectiveincome")
        income = CollectiveIncome(village=village, year=year, quarter=quarter)
    else:
        require_permission(by, "funds.change_collectiveincome")
        if expected_version is None:
            raise ValidationError(
                {
                    "quarter": _("%(village)s%(period)s的收入已填报，请修改原记录")
                    % {"village": village.name, "period": _label(income)}
                }
            )
        claim_next_version(income, expected_version)
        if income.review_status not in EDITABLE:
            raise ValidationError(messages.income_locked(_label(income), income.get_review_status_display()))
    for name, value in amounts.items():
        setattr(income, name, value)
    duplicate = ValidationError(
        {"quarter": _("%(village)s该季度的收入刚被他人填报，请刷新后重试") % {"village": village.name}}
    )
    register_row_save(income, by=by, codes=[village.code], duplicate=duplicate)
    return income


def _transition(
    income: CollectiveIncome,
    *,
    by: Any,
    expected_version: int,
    allowed: tuple[str, ...],
    to: str,
    note: str | None = None,
    refused: str,
) -> CollectiveIncome:
    claim_next_version(income, expected_version)
    # Read under the row lock the claim took: a double click or a second reviewer sees the new state.
    current = CollectiveIncome.objects.values_list("review_status", flat=True).get(pk=income.pk)
    if current not in allowed:
        raise ValidationError(refused % {"period": _label(income), "status": ReviewStatus(current).label})
    income.review_status = to
    if note is not None:
        income.review_note = note
    register_row_save(income, by=by, codes=[income.village.code], reason=str(ReviewStatus(to).label))
    return income


@atomic_write
def collective_income_submit(*, by: Any, income: CollectiveIncome, expected_version: int) -> CollectiveIncome:
    """The village hands its figures to the township for review."""
    require_permission(by, "funds.change_collectiveincome")
    require_row_in_scope(by, income)
    return _transition(
        income,
        by=by,
        expected_version=expected_version,
        allowed=EDITABLE,
        to=ReviewStatus.SUBMITTED,
        refused=_("%(period)s的收入%(status)s，不能再提交"),
    )


@atomic_write
def collective_income_approve(*, by: Any, income: CollectiveIncome, expected_version: int) -> CollectiveIncome:
    """The township accepts a village's submitted figures."""
    require_permission(by, "funds.review_collectiveincome")
    require_row_in_scope(by, income)
    return _transition(
        income,
        by=by,
        expected_version=expected_version,
        allowed=(ReviewStatus.SUBMITTED,),
        to=ReviewStatus.APPROVED,
        note="",
        refused=_("%(period)s的收入%(status)s，只有已提交的收入可以审核"),
    )


@atomic_write
def collective_income_return(
    *, by: Any, income: CollectiveIncome, expected_version: int, note: str
) -> CollectiveIncome:
    """The township sends a village's figures back for correction, saying what is wrong."""
    require_permission(by, "funds.review_collectiveincome")
    require_row_in_scope(by, income)
    note = note.strip()
    if not note:
        raise ValidationError({"review_note": _("退回须填写审核意见")})
    return _transition(
        income,
        by=by,
        expected_version=expected_version,
        allowed=(ReviewStatus.SUBMITTED, ReviewStatus.APPROVED),
        to=ReviewStatus.RETURNED,
        note=note,
        refused=_("%(period)s的收入%(status)s，不能退回"),
    )
