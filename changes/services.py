"""Writes of the change log: only pruning (the triggers write the rest)."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from changes.feed import Position, horizon
from changes.models import Change, PrunedThrough


@transaction.atomic
def change_log_prune(*, days: int) -> int:
    """Delete settled changes up to the last one older than `days` days in feed order; how many went.

    A cursor before that position is then refused with CursorExpired: its client must sync in full.
    """
    cutoff = timezone.now() - timedelta(days=days)
    last = (
        Change.objects.filter(horizon().settled(), at__lt=cutoff).order_by("-txid", "-id").values("txid", "id").first()
    )
    if last is None:
        return 0
    deleted, _ = Change.objects.filter(Position(last["txid"], last["id"]).at_or_before()).delete()
    marker, created = PrunedThrough.objects.select_for_update().get_or_create(
        pk=1, defaults={"txid": last["txid"], "change_id": last["id"], "pruned_at": timezone.now()}
    )
    if not created and (marker.txid, marker.change_id) < (last["txid"], last["id"]):
        marker.txid, marker.change_id, marker.pruned_at = last["txid"], last["id"], timezone.now()
        marker.save()
    return deleted
