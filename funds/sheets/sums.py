"""The sums behind the funds gates, for many allocations or funding lines at once (one grouped query
each), and the gates checked again at the confirmation on the data as written."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db.models import Sum

from funds.models import Allocation, Funding, Payment
from funds.sheets.base import locked, refuse_unless
from workbooks.records.planner import chunked

ZERO = Decimal("0.00")


def _totals(manager: Any, group: str, ids: Iterable[int]) -> dict[int, Decimal]:
    """Id → the sum of the amounts of the rows whose `group` is that id."""
    totals: dict[int, Decimal] = {}
    for chunk in chunked(set(ids)):
        rows = manager.filter(**{f"{group}__in": chunk}).order_by().values(group).annotate(total=Sum("amount"))
        totals.update({row[group]: row["total"] for row in rows})
    return totals


def allocation_usage(ids: Iterable[int]) -> dict[int, Decimal]:
    """Allocation id → what it gives away as recorded: its splits to townships and its funding lines."""
    wanted = set(ids)
    splits = _totals(Allocation.objects, "parent_id", wanted)
    lines = _totals(Funding.objects, "allocation_id", wanted)
    return {pk: splits.get(pk, ZERO) + lines.get(pk, ZERO) for pk in wanted}


def paid_on_lines(ids: Iterable[int]) -> dict[int, Decimal]:
    """Funding line id → what has been paid on it as recorded."""
    wanted = set(ids)
    paid = _totals(Payment.objects, "funding_id", wanted)
    return {pk: paid.get(pk, ZERO) for pk in wanted}


def allocations_hold(ids: Iterable[int]) -> None:
    """Each of these allocations (and the county allocations they split) gives away no more than it holds."""
    wanted = set(ids)
    parents = set(Allocation.objects.filter(pk__in=wanted, parent__isnull=False).values_list("parent_id", flat=True))
    rows = locked(Allocation, wanted | parents)
    usage = allocation_usage(row.pk for row in rows)
    for row in rows:
        refuse_unless(row.amount >= usage[row.pk], f"allocation {row.pk} over-used")


def lines_hold(ids: Iterable[int]) -> None:
    """Each of these funding lines has paid out no more than it holds."""
    rows = locked(Funding, ids)
    paid = paid_on_lines(row.pk for row in rows)
    for row in rows:
        refuse_unless(row.amount >= paid[row.pk], f"funding {row.pk} over-paid")
