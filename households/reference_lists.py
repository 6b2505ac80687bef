"""The 风险类型 and 帮扶措施 a county administrator keeps for their county: reads and writes, audited.

The province's entries (no region, seeded by migrations, kept by the system administrator in the admin)
apply everywhere and are read-only here; a county adds its own, renames them and 停用/启用 them. An entry
is never deleted: cases keep the entries they were given, and show them after they are 停用.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max

from households.models import AssistanceMeasure, CountyReferenceItem, RiskType
from households.services import attribute_history, claim_next_version
from regions.models import AuditKind, Region, User
from regions.services import audit_record


@dataclass(frozen=True)
class ReferenceList:
    """One list the page shows: its URL slug, model and name."""

    slug: str
    model: type[CountyReferenceItem]
    label: str


LISTS = {
    "risk-types": ReferenceList("risk-types", RiskType, "风险类型"),
    "measures": ReferenceList("measures", AssistanceMeasure, "帮扶措施"),
}


def reference_county(*, user: User) -> Region | None:
    """The county whose lists the user keeps: a county administrator's own; None for everyone else."""
    return user.region if user.may_keep_reference_lists() else None


def reference_items(*, county: Region, reference_list: ReferenceList) -> list[CountyReferenceItem]:
    """The entries the county's users choose from: the province's first, then the county's own, active or not."""
    items = reference_list.model.objects.for_county(county.code).select_related("region")
    return list(items.order_by(F("region").asc(nulls_first=True), "sort_order", "code"))


def reference_item_get(*, county: Region, reference_list: ReferenceList, pk: int) -> CountyReferenceItem | None:
    """One of the county's own entries, or None (a province-wide entry, another county's, no such entry)."""
    return reference_list.model.objects.filter(pk=pk, region=county).select_related("region").first()


def _next_code(model: type[CountyReferenceItem], county: Region) -> str:
    """A code no entry has: the county's six digits and a running number (the API and dashboards name an
    entry by its code, so a county's never collides with the province's or another county's)."""
    number = model.objects.filter(region=county).count() + 1
    while model.objects.filter(code=f"{county.prefix}_{number}").exists():
        number += 1
    return f"{county.prefix}_{number}"


def _lock(county: Region) -> None:
    # Two administrators adding or renaming at once: one waits, then sees the other's name in clean().
    Region.objects.select_for_update().filter(pk=county.pk).first()


def _audit(*, by: User, reference_list: ReferenceList, detail: str, ip_address: str | None) -> None:
    audit_record(
        kind=AuditKind.REFERENCE_CHANGED, user=by, subject=reference_list.label, detail=detail, ip_address=ip_address
    )


@transaction.atomic
def reference_item_add(
    *, by: User, county: Region, reference_list: ReferenceList, name: str, ip_address: str | None = None
) -> CountyReferenceItem:
    """Add an entry to the county's list, after every entry its users already choose from."""
    _lock(county)
    model = reference_list.model
    last = model.objects.for_county(county.code).aggregate(last=Max("sort_order"))["last"] or 0
    item = model(region=county, name=name, code=_next_code(model, county), sort_order=last + 1)
    item.full_clean()
    attribute_history(item, by)
    item.save()
    _audit(
        by=by, reference_list=reference_list, detail=f"{county.name}新增“{name}”（{item.code}）", ip_address=ip_address
    )
    return item


@transaction.atomic
def reference_item_rename(
    *,
    by: User,
    item: CountyReferenceItem,
    reference_list: ReferenceList,
    name: str,
    expected_version: int,
    ip_address: str | None = None,
) -> CountyReferenceItem:
    """Rename one of the county's entries; a rename over someone else's later change is refused."""
    county = _own_county(item)
    _lock(county)
    before = item.name
    claim_next_version(item, expected_version)  # type: ignore[arg-type]
    item.name = name
    item.full_clean()
    attribute_history(item, by)
    item.save()
    _audit(by=by, reference_list=reference_list, detail=f"{county.name}“{before}”改名为“{name}”", ip_address=ip_address)
    return item


@transaction.atomic
def reference_item_set_active(
    *,
    by: User,
    item: CountyReferenceItem,
    reference_list: ReferenceList,
    active: bool,
    expected_version: int,
    ip_address: str | None = None,
) -> CountyReferenceItem:
    """停用 (no longer offered for new records; those that have it still show it) or 启用 again."""
    county = _own_county(item)
    claim_next_version(item, expected_version)  # type: ignore[arg-type]
    item.is_active = active
    attribute_history(item, by)
    item.save()
    action = "启用" if active else "停用"
    _audit(by=by, reference_list=reference_list, detail=f"{county.name}{action}“{item.name}”", ip_address=ip_address)
    return item


def _own_county(item: CountyReferenceItem) -> Region:
    if item.region is None:
        raise ValidationError("全省统一的条目只能由系统管理员修改")
    return item.region
