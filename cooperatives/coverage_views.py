"""The township's 双绑 覆盖 page: eligible households not yet covered, by village (the clerk's to-do list)."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from cooperatives import coverage
from figures.periods import Quarter

PAGE_SIZE = 50


def _day(text: str) -> tuple[date, Quarter | None]:
    """The date asked for: a quarter's last day (?period=2026Q2), else today; 404 when malformed."""
    text = text.strip()
    if not text:
        return timezone.localdate(), None
    try:
        period = Quarter.parse(text)
    except ValueError as error:
        raise Http404("季度格式错误，应如 2026Q2") from error
    return period.last_day, period


@login_required
def coverage_gaps(request: HttpRequest) -> HttpResponse:
    region = coverage.coverage_region(user=request.user, code=request.GET.get("region"))
    day, period = _day(request.GET.get("period", ""))
    villages = coverage.coverage_by_village(user=request.user, region=region, day=day)
    households = coverage.uncovered_households(user=request.user, region=region, day=day)
    page = Paginator(households, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "cooperatives/coverage.html",
        {
            "region": region,
            "day": day,
            "period": period,
            "today": timezone.localdate(),
            "villages": villages,
            "eligible": sum(village.eligible for village in villages),
            "covered": sum(village.covered for village in villages),
            "page": page,
            "rows": coverage.gap_rows(households=list(page.object_list), day=day),
            "query": query.urlencode(),
            "period_query": "" if period is None else f"&period={period}",
        },
    )
