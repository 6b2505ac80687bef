"""Dashboard pages (看板): the screen, its print view and its Excel report, and the home page's redirect."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header, urlencode

from assessment import dashboard_cache, dashboard_charts, dashboard_report, dashboard_selectors, selectors
from assessment.views import fresh
from households import views as household_views
from regions.models import Level

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """County, prefecture and province users open on their dashboard; everyone else on the ledger's home page."""
    region = getattr(request.user, "region", None)
    if region is not None and region.level <= Level.COUNTY:
        return redirect("assessment_dashboard")
    return household_views.home(request)


def _place(request: HttpRequest) -> dict[str, Any]:
    """Whose dashboard, which quarter and comparison: what the page shows around the figures."""
    region = selectors.region_for(user=request.user, code=request.GET.get("region"))
    periods = selectors.computed_periods(region=region)
    text = request.GET.get("period")
    period = selectors.period_for(region=region, text=text) if text else (periods[0] if periods else None)
    compare = request.GET.get("compare", "")
    compare = compare if compare in dashboard_selectors.COMPARISONS else "previous"
    query = {"region": region.code, "period": str(period) if period else "", "compare": compare}
    return {
        "region": region,
        "period": period,
        "periods": periods,
        "compare": compare,
        "comparisons": dashboard_selectors.COMPARISONS,
        "trail": selectors.region_trail(user=request.user, region=region),
        "query": urlencode({key: value for key, value in query.items() if value}),
    }


def _context(request: HttpRequest) -> dict[str, Any]:
    context = _place(request)
    region, period = context["region"], context["period"]
    # A quarter with no stored values has nothing to show, print or export: the page says so instead.
    board = (
        dashboard_selectors.dashboard(region=region, period=period, compare=context["compare"])
        if period in context["periods"]
        else None
    )
    return {
        **context,
        "board": board,
        # Without figures the sub-regions are still the way down (a prefecture whose counties are computed).
        "children": board.children if board else list(selectors.sub_regions(region=region)),
        "charts": dashboard_charts.charts(board) if board else {},
    }


@login_required
@fresh
def dashboard(request: HttpRequest) -> HttpResponse:
    """The screen: its figures and alert counts from the cache (made again when what they are made of
    changes, see dashboard_cache), its quarter close read now."""
    context = _place(request)
    region, period = context["region"], context["period"]
    if period in context["periods"]:
        context["parts"] = dashboard_cache.dashboard_parts(region=region, period=period, compare=context["compare"])
    else:
        context["children"] = list(selectors.sub_regions(region=region))
    return render(request, "assessment/dashboard.html", context)


@login_required
@fresh
def dashboard_print(request: HttpRequest) -> HttpResponse:
    return render(request, "assessment/dashboard_print.html", {**_context(request), "printed_at": timezone.now()})


@login_required
@fresh
def dashboard_excel(request: HttpRequest) -> HttpResponse:
    context = _context(request)
    board = context["board"]
    if board is None:
        return redirect(f"{reverse('assessment_dashboard')}?{context['query']}")
    content = dashboard_report.report_write(board=board, by=request.user, query=context["query"])
    filename = f"{board.region.name}{board.period.label}考核看板.xlsx"
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename) or ""
    return response
