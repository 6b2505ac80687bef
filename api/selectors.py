"""Reads for the client pages: clients, tokens and calls, scoped to the admin's subtree."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from api.models import ApiCall, ApiClient, ApiToken, Reconciliation, ReconciliationDifference
from regions.models import Level, Region, Role, regions_visible_to
from regions.selectors import day_range


def may_manage_clients(user: Any) -> bool:
    """County administrators (for their county) and system administrators manage API clients."""
    return bool(user.is_authenticated and (user.is_superuser or user.role in (Role.COUNTY_ADMIN, Role.SYSTEM_ADMIN)))


def client_regions(*, user: Any) -> QuerySet[Region]:
    """Regions a client of this admin may be given: the admin's subtree, from the province down to counties."""
    return regions_visible_to(user).filter(level__lte=Level.COUNTY).order_by("code")


def api_client_list(*, user: Any) -> QuerySet[ApiClient]:
    now = timezone.now()
    live = Q(tokens__revoked_at__isnull=True, tokens__expires_at__gt=now)
    return (
        ApiClient.objects.visible_to(user)
        .select_related("region", "created_by")
        .annotate(live_tokens=Count("tokens", filter=live))
        .order_by("region__code", "name")
    )


def api_client_get(*, user: Any, pk: int) -> ApiClient:
    """One client in the admin's subtree, or 404 — another county's clients do not exist for them."""
    client = ApiClient.objects.visible_to(user).select_related("region", "created_by").filter(pk=pk).first()
    if client is None:
        raise Http404("接口客户端不存在或不在您的管辖范围内")
    return client


def api_client_tokens(*, client: ApiClient) -> QuerySet[ApiToken]:
    return client.tokens.select_related("created_by").order_by("-created_at")


def api_token_get(*, client: ApiClient, pk: int) -> ApiToken:
    token = client.tokens.filter(pk=pk).first()
    if token is None:
        raise Http404("令牌不存在")
    return token


def api_call_list(
    *, user: Any, client: ApiClient | None = None, day_from: date | None = None, day_to: date | None = None
) -> QuerySet[ApiCall]:
    """Calls of the clients in the admin's subtree, newest first; refused calls of no known client only
    for those who see everything."""
    calls = ApiCall.objects.select_related("client")
    if user.scope_prefix() != "":
        calls = calls.filter(client__in=ApiClient.objects.visible_to(user))
    if client is not None:
        calls = calls.filter(client=client)
    calls = calls.filter(
        **{f"at__{lookup}": value for lookup, value in day_range(since=day_from, until=day_to).items()}
    )
    return calls.order_by("-at", "-pk")


def reconciliation_list(*, user: Any) -> QuerySet[Reconciliation]:
    """Reconciliations of the admin's clients for counties in the admin's subtree, newest first."""
    return (
        Reconciliation.objects.visible_to(user)
        .filter(client__in=ApiClient.objects.visible_to(user))
        .select_related("client", "county")
        .order_by("-created_at", "-pk")
    )


def reconciliation_get(*, user: Any, pk: int) -> Reconciliation:
    found = reconciliation_list(user=user).filter(pk=pk).first()
    if found is None:
        raise Http404("核对记录不存在或不在您的管辖范围内")
    return found


def reconciliation_differences(
    *, reconciliation: Reconciliation, problem: str | None = None, kind: str | None = None
) -> QuerySet[ReconciliationDifference]:
    rows = reconciliation.differences.order_by("pk")
    if problem:
        rows = rows.filter(problem=problem)
    if kind:
        rows = rows.filter(kind=kind)
    return rows
