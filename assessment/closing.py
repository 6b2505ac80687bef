"""季度关账: a village clerk submits the quarter, the township approves or returns it, the county
locks it (its income is then final and its figures frozen), and a county admin may reopen it.

Every transition is a conditional update on the submission's status (and the version the page
showed), so a double click or a second tab never applies it twice; each one writes a history row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from assessment.closing_models import CloseAction, QuarterCloseEvent, QuarterSubmission, SubmissionStatus
from assessment.closing_selectors import Blockers, unapproved_villages, village_blockers
from assessment.engine import indicators_compute
from assessment.models import ComputeRun, RunStatus
from assessment.services import closed_counties, recompute_schedule
from figures.periods import Quarter
from households.closing import closed_quarter_lock, closed_quarter_unlock, quarter_is_closed
from regions.models import Level, Region, Role, regions_visible_to

REASON_MAX_LENGTH = 500
LISTED = 50  # households and alerts named in a refusal; the rest are counted


class QuarterNotReady(ValidationError):
    """A submission refused while households lack the quarter's income or 疑点 are open."""

    def __init__(self, period: Quarter, blockers: Blockers) -> None:
        parts = []
        if blockers.missing:
            named = "、".join(blockers.missing[:LISTED])
            more = f"等共{len(blockers.missing)}户" if len(blockers.missing) > LISTED else ""
            parts.append(f"{len(blockers.missing)}户未录入{period.label}收入：{named}{more}")
        if blockers.open_alerts:
            named = "、".join(blockers.open_alerts[:LISTED])
            more = f"等共{len(blockers.open_alerts)}条" if len(blockers.open_alerts) > LISTED else ""
            parts.append(f"{len(blockers.open_alerts)}条数据质量疑点尚未排除或处置：{named}{more}")
        super().__init__(f"不能提交：{'；'.join(parts)}。")
        self.blockers = blockers


@dataclass(frozen=True)
class Transition:
    """A workflow step's outcome: the submission as it now is, and whether this request changed it."""

    submission: QuarterSubmission
    applied: bool


def _require(user: Any, region: Region, role: str, what: str) -> None:
    if not regions_visible_to(user).filter(pk=region.pk).exists():
        raise PermissionDenied("不在您的管辖范围内")
    if user.role != role:
        raise PermissionDenied(f"只有{Role(role).label}可以{what}")


def _clean_reason(reason: str, what: str) -> str:
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError({"reason": f"{what}须填写理由"})
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError({"reason": f"理由不能超过{REASON_MAX_LENGTH}个字"})
    return reason


def _refuse_if_locked(village: Region, period: Quarter, what: str) -> None:
    if quarter_is_closed(village_code=village.code, period=period):
        raise ValidationError(f"{period.label}已关账，不能{what}；如需修改请联系县级管理员重新开账")


def submission_for(*, village: Region, period: Quarter) -> QuarterSubmission:
    """The village's submission row for the quarter (填报中 until someone acts)."""
    submission, _ = QuarterSubmission.objects.get_or_create(village=village, year=period.year, quarter=period.number)
    return submission


def _transition(
    *,
    village: Region,
    period: Quarter,
    allowed: set[str],
    to: str,
    by: Any,
    reason: str = "",
    expected_version: int | None = None,
) -> Transition:
    submission = submission_for(village=village, period=period)
    claim = QuarterSubmission.objects.filter(pk=submission.pk, status__in=allowed)
    if expected_version is not None:
        claim = claim.filter(version=expected_version)
    with transaction.atomic():
        applied = bool(
            claim.update(status=to, reason=reason, acted_by=by, acted_at=timezone.now(), version=F("version") + 1)
        )
        submission.refresh_from_db()
        if applied:
            # The claim above wrote the row; saving it again records who and why in its history.
            submission._history_user = by  # type: ignore[attr-defined]
            submission._change_reason = reason or SubmissionStatus(to).label  # type: ignore[attr-defined]
            submission.save()
    return Transition(submission, applied)


def quarter_submit(*, village: Region, period: Quarter, by: Any, expected_version: int | None = None) -> Transition:
    """提交: the village clerk declares the quarter complete; refused, with the list, while it is not."""
    _require(by, village, Role.VILLAGE_CLERK, "提交本村季度报送")
    if not period.has_begun(timezone.localdate()):
        raise ValidationError(f"{period.label}尚未开始，不能提交")
    _refuse_if_locked(village, period, "提交")
    blockers = village_blockers(village=village, period=period)
    if blockers:
        raise QuarterNotReady(period, blockers)
    return _transition(
        village=village,
        period=period,
        allowed={SubmissionStatus.FILLING, SubmissionStatus.RETURNED},
        to=SubmissionStatus.SUBMITTED,
        by=by,
        expected_version=expected_version,
    )


def quarter_approve(*, village: Region, period: Quarter, by: Any, expected_version: int | None = None) -> Transition:
    """审核通过: the township accepts a submitted village."""
    _require(by, village, Role.TOWNSHIP_ADMIN, "审核")
    _refuse_if_locked(village, period, "审核")
    transition = _transition(
        village=village,
        period=period,
        allowed={SubmissionStatus.SUBMITTED},
        to=SubmissionStatus.APPROVED,
        by=by,
        expected_version=expected_version,
    )
    if not transition.applied and transition.submission.status in (SubmissionStatus.FILLING, SubmissionStatus.RETURNED):
        raise ValidationError(f"{village.name}尚未提交{period.label}，不能审核")
    return transition


def quarter_return(
    *, village: Region, period: Quarter, by: Any, reason: str, expected_version: int | None = None
) -> Transition:
    """退回: the township sends a submitted (or approved, not yet locked) village back, with a reason."""
    _require(by, village, Role.TOWNSHIP_ADMIN, "退回")
    reason = _clean_reason(reason, "退回")
    _refuse_if_locked(village, period, "退回")
    transition = _transition(
        village=village,
        period=period,
        allowed={SubmissionStatus.SUBMITTED, SubmissionStatus.APPROVED},
        to=SubmissionStatus.RETURNED,
        by=by,
        reason=reason,
        expected_version=expected_version,
    )
    if not transition.applied and transition.submission.status == SubmissionStatus.FILLING:
        raise ValidationError(f"{village.name}尚未提交{period.label}，不能退回")
    return transition


def quarter_lock(*, county: Region, period: Quarter, by: Any) -> bool:
    """锁定: once every village with registered households is approved, compute the county's figures
    one last time and lock the quarter in the same transaction. False when it was locked already."""
    _require(by, county, Role.COUNTY_ADMIN, "锁定本县季度")
    if county.level != Level.COUNTY:
        raise PermissionDenied("只能锁定县级区划")
    if quarter_is_closed(village_code=county.code, period=period):
        return False
    waiting = unapproved_villages(county=county, period=period)
    if waiting:
        names = "、".join(village.name for village in waiting[:LISTED])
        more = f"等共{len(waiting)}个村" if len(waiting) > LISTED else ""
        raise ValidationError(f"以下村的{period.label}尚未审核通过，不能锁定：{names}{more}")
    with transaction.atomic():
        if not closed_quarter_lock(county=county, period=period, by=by):
            return False
        started = timezone.now()
        # The county is in closed_counties now (this transaction's lock row): compute it regardless.
        outcome = indicators_compute(
            scope=county, period=period, frozen_counties=closed_counties(period) - {county.code}
        )
        ComputeRun.objects.create(
            scope=county,
            year=period.year,
            quarter=period.number,
            reason="quarter_lock",
            requested_by=by,
            status=RunStatus.DONE,
            started_at=started,
            finished_at=timezone.now(),
            values_written=outcome.values,
            message="关账前最终计算，指标值自此冻结",
        )
        QuarterCloseEvent.objects.create(
            county=county, year=period.year, quarter=period.number, action=CloseAction.LOCKED, acted_by=by
        )
    return True


def quarter_reopen(*, county: Region, period: Quarter, by: Any, reason: str) -> bool:
    """重新开账: a county admin unlocks the quarter, with a reason kept in the audit; its figures are
    recomputed from then on. False when it was not locked."""
    _require(by, county, Role.COUNTY_ADMIN, "重新开账")
    if county.level != Level.COUNTY:
        raise PermissionDenied("只能对县级区划重新开账")
    reason = _clean_reason(reason, "重新开账")
    with transaction.atomic():
        if not closed_quarter_unlock(county=county, period=period):
            return False
        QuarterCloseEvent.objects.create(
            county=county,
            year=period.year,
            quarter=period.number,
            action=CloseAction.REOPENED,
            reason=reason,
            acted_by=by,
        )
        transaction.on_commit(lambda: recompute_schedule(county_code=county.code))
    return True
