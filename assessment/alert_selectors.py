"""Reads of the alerts: the inbox of a user's scope, one alert, its history, the home page's count."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.http import Http404

from assessment.models import Alert, AlertStatus
from figures import alerts as alert_registry
from figures.alerts import AlertRule
from figures.periods import Quarter
from households.models import Member, MonitoringCase, Relation
from regions.models import Level, Region, regions_visible_to

OPEN_STATUSES: list[str] = [AlertStatus.PENDING, AlertStatus.CONFIRMED]
# The inbox's status filter: "open" (the default, and what the home page counts) or one status.
STATUS_FILTERS: dict[str, list[str] | None] = {
    "open": OPEN_STATUSES,
    **{status.value: [status.value] for status in AlertStatus},
    "all": None,
}


def alert_list(
    *,
    user: Any,
    status: str = "open",
    rule: str = "",
    period: Quarter | None = None,
    region: Region | None = None,
    search: str = "",
) -> QuerySet[Alert]:
    """The alerts the user may see, filtered; bare rows ordered for the inbox (pair with `alert_rows`)."""
    alerts = Alert.objects.visible_to(user)
    statuses = STATUS_FILTERS.get(status, OPEN_STATUSES)
    if statuses is not None:
        alerts = alerts.filter(status__in=statuses)
    if rule:
        alerts = alerts.filter(rule=rule)
    if period is not None:
        alerts = alerts.filter(year=period.year, quarter=period.number)
    if region is not None:
        alerts = alerts.filter(household__village=region) if region.level == Level.VILLAGE else alerts.in_region(region)
    if search:
        alerts = alerts.filter(_search_condition(search.strip()))
    return alerts.order_by("-year", "-quarter", "household__village__code", "household__number", "rule")


def _search_condition(text: str) -> Q:
    """户编号 prefix, or the 户主's name (full name or surname) — never a 身份证号 (masked roles use the inbox)."""
    if text[:1].isdigit() or (text[:1] in "Ll" and text[1:2].isdigit()):
        return Q(household__number__startswith=text.upper())
    heads = Member.objects.filter(household=OuterRef("household"), relation=Relation.HEAD, name__startswith=text)
    return Q(Exists(heads.order_by()))


def open_alert_count(*, user: Any) -> int:
    """What the home page shows: the inbox's default list, counted."""
    return alert_list(user=user).count()


@dataclass
class AlertRow:
    """One inbox row: the alert with its household, 户主, the rule and the figures in order."""

    alert: Alert
    head_name: str
    rule: AlertRule | None
    figures: list[tuple[str, str]]
    monitored: bool

    @property
    def rule_name(self) -> str:
        return self.rule.name if self.rule else self.alert.rule


def alert_rows(*, ids: list[int]) -> list[AlertRow]:
    """The inbox's rows for these ids, in the given order, in one query."""
    heads = Member.objects.filter(household=OuterRef("household"), relation=Relation.HEAD, is_active=True).order_by()
    open_cases = MonitoringCase.objects.open().filter(household=OuterRef("household")).order_by()
    alerts = (
        Alert.objects.filter(pk__in=ids)
        .select_related("household", "household__village", "household__village__parent")
        .annotate(head_name=Subquery(heads.values("name")[:1]), monitored=Exists(open_cases))
    )
    by_id = {alert.pk: alert for alert in alerts}
    return [_row(by_id[pk]) for pk in ids if pk in by_id]


def _row(alert: Any) -> AlertRow:
    figures = alert.figures if isinstance(alert.figures, dict) else {}
    return AlertRow(
        alert=alert,
        head_name=getattr(alert, "head_name", None) or "",
        rule=alert_registry.get_rule(alert.rule),
        figures=[(str(label), str(value)) for label, value in figures.items()],
        monitored=bool(getattr(alert, "monitored", False)),
    )


def alert_get(*, user: Any, pk: int) -> AlertRow:
    """One alert the user may see, or 404 — never another township's."""
    rows = alert_rows(ids=list(Alert.objects.visible_to(user).filter(pk=pk).values_list("pk", flat=True)))
    if not rows:
        raise Http404("预警不存在或不在您的管辖范围内")
    return rows[0]


def alert_history(*, alert: Alert) -> QuerySet[Any]:
    """Every recorded change of the alert, newest first, with who made it."""
    return alert.history.select_related("history_user").order_by("-history_date", "-history_id")


def alert_quarters(*, user: Any) -> list[Quarter]:
    """The quarters that have alerts the user may see, newest first (the inbox's quarter filter)."""
    pairs = Alert.objects.visible_to(user).order_by("-year", "-quarter").values_list("year", "quarter").distinct()
    return [Quarter(year, number) for year, number in pairs]


def regions_for_filter(*, user: Any) -> QuerySet[Region]:
    """The regions below the user's own, for the inbox's 区划 filter: townships and villages for a county
    user, the counties too for a prefecture user (a county's dashboard links its alerts through it)."""
    own = getattr(user, "region", None)
    return (
        regions_visible_to(user)
        .filter(level__gt=own.level if own is not None else 0)
        .select_related("parent")
        .order_by("code")
    )
