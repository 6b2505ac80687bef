"""The county fund overview (资金概况): allocated → arranged → paid, by level and project type."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from funds.selectors import overview
from regions.models import Level


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError as error:
        raise Http404("参数不正确") from error


@login_required
@require_safe
def fund_overview(request: HttpRequest) -> HttpResponse:
    region = overview.overview_region_get(user=request.user, pk=_int(request.GET.get("region")))
    if region is None:
        # A village clerk: no allocations reach a village; their projects are in the library.
        return render(request, "funds/overview.html", {"tab": "overview", "region": None})
    years = overview.overview_years(region=region)
    year = _int(request.GET.get("year")) or (years[0] if years else timezone.localdate().year)
    return render(
        request,
        "funds/overview.html",
        {
            "tab": "overview",
            "region": region,
            "year": year,
            "years": sorted({*years, year}, reverse=True),
            "breadcrumbs": overview.overview_breadcrumbs(user=request.user, region=region),
            "children": overview.overview_children(region=region),
            "overview": overview.fund_overview(region=region, year=year),
            "allocation_kind": "township" if region.level == Level.TOWNSHIP else "county",
        },
    )
