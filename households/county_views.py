"""Pages of a county that runs itself: its 监测标准 and reference lists, and the audit of who did what."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from households import audit, reference_lists, thresholds
from households.county_forms import AUDIT_TABS, AuditFilterForm, ReferenceItemForm, ThresholdForm
from households.models import MonitoringThreshold
from households.reference_lists import LISTS, ReferenceList
from households.services import ConcurrentEditError
from regions import selectors as region_selectors
from regions.backends import login_client_address
from regions.models import Region, User


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


def _reference_keeper(request: HttpRequest, slug: str | None = None) -> tuple[User, Region, ReferenceList | None]:
    """The county administrator, their county and the list named in the URL; 404 for anyone else."""
    user: User = request.user  # type: ignore[assignment]
    county = reference_lists.reference_county(user=user)
    if county is None or (slug is not None and slug not in LISTS):
        raise Http404
    return user, county, LISTS[slug] if slug is not None else None


@login_required
def reference_list(request: HttpRequest) -> HttpResponse:
    """Both lists of the county: the province's entries (read-only) and the county's own."""
    _, county, _ = _reference_keeper(request)
    lists = [
        (reference_list, reference_lists.reference_items(county=county, reference_list=reference_list))
        for reference_list in LISTS.values()
    ]
    return render(request, "households/reference_list.html", {"lists": lists, "county": county})


@login_required
@require_http_methods(["GET", "POST"])
def reference_edit(request: HttpRequest, slug: str, pk: int | None = None) -> HttpResponse:
    """Add an entry to one of the county's lists, or rename one of its own."""
    user, county, found = _reference_keeper(request, slug)
    assert found is not None
    item = None
    if pk is not None:
        item = reference_lists.reference_item_get(county=county, reference_list=found, pk=pk)
        if item is None:
            raise Http404
    initial = {"name": item.name, "version": item.version} if item is not None else None
    form = ReferenceItemForm(request.POST or None, initial=initial, label=found.label)
    if request.method == "POST" and form.is_valid():
        name, version = form.cleaned_data["name"], form.cleaned_data["version"]
        try:
            if item is None:
                reference_lists.reference_item_add(
                    by=user, county=county, reference_list=found, name=name, ip_address=login_client_address(request)
                )
            elif version is None:
                raise ConcurrentEditError()
            else:
                reference_lists.reference_item_rename(
                    by=user,
                    item=item,
                    reference_list=found,
                    name=name,
                    expected_version=version,
                    ip_address=login_client_address(request),
                )
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, f"{found.label}“{name}”已保存")
            return redirect("reference_list")
    title = f"新增{found.label}" if item is None else f"修改{found.label}"
    return render(request, "households/reference_form.html", {"form": form, "title": title, "item": item})


@login_required
@require_POST
def reference_set_active(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """停用 or 启用 one of the county's own entries, then back to the lists."""
    user, county, found = _reference_keeper(request, slug)
    assert found is not None
    item = reference_lists.reference_item_get(county=county, reference_list=found, pk=pk)
    if item is None:
        raise Http404
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        messages.error(request, "页面已过期，请刷新后重新操作")
        return redirect("reference_list")
    active = request.POST.get("active") == "1"
    try:
        reference_lists.reference_item_set_active(
            by=user,
            item=item,
            reference_list=found,
            active=active,
            expected_version=version,
            ip_address=login_client_address(request),
        )
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
    else:
        messages.success(request, f"{found.label}“{item.name}”已{'启用' if active else '停用'}")
    return redirect("reference_list")


def _apply_errors(form: ReferenceItemForm, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


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
