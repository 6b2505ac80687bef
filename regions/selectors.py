"""Reads for the account pages and the audit of logins and account changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from regions.models import ROLE_LEVEL, AuditEvent, Region, RegionQuerySet, User


def accounts_managed_by(*, user: User) -> QuerySet[User]:
    """Accounts the user administers: the roles they keep, inside their subtree, never their own, and never
    a superuser's (whatever role and region it carries: resetting its password would hand over everything)."""
    prefix = user.scope_prefix()
    roles = user.managed_roles()
    if prefix is None or not roles:
        return User.objects.none()
    accounts = User.objects.filter(role__in=roles, region__code__startswith=prefix).exclude(pk=user.pk)
    return accounts if user.is_superuser else accounts.exclude(is_superuser=True)


def account_list(
    *, user: User, region: Region | None = None, role: str = "", active: bool | None = None
) -> QuerySet[User]:
    """The account list page: filtered, ordered by region then username."""
    accounts = accounts_managed_by(user=user).select_related("region")
    if region is not None:
        accounts = accounts.filter(region__code__startswith=region.prefix)
    if role:
        accounts = accounts.filter(role=role)
    if active is not None:
        accounts = accounts.filter(is_active=active)
    return accounts.order_by("region__code", "username")


def account_get(*, user: User, pk: int) -> User:
    """One account the user administers; 404 for anyone else's, however it was guessed."""
    return get_object_or_404(accounts_managed_by(user=user).select_related("region"), pk=pk)


def account_locked_out(*, account: User) -> bool:
    """Whether repeated failures have locked the account's login from some address (django-axes)."""
    from axes.models import AccessAttempt

    limit = settings.AXES_FAILURE_LIMIT
    return AccessAttempt.objects.filter(username=account.username, failures_since_start__gte=limit).exists()


def regions_for_accounts(*, user: User) -> RegionQuerySet:
    """The regions the user may place accounts in: their subtree, at the levels of the roles they keep."""
    prefix = user.scope_prefix()
    levels = {ROLE_LEVEL[role] for role in user.managed_roles()}
    if prefix is None or not levels:
        return RegionQuerySet(Region).none()
    regions = RegionQuerySet(Region).filter(code__startswith=prefix)
    if None not in levels:
        regions = regions.filter(level__in=levels)
    return regions.order_by("code")


def day_range(*, since: date | None, until: date | None) -> dict[str, Any]:
    """Lookups for a datetime between two calendar days (both included) in the site's time zone."""
    lookups: dict[str, datetime] = {}
    start = _day_start(since) if since is not None else None
    if start is not None:
        lookups["gte"] = start
    end = _day_start(until + timedelta(days=1)) if until is not None and until < date.max else None
    if end is not None:
        lookups["lt"] = end
    return lookups


def _day_start(day: date) -> datetime | None:
    """Midnight of the day in the site's time zone; None on the calendar's first day, which a datetime in UTC
    (what the database holds) cannot express: the range is then open at that end."""
    start = timezone.make_aware(datetime.combine(day, time.min))
    try:
        start.astimezone(UTC)
    except OverflowError:
        return None
    return start


def audit_event_list(
    *,
    user: User,
    kinds: list[str] | None = None,
    username: str = "",
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[AuditEvent]:
    """Audit events in the user's subtree, newest first."""
    events = AuditEvent.objects.visible_to(user).select_related("region")
    if kinds:
        events = events.filter(kind__in=kinds)
    if username:
        events = events.filter(username=username)
    events = events.filter(**{f"at__{lookup}": value for lookup, value in day_range(since=since, until=until).items()})
    return events.order_by("-at", "-pk")
