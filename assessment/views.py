"""Assessment pages: parse the request, call one selector or service, render."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST

from assessment import dashboard_selectors, records, selectors, services
from assessment.forms import FORMS
from assessment.models import Comparator, RunStatus, Status
from figures.periods import Quarter, window_label
from figures.registry import Direction, Unit
from regions.models import Level, Region, county_code_of, regions_visible_to

View = Callable[..., HttpResponse]
COMPUTE_PERMISSION = "assessment.add_computerun"
PAGE_SIZE = 50


def fresh(view: View) -> View:
    """On the embedded default (no workers), recompute counties whose data changed before showing
    figures. With workers a page never computes: the worker does, a minute after the change (a
    dashboard request that recomputed 16 counties × 4 quarters took 77 s in bench/dashboard_load.py);
    until then the page marks the figures 数据已过期."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            services.recompute_due()
        return view(request, *args, **kwargs)

    return wrapper


def _place(request: HttpRequest) -> tuple[Region, Quarter | None]:
    region = selectors.region_for(user=request.user, code=request.GET.get("region"))
    return region, selectors.period_for(region=region, text=request.GET.get("period"))


def _common(request: HttpRequest, region: Region, period: Quarter | None) -> dict[str, Any]:
    """What every assessment page shows around its content: where, when, and what the user may do."""
    return {
        "region": region,
        "period": period,
        "periods": selectors.computed_periods(region=region),
        "trail": selectors.region_trail(user=request.user, region=region),
        "children": list(selectors.sub_regions(region=region)),
        "can_compute": _can_compute(request.user, region),
        "county": _county_of(region),
    }


def _county_of(region: Region) -> Region | None:
    if region.level < Level.COUNTY:
        return None
    return Region.objects.filter(code=county_code_of(region.code)).first()


def _can_compute(user: Any, region: Region) -> bool:
    """County admins (and system admins) recompute a county they can see."""
    county = _county_of(region)
    return (
        county is not None
        and user.has_perm(COMPUTE_PERMISSION)
        and regions_visible_to(user).filter(pk=county.pk).exists()
    )


@login_required
@fresh
def indicator_list(request: HttpRequest) -> HttpResponse:
    region, period = _place(request)
    groups = selectors.indicator_groups(region=region, period=period) if period else []
    return render(request, "assessment/indicator_list.html", {**_common(request, region, period), "groups": groups})


@login_required
@fresh
def indicator_detail(request: HttpRequest, code: str) -> HttpResponse:
    indicator = selectors.indicator_or_404(code)
    region, period = _place(request)
    if period is None:
        raise Http404("尚未计算任何季度")
    value = selectors.indicator_value(region=region, period=period, indicator=indicator)
    parameters = selectors.parameters_in_force(region=region, period=period, indicator=indicator)
    labels = {parameter.key: parameter for parameter in indicator.parameters}
    return render(
        request,
        "assessment/indicator_detail.html",
        {
            **_common(request, region, period),
            "indicator": indicator,
            "value": value,
            "stale": value is not None and selectors.is_stale(value=value, region=region),
            "frozen": selectors.is_frozen(region=region, period=period),
            "window": window_label(indicator.period_kind, period),
            "parameters": [(labels[key], amount) for key, amount in parameters.items()],
            "sub_values": selectors.sub_region_values(region=region, period=period, indicator=indicator),
            "unit_label": Unit(indicator.unit).label if indicator.unit in Unit.values else indicator.unit,
            "direction_label": Direction(indicator.direction).label,
        },
    )


@login_required
@fresh
def indicator_records(request: HttpRequest, code: str, side: str) -> HttpResponse:
    indicator = selectors.indicator_or_404(code)
    region, period = _place(request)
    if period is None:
        raise Http404("尚未计算任何季度")
    found = selectors.drill_down(region=region, period=period, indicator=indicator, side=side)
    page = Paginator(records.prepare(found), PAGE_SIZE).get_page(request.GET.get("page"))
    query = {"region": region.code, "period": str(period)}
    return render(
        request,
        "assessment/indicator_records.html",
        {
            **_common(request, region, period),
            "indicator": indicator,
            "side": side,
            "side_label": side_label(indicator, side),
            "value": selectors.indicator_value(region=region, period=period, indicator=indicator),
            "page": page,
            "table": records.render(found, list(page.object_list), request.user),
            "noun": records.noun(found),
            "query": urlencode(query),
        },
    )


@login_required
@fresh
def breakdown_records(request: HttpRequest, code: str, key: str) -> HttpResponse:
    """The list behind one bar of a distribution chart (key b10, or unstable|illness|open)."""
    region, period = _place(request)
    if period is None:
        raise Http404("尚未计算任何季度")
    found = dashboard_selectors.breakdown_drill_down(region=region, period=period, code=code, key=key)
    page = Paginator(records.prepare(found.records), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "assessment/breakdown_records.html",
        {
            **_common(request, region, period),
            "found": found,
            "page": page,
            "table": records.render(found.records, list(page.object_list), request.user),
            "noun": records.noun(found.records),
            "query": urlencode({"region": region.code, "period": str(period)}),
        },
    )


def side_label(indicator: Any, side: str) -> str:
    """What a drill-down list holds: the numerator's records, the denominator's, or those the numerator misses."""
    if side == "numerator":
        return str(indicator.numerator_label)
    if side == "complement":
        return f"{indicator.denominator_label}（不含{indicator.numerator_label}）"
    return str(indicator.denominator_label)


@login_required
@fresh
def score_table(request: HttpRequest) -> HttpResponse:
    region, period = _place(request)
    sort = request.GET.get("sort", "rank")
    if sort.lstrip("-") not in {"rank", "score", "missed", "name"}:
        sort = "rank"
    rows = selectors.score_table(region=region, period=period, sort=sort) if period else []
    return render(
        request,
        "assessment/score_table.html",
        {
            **_common(request, region, period),
            "rows": rows,
            "columns": selectors.scored_indicators(region=region, period=period) if period else [],
            "sort": sort,
            "lagging_percent": int(selectors.LAGGING_SHARE * 100),
            "Status": Status,
        },
    )


# --- target editor -------------------------------------------------------------------------------


def _may_edit(user: Any, kind: str) -> bool:
    _, model, _ = FORMS[kind]
    return bool(user.has_perm(f"assessment.change_{model._meta.model_name}"))


@login_required
def target_list(request: HttpRequest) -> HttpResponse:
    year_text = request.GET.get("year", "")
    years = selectors.policy_years(user=request.user)
    # isdigit() alone also accepts "²", which int() refuses: only ASCII digits are a year.
    year = int(year_text) if year_text.isascii() and year_text.isdigit() else (years[0] if years else None)
    editable = set(selectors.editable_regions(user=request.user).values_list("pk", flat=True))
    return render(
        request,
        "assessment/target_list.html",
        {
            "region": selectors.home_region(user=request.user),
            "year": year,
            "years": years,
            "targets": selectors.targets_in_page_order(user=request.user, year=year),
            "rules": selectors.scoring_rules_for(user=request.user, year=year),
            "parameters": selectors.parameters_for(user=request.user, year=year),
            "names": selectors.indicator_names(),
            "units": selectors.indicator_units(),
            "editable": editable,
            "can_edit": {kind: _may_edit(request.user, kind) for kind in FORMS},
            "history": selectors.policy_history(user=request.user),
            "valued": {Comparator.AT_LEAST, Comparator.AT_MOST},
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def policy_row_edit(request: HttpRequest, kind: str, pk: int | None = None) -> HttpResponse:
    if kind not in FORMS:
        raise Http404("没有该类记录")
    form_class, model, title = FORMS[kind]
    if not _may_edit(request.user, kind):
        raise PermissionDenied("您的角色只能查看考核目标")
    row = selectors.editable_row_or_404(user=request.user, model=model, pk=pk) if pk else None
    regions = selectors.editable_regions(user=request.user)
    form = form_class(request.POST or None, instance=row, regions=regions)
    if request.method == "POST" and form.is_valid():
        try:
            services.policy_row_save(row=form.save(commit=False), by=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"已保存{title}。点击指标页的“重新计算”后，指标值按新{title}更新。")
            return redirect(f"{reverse('assessment_targets')}?year={form.instance.year}")
    return render(request, "assessment/policy_row_form.html", {"form": form, "title": title, "row": row, "kind": kind})


@login_required
@require_POST
def policy_row_delete(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    if kind not in FORMS:
        raise Http404("没有该类记录")
    _, model, title = FORMS[kind]
    if not _may_edit(request.user, kind):
        raise PermissionDenied("您的角色只能查看考核目标")
    row = selectors.editable_row_or_404(user=request.user, model=model, pk=pk)
    year = row.year
    services.policy_row_delete(row=row, by=request.user)
    messages.success(request, f"已删除{title}（变更记录中保留）")
    return redirect(f"{reverse('assessment_targets')}?year={year}")


# --- recompute -----------------------------------------------------------------------------------


@login_required
@require_POST
def compute_request(request: HttpRequest) -> HttpResponse:
    region = selectors.region_for(user=request.user, code=request.POST.get("region"))
    if not _can_compute(request.user, region):
        raise PermissionDenied("只有县级管理员可以重新计算")
    try:
        period = Quarter.parse(request.POST.get("period", ""))
    except ValueError as error:
        raise Http404("季度格式错误") from error
    if not period.has_begun(timezone.localdate()):
        # Its values would be empty, and the latest computed quarter is every page's default.
        raise Http404("该季度尚未开始")
    run = services.compute_run_request(scope=_county_of(region), period=period, by=request.user)
    back = f"{reverse('assessment_indicators')}?{urlencode({'region': region.code, 'period': str(period)})}"
    return redirect(f"{reverse('assessment_run', args=[run.pk])}?{urlencode({'next': back})}")


def _safe_next(request: HttpRequest) -> str:
    target = request.GET.get("next", "")
    return target if target.startswith("/assessment/") else reverse("assessment_indicators")


@login_required
def compute_run(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "assessment/compute_run.html", _run_context(request, pk))


@login_required
def compute_run_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress bar alone, polled by htmx every second until the run has ended."""
    return render(request, "assessment/_run_progress.html", _run_context(request, pk))


def _run_context(request: HttpRequest, pk: int) -> dict[str, Any]:
    run = selectors.run_or_404(user=request.user, pk=pk)
    return {
        "run": run,
        "progress": services.compute_progress(run),
        "next": _safe_next(request),
        "finished": run.status in (RunStatus.DONE, RunStatus.FAILED),
    }
