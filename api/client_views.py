"""接口客户端 pages: county and system administrators create clients, issue, rotate and revoke their
tokens, deactivate them, and read their calls. A token is shown once, on the page that issued it."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from api import selectors, services
from api.forms import ApiClientForm, CallFilterForm
from api.models import EntryKind, Problem
from api.resources import RESOURCES
from api.services import IssuedToken
from households.personal_data import text_shown_to

CALLS_PER_PAGE = 50


def _require_manager(request: HttpRequest) -> None:
    if not selectors.may_manage_clients(request.user):
        raise PermissionDenied("只有县级管理员和系统管理员可以管理接口客户端")


def _titles(names: list[str]) -> list[str]:
    return [RESOURCES[name].title for name in names if name in RESOURCES]


@login_required
def client_list(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    return render(request, "api/client_list.html", {"clients": selectors.api_client_list(user=request.user)})


def _token_shown(request: HttpRequest, issued: IssuedToken, *, rotated: bool) -> HttpResponse:
    # Rendered, never redirected to: the token exists in this response and nowhere else.
    response = render(
        request, "api/token_shown.html", {"issued": issued, "client": issued.token.client, "rotated": rotated}
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@never_cache
def client_create(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    form = ApiClientForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            issued = services.api_client_create(
                name=data["name"],
                region=data["region"],
                readable=data["readable"],
                writable=data["writable"],
                may_view_personal_data=data["may_view_personal_data"],
                throttle_rate=data["throttle_rate"],
                by=request.user,
            )
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            return _token_shown(request, issued, rotated=False)
    return render(request, "api/client_form.html", {"form": form})


def _apply_errors(form: Any, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


@login_required
def client_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    client = selectors.api_client_get(user=request.user, pk=pk)
    return render(
        request,
        "api/client_detail.html",
        {
            "client": client,
            "tokens": selectors.api_client_tokens(client=client),
            "readable": _titles(client.readable),
            "writable": _titles(client.writable),
            "recent_calls": selectors.api_call_list(user=request.user, client=client)[:10],
            "now": timezone.now(),
        },
    )


@login_required
@require_POST
@never_cache
def client_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    client = selectors.api_client_get(user=request.user, pk=pk)
    if not client.is_active:
        messages.error(request, "客户端已停用，不能签发新令牌")
        return redirect("api_client_detail", pk=client.pk)
    return _token_shown(request, services.api_token_rotate(client=client, by=request.user), rotated=True)


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int, token_pk: int) -> HttpResponse:
    _require_manager(request)
    client = selectors.api_client_get(user=request.user, pk=pk)
    token = selectors.api_token_get(client=client, pk=token_pk)
    if services.api_token_revoke(token=token):
        messages.success(request, f"令牌 {token.hint}… 已吊销，立即失效")
    return redirect("api_client_detail", pk=client.pk)


@login_required
@require_POST
def client_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    client = selectors.api_client_get(user=request.user, pk=pk)
    if services.api_client_deactivate(client=client):
        messages.success(request, f"客户端“{client.name}”已停用，其全部令牌立即失效")
    return redirect("api_client_detail", pk=client.pk)


@login_required
def call_log(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    form = CallFilterForm(request.GET or None, clients=selectors.api_client_list(user=request.user))
    filters = form.cleaned_data if form.is_valid() else {}
    calls = selectors.api_call_list(
        user=request.user,
        client=filters.get("client"),
        day_from=filters.get("day_from"),
        day_to=filters.get("day_to"),
    )
    if form.errors:  # the page says which filter is wrong; listing every call instead would read as its answer
        calls = calls.none()
    page = Paginator(calls, CALLS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "api/call_log.html", {"form": form, "page": page, "query": query.urlencode()})


DIFFERENCES_PER_PAGE = 100


@login_required
def reconciliation_list(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    page = Paginator(selectors.reconciliation_list(user=request.user), CALLS_PER_PAGE).get_page(request.GET.get("page"))
    for reconciliation in page:
        counts = reconciliation.summary.values()
        reconciliation.totals = {  # type: ignore[attr-defined]
            problem: sum(kind.get(problem, 0) for kind in counts) for problem in Problem.values
        }
    return render(request, "api/reconciliation_list.html", {"page": page, "query": ""})


@login_required
def reconciliation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    reconciliation = selectors.reconciliation_get(user=request.user, pk=pk)
    problem = request.GET.get("problem") if request.GET.get("problem") in Problem.values else None
    kind = request.GET.get("kind") if request.GET.get("kind") in EntryKind.values else None
    rows = selectors.reconciliation_differences(reconciliation=reconciliation, problem=problem, kind=kind)
    page = Paginator(rows, DIFFERENCES_PER_PAGE).get_page(request.GET.get("page"))
    for difference in page:
        difference.shown_key = text_shown_to(request.user, difference.key)  # type: ignore[attr-defined]
    query = request.GET.copy()
    query.pop("page", None)
    summary = [
        (EntryKind(kind_value).label, reconciliation.summary.get(kind_value, {})) for kind_value in EntryKind.values
    ]
    return render(
        request,
        "api/reconciliation_detail.html",
        {
            "reconciliation": reconciliation,
            "summary": summary,
            "page": page,
            "query": query.urlencode(),
            "problems": Problem.choices,
            "kinds": EntryKind.choices,
            "problem": problem or "",
            "kind": kind or "",
        },
    )
