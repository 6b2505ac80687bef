"""Pages of a county that runs itself: its 监测标准, and the audit of who did what."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from households import audit, thresholds
from households.county_forms import AUDIT_TABS, AuditFilterForm, ThresholdForm
from households.models import MonitoringThreshold
from regions import selectors as region_selectors
from regions.backends import login_client_address
from regions.models import User


def _threshold_keeper(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    if not user.may_edit_thresholds():
        raise Http404
    return user


@login_required
def threshold_list(request: HttpRequest) -> HttpResponse:
    user = _threshold_keeper(request)
    return render(request, "households/threshold_list.html", {"rows": thresholds.threshold_rows(user=user)})


@login_required
@require_http_methods(["GET", "POST"])
def threshold_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    user = _threshold_keeper(request)
    threshold: MonitoringThreshold | None = None
    if pk is not None:
        threshold = thresholds.threshold_get(user=user, pk=pk)
        if threshold is None:
            raise Http404
    initial = {"year": thresholds.default_year(), "region": user.region} if threshold is None else None
    form = ThresholdForm(
        request.POST or None,
        instance=threshold,
        initial=initial,
        regions=thresholds.threshold_regions(user=user),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            thresholds.threshold_save(
                by=user,
                threshold=threshold,
                region=data["region"],
                year=data["year"],
                amount=data["amount"],
                source=data["source"],
                shown=data["shown"] or None,
                ip_address=login_client_address(request),
            )
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, errors in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:  # someone else saved it since the page was opened
                form.add_error(None, error.messages)
        else:
            messages.success(request, "监测标准已保存，相关指标将重新计算")
            return redirect("threshold_list")
    title = "新增监测标准" if threshold is None else "修改监测标准"
    return render(request, "households/threshold_form.html", {"form": form, "title": title})


@login_required
def audit_list(request: HttpRequest) -> HttpResponse:
    """Logins, account changes, personal-data views, exports and imports of the user's subtree, by tab."""
    user: User = request.user  # type: ignore[assignment]
    if not user.may_manage_accounts():
        raise Http404
    form = AuditFilterForm(request.GET or None, accounts=audit.audit_accounts(user=user))
    filters = form.filters()
    tab = filters.pop("tab")
    rows: QuerySet[Any]
    if tab == "exports":
        rows = audit.export_record_list(user=user, **filters)
    elif tab == "imports":
        rows = audit.import_batch_list(user=user, **filters)
    else:
        kinds = {"access": audit.ACCESS_KINDS, "accounts": audit.ACCOUNT_KINDS, "personal": audit.PERSONAL_KINDS}
        rows = region_selectors.audit_event_list(user=user, kinds=list(kinds[tab]), **filters)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    tab_query = query.copy()
    tab_query.pop("tab", None)
    return render(
        request,
        "households/audit_list.html",
        {
            "filter": {"form": form},
            "page": page,
            "tab": tab,
            "tabs": AUDIT_TABS,
            "query": query.urlencode(),
            "tab_query": tab_query.urlencode(),
        },
    )
