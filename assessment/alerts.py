"""Writes of the alerts (预警): raising them from the registered rules, and their lifecycle.

Raising is idempotent: one alert per household, rule and quarter (a unique constraint), inserted
with ON CONFLICT DO NOTHING, so a second run adds nothing and an alert someone has already
confirmed or dismissed keeps its status. Every status change is a conditional update on the
status and version the user saw, so a second click or a colleague's concurrent change is refused
instead of silently overwritten; each change writes a history row with who and why.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from assessment.engine import counties_in
from assessment.models import Alert, AlertStatus
from assessment.policy import Policy
from figures import alerts as alert_registry
from figures.periods import Quarter
from regions.models import Level, Region

# Handling an alert is keeping the register: the roles that write households may do it; the
# viewing roles see the inbox only.
HANDLE_PERMISSION = "households.change_household"
OPEN = (AlertStatus.PENDING, AlertStatus.CONFIRMED)
# Which statuses each action starts from.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    AlertStatus.CONFIRMED: (AlertStatus.PENDING,),
    AlertStatus.DISMISSED: OPEN,
    AlertStatus.HANDLED: OPEN,
}
STALE = "该预警已被他人处理或已变更，请刷新后查看"
REASON_MAX = 500


def may_handle_alerts(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.has_perm(HANDLE_PERMISSION))


# --- raising ----------------------------------------------------------------------------------


def alerts_raise(*, scope: Region | None, period: Quarter, frozen_counties: Iterable[str] = ()) -> int:
    """Run every registered rule for each county of the scope (None: all) that is not frozen, and
    insert the alerts that are new; returns how many were added. One transaction; idempotent.

    Rules read the household facts of the period, which the engine has just refreshed for these
    counties. Parameters resolve as the engine resolves an indicator's: the nearest row at or
    above the county for the year, else the rule's default.
    """
    frozen = set(frozen_counties)
    counties = [county for county in counties_in(scope) if county.code not in frozen]
    if not counties:
        return 0
    policy = Policy(period=period)
    raised_at = timezone.now()
    added = 0
    with transaction.atomic():
        for county in counties:
            in_county = Alert.objects.filter(
                year=period.year, quarter=period.number, household__village__code__startswith=county.prefix
            )
            before = in_county.count()
            rows: list[Alert] = []
            for rule in alert_registry.rules():
                parameters = policy.parameters(rule.parameters, county.code, Level.COUNTY)
                for household_id, figures in rule.find(period=period, within=county.prefix, parameters=parameters):
                    rows.append(
                        Alert(
                            household_id=household_id,
                            rule=rule.code,
                            year=period.year,
                            quarter=period.number,
                            figures=figures,
                            raised_at=raised_at,
                        )
                    )
            Alert.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
            added += in_county.count() - before
    return added


# --- lifecycle --------------------------------------------------------------------------------


def _require_handler(by: Any) -> None:
    if not may_handle_alerts(by):
        raise PermissionDenied("您的角色只能查看预警，不能处理")


def _transition(*, by: Any, alert: Alert, status: str, reason: str, expected_version: int) -> Alert:
    _require_handler(by)
    reason = reason.strip()
    if status == AlertStatus.DISMISSED and not reason:
        raise ValidationError({"reason": "排除预警须填写原因"})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": "说明不能超过500字"})
    with transaction.atomic():
        changed = (
            Alert.objects.visible_to(by)
            .filter(pk=alert.pk, version=expected_version, status__in=TRANSITIONS[status])
            .update(status=status, reason=reason, version=F("version") + 1, updated_at=timezone.now())
        )
        if not changed:
            raise ValidationError(STALE, code="stale")
        fresh = Alert.objects.get(pk=alert.pk)
        _record_history([fresh], by=by, reason=reason)
    return fresh


def _record_history(alerts: list[Alert], *, by: Any, reason: str) -> None:
    """A history row per changed alert (conditional updates bypass save(), and so the history signal)."""
    Alert.history.bulk_history_create(alerts, update=True, default_user=by, default_change_reason=reason[:100])


def alert_confirm(*, by: Any, alert: Alert, expected_version: int, note: str = "") -> Alert:
    """待核实 → 已核实: the household was looked at and the alert holds."""
    return _transition(by=by, alert=alert, status=AlertStatus.CONFIRMED, reason=note, expected_version=expected_version)


def alert_dismiss(*, by: Any, alert: Alert, reason: str, expected_version: int) -> Alert:
    """→ 已排除, with the reason (required): the alert was looked at and does not hold."""
    return _transition(
        by=by, alert=alert, status=AlertStatus.DISMISSED, reason=reason, expected_version=expected_version
    )


def alert_handle(*, by: Any, alert: Alert, expected_version: int, note: str = "") -> Alert:
    """→ 已处置: the household was dealt with (data corrected, case opened, help arranged)."""
    return _transition(by=by, alert=alert, status=AlertStatus.HANDLED, reason=note, expected_version=expected_version)


def alerts_dismiss_bulk(*, by: Any, ids: Iterable[int], reason: str) -> int:
    """排除 many open alerts with one reason; returns how many changed.

    Ids the user cannot see, and alerts no longer open, are left alone without saying which.
    """
    _require_handler(by)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "批量排除须填写原因"})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": "说明不能超过500字"})
    wanted = sorted({int(pk) for pk in ids})
    if not wanted:
        return 0
    with transaction.atomic():
        # Lock what is still open and visible, then change exactly those rows.
        open_ids = list(
            Alert.objects.visible_to(by)
            .select_for_update(of=("self",))
            .filter(pk__in=wanted, status__in=OPEN)
            .values_list("pk", flat=True)
        )
        changed = Alert.objects.filter(pk__in=open_ids, status__in=OPEN).update(
            status=AlertStatus.DISMISSED, reason=reason, version=F("version") + 1, updated_at=timezone.now()
        )
        _record_history(list(Alert.objects.filter(pk__in=open_ids)), by=by, reason=reason)
    return changed
