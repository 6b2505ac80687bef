"""Pages of the alert inbox (预警): parse the request, call one service or selector, render."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from assessment import alert_selectors as selectors
from assessment import alerts as services
from assessment.alert_forms import AlertActionForm, AlertFilterForm, BulkDismissForm
from assessment.alert_selectors import AlertRow
from assessment.models import AlertStatus
from households.personal_data import text_shown_to

PAGE_SIZE = 50
ACTIONS = {"confirm": "核实", "dismiss": "排除", "handle": "处置"}


def _back(request: HttpRequest, fallback: str) -> HttpResponse:
    """Back to the page the form came from (the inbox with its filters), if it is ours."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(fallback)


def _form_errors(form: Any) -> str:
    return "；".join(str(error) for errors in form.errors.values() for error in errors)


@login_required
def alert_list(request: HttpRequest) -> HttpResponse:
    form = AlertFilterForm(
        request.GET or None,
        regions=selectors.regions_for_filter(user=request.user),
        quarters=selectors.alert_quarters(user=request.user),
    )
    alerts = selectors.alert_list(user=request.user, **form.selector_filters())
    page = Paginator(alerts.values_list("pk", flat=True), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "assessment/alert_list.html",
        {
            "form": form,
            "page": page,
            "rows": selectors.alert_rows(ids=list(page.object_list)),
            "query": query.urlencode(),
            "can_handle": services.may_handle_alerts(request.user),
        },
    )


@login_required
def alert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    row = selectors.alert_get(user=request.user, pk=pk)
    return render(
        request,
        "assessment/alert_detail.html",
        {
            "row": row,
            "alert": row.alert,
            "history": selectors.alert_history(alert=row.alert),
            "can_handle": services.may_handle_alerts(request.user),
            "is_open": row.alert.status in selectors.OPEN_STATUSES,
            "monitoring_link": _monitoring_link(request, row),
        },
    )


def _monitoring_link(request: HttpRequest, row: AlertRow) -> str:
    """纳入监测: the monitoring-case form for the household, prefilled, once the alert is confirmed."""
    alert = row.alert
    if (
        row.rule is None
        or not row.rule.suggests_monitoring
        or alert.status != AlertStatus.CONFIRMED
        or row.monitored
        or not alert.household.is_active
        or not request.user.has_perm("households.add_monitoringcase")
    ):
        return ""
    note = f"由预警“{row.rule.name}”（{alert.period.label}）核实后纳入"
    return reverse("case_register", args=[alert.household_id]) + "?" + urlencode({"note": note})


@login_required
@require_POST
def alert_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in ACTIONS:
        raise Http404
    row = selectors.alert_get(user=request.user, pk=pk)
    form = AlertActionForm(request.POST)
    fallback = reverse("alert_detail", args=[pk])
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return _back(request, fallback)
    data = form.cleaned_data
    try:
        if action == "confirm":
            services.alert_confirm(
                by=request.user, alert=row.alert, expected_version=data["version"], note=data["reason"]
            )
        elif action == "dismiss":
            services.alert_dismiss(
                by=request.user, alert=row.alert, reason=data["reason"], expected_version=data["version"]
            )
        else:
            services.alert_handle(
                by=request.user, alert=row.alert, expected_version=data["version"], note=data["reason"]
            )
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
    else:
        number = text_shown_to(request.user, row.alert.household.number)
        messages.success(request, f"已{ACTIONS[action]}：{number} {row.rule_name}")
    return _back(request, fallback)


@login_required
@require_POST
def alert_dismiss_bulk(request: HttpRequest) -> HttpResponse:
    form = BulkDismissForm(request.POST)
    fallback = reverse("alert_list")
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return _back(request, fallback)
    try:
        changed = services.alerts_dismiss_bulk(
            by=request.user, ids=form.cleaned_data["ids"], reason=form.cleaned_data["reason"]
        )
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
        return _back(request, fallback)
    skipped = len(form.cleaned_data["ids"]) - changed
    text = f"已排除{changed}条预警"
    if skipped:
        text += f"；{skipped}条已被他人处理，未改动"
    messages.success(request, text)
    return _back(request, fallback)
