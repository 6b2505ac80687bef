"""The quarter-close page (季度关账) and its buttons: thin views over assessment/closing.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from assessment import closing
from assessment.closing_models import SubmissionStatus
from assessment.closing_selectors import close_board
from assessment.selectors import region_for
from figures.periods import Quarter
from regions.models import Level, Region, Role, regions_visible_to

QUARTERS_SHOWN = 8


def _default_quarter() -> Quarter:
    """The quarter being closed now: the last one that has ended."""
    return Quarter.containing(timezone.localdate()).previous()


def _quarter(text: str | None) -> Quarter:
    if not text:
        return _default_quarter()
    try:
        return Quarter.parse(text)
    except ValueError as error:
        raise Http404("季度格式错误") from error


def _region(request: HttpRequest, pk: int, level: int) -> Region:
    """A region of that level inside the user's scope, or 404."""
    try:
        return regions_visible_to(request.user).get(pk=pk, level=level)
    except Region.DoesNotExist as error:
        raise Http404("区划不存在或不在您的管辖范围内") from error


def _version(request: HttpRequest) -> int | None:
    text = request.POST.get("version", "")
    # isdigit() alone also accepts "²", which int() refuses: only ASCII digits are a version.
    return int(text) if text.isascii() and text.isdigit() else -1 if text else None


def _back(period: Quarter) -> HttpResponse:
    return redirect(f"{reverse('close_board')}?quarter={period}")


@login_required
@require_GET
def close_board_view(request: HttpRequest) -> HttpResponse:
    period = _quarter(request.GET.get("quarter"))
    latest = Quarter.containing(timezone.localdate())
    choices = [Quarter.from_index(latest.index - back) for back in range(QUARTERS_SHOWN)]
    if period not in choices:
        choices.append(period)
    user: Any = request.user
    # The dashboard's close counts link here narrowed to their area and state.
    within = region_for(user=user, code=request.GET["region"]) if request.GET.get("region") else None
    status = request.GET.get("status")
    status = status if status in SubmissionStatus.values else None
    return render(
        request,
        "assessment/close.html",
        {
            "board": close_board(user=user, period=period, within=within, status=status),
            "within": within,
            "status_label": SubmissionStatus(status).label if status else "",
            "period": period,
            "choices": choices,
            "is_clerk": user.role == Role.VILLAGE_CLERK,
            "is_township": user.role == Role.TOWNSHIP_ADMIN,
            "is_county_admin": user.role == Role.COUNTY_ADMIN,
        },
    )


def _act(request: HttpRequest, step: Callable[[], closing.Transition], done: str, same: str) -> None:
    try:
        transition = step()
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
        return
    if transition.applied:
        messages.success(request, done)
    else:
        messages.info(request, f"{same}（当前状态：{transition.submission.get_status_display()}），未重复操作")


@login_required
@require_POST
def close_submit(request: HttpRequest, village_id: int, quarter: str) -> HttpResponse:
    period, village = _quarter(quarter), _region(request, village_id, Level.VILLAGE)
    _act(
        request,
        lambda: closing.quarter_submit(
            village=village, period=period, by=request.user, expected_version=_version(request)
        ),
        f"已提交{village.name}{period.label}，等待乡镇审核",
        "本村已提交过或状态已变化",
    )
    return _back(period)


@login_required
@require_POST
def close_approve(request: HttpRequest, village_id: int, quarter: str) -> HttpResponse:
    period, village = _quarter(quarter), _region(request, village_id, Level.VILLAGE)
    _act(
        request,
        lambda: closing.quarter_approve(
            village=village, period=period, by=request.user, expected_version=_version(request)
        ),
        f"{village.name}{period.label}已审核通过",
        "该村已审核或状态已变化",
    )
    return _back(period)


@login_required
@require_POST
def close_return(request: HttpRequest, village_id: int, quarter: str) -> HttpResponse:
    period, village = _quarter(quarter), _region(request, village_id, Level.VILLAGE)
    _act(
        request,
        lambda: closing.quarter_return(
            village=village,
            period=period,
            by=request.user,
            reason=request.POST.get("reason", ""),
            expected_version=_version(request),
        ),
        f"已退回{village.name}{period.label}",
        "该村已退回或状态已变化",
    )
    return _back(period)


@login_required
@require_POST
def close_lock(request: HttpRequest, county_id: int, quarter: str) -> HttpResponse:
    period, county = _quarter(quarter), _region(request, county_id, Level.COUNTY)
    try:
        locked = closing.quarter_lock(county=county, period=period, by=request.user)
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
    else:
        if locked:
            messages.success(request, f"{county.name}{period.label}已关账，指标值已按最新数据计算并冻结")
        else:
            messages.info(request, f"{county.name}{period.label}已经关账，未重复操作")
    return _back(period)


@login_required
@require_POST
def close_reopen(request: HttpRequest, county_id: int, quarter: str) -> HttpResponse:
    period, county = _quarter(quarter), _region(request, county_id, Level.COUNTY)
    try:
        reopened = closing.quarter_reopen(
            county=county, period=period, by=request.user, reason=request.POST.get("reason", "")
        )
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
    else:
        if reopened:
            messages.success(request, f"{county.name}{period.label}已重新开账，原因已记录")
        else:
            messages.info(request, f"{county.name}{period.label}未关账，无需重新开账")
    return _back(period)
