"""The conflict queue: what the province last saw (from the record's history), who changed it since, and
the county administrator's resolution field by field through the same services.

The base is read from django-simple-history, which households, members, monitoring cases and income
records keep, every row with the record's version: the base is the history row at the version the
province sent. A household's members have no version of their own; their changes since the base are
the member history rows written after the base's household row, other than those written with it (the
same save: same user, same import batch, within SAME_SAVE of it). Every form save of a household
writes a household history row (households.services.household_update), so a county user's edit always
has one; only an import that changes members and no household field moves the version without one —
a base at such a version cannot be read back, and the write is answered 412 instead of queued.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, QuerySet
from django.http import Http404
from django.utils import timezone

from api.models import ApiClient, ApiConflict, ConflictStatus
from api.writers import MEMBER_STATE, WRITERS, RowInvalid, Writer, json_value
from households.models import AssistanceMeasure, Household, IncomeRecord, Member, MonitoringCase, RiskType
from regions.models import Role
from regions.reference import reference_changed, reference_get

SAME_SAVE = timedelta(seconds=2)


class History:
    """The record's history around one version: who changed it after, and what it was at that version."""

    def __init__(self, authors: set[int | None], base: dict[str, Any] | None) -> None:
        self.authors = authors
        self.base = base


def history_since(writer: Writer, instance: Any, version: int) -> History:
    """Who changed the record after `version`, and its values at `version` (None when the history cannot tell)."""
    rows = list(writer.model.history.filter(id=instance.pk).order_by("history_date", "history_id"))  # type: ignore[attr-defined]
    base_row = next((row for row in reversed(rows) if row.version == version and row.history_type != "-"), None)
    authors = {row.history_user_id for row in rows if row.version > version}
    if base_row is None:
        return History(authors, None)
    base = _row_state(writer, base_row)
    if isinstance(instance, Household):
        members = list(Member.history.filter(household_id=instance.pk).order_by("history_date", "history_id"))
        later = [row for row in members if row.history_date > base_row.history_date and not _same_save(row, base_row)]
        later_ids = {row.history_id for row in later}
        authors |= {row.history_user_id for row in later}
        for row in members:
            if row.history_id in later_ids or row.history_type == "-":
                continue
            for name in MEMBER_STATE:
                base[f"members.{row.id_number}.{name}"] = json_value(getattr(row, name))
    return History(authors, base)


def _same_save(row: Any, base_row: Any) -> bool:
    return (
        row.history_user_id == base_row.history_user_id
        and row.import_batch_id == base_row.import_batch_id
        and row.history_date - base_row.history_date < SAME_SAVE
    )


def _row_state(writer: Writer, row: Any) -> dict[str, Any]:
    """A history row's values, flat as the writer's state()."""
    instance = row.instance
    if isinstance(instance, Household):
        return writer.household_state(instance)  # type: ignore[attr-defined]
    if isinstance(instance, MonitoringCase):
        state = writer.case_state(instance)  # type: ignore[attr-defined]
        for name in ("risk_types", "measures"):
            codes = []
            for item in getattr(row, name).all():
                for field in item._meta.concrete_fields:
                    related = getattr(item, field.name, None) if field.is_relation else None
                    if isinstance(related, (RiskType, AssistanceMeasure)):
                        codes.append(related.code)
            state[name] = sorted(codes)
        return state
    return writer.state(instance)


def conflict_record(
    *,
    writer: Writer,
    client: ApiClient,
    instance: Any,
    base_version: int,
    base: dict[str, Any],
    theirs: dict[str, Any],
    ours: dict[str, Any],
) -> ApiConflict:
    """Queue the province's write: every field it changes, with the base, the county's value and its own."""
    fields = [
        {"key": key, "label": writer.field_label(key), "base": base.get(key), "ours": ours.get(key), "theirs": value}
        for key, value in theirs.items()
        if ours.get(key) != value
    ]
    reference_changed("api_conflicts")
    return ApiConflict.objects.create(
        client=client,
        resource=writer.resource,
        record_id=instance.pk,
        record_label=writer.label(instance)[:200],
        region=writer.region(instance),
        base_version=base_version,
        record_version=instance.version,
        fields=fields,
        payload=theirs,
    )


# --- the county's side: the page -------------------------------------------------------------------------


RESOLVING_ROLES = (Role.COUNTY_ADMIN, Role.TOWNSHIP_ADMIN, Role.SYSTEM_ADMIN)


def may_resolve_conflicts(user: Any) -> bool:
    """County and township administrators (their own subtree) and system administrators."""
    return bool(user.is_authenticated and (user.is_superuser or getattr(user, "role", "") in RESOLVING_ROLES))


def conflict_list(*, user: Any, status: str = ConflictStatus.OPEN) -> QuerySet[ApiConflict]:
    conflicts = ApiConflict.objects.visible_to(user).select_related("client", "region", "resolved_by")
    if status:
        conflicts = conflicts.filter(status=status)
    return conflicts.order_by("-created_at", "-pk")


def open_conflict_count(*, user: Any) -> int:
    """The menu's count on every page an administrator opens: kept per scope in the reference cache,
    made stale whenever a conflict is queued or resolved."""
    if not may_resolve_conflicts(user):
        return 0
    prefix = user.scope_prefix()
    if prefix is None:
        return 0
    return reference_get(
        "api_conflicts",
        prefix or "all",
        lambda: ApiConflict.objects.visible_to(user).filter(status=ConflictStatus.OPEN).count(),
    )


def conflict_get(*, user: Any, pk: int) -> ApiConflict:
    """One conflict in the user's subtree, or 404."""
    conflict = conflict_list(user=user, status="").filter(pk=pk).first()
    if conflict is None:
        raise Http404("冲突记录不存在或不在您的管辖范围内")
    return conflict


MODELS = {"households": Household, "income-records": IncomeRecord, "monitoring-cases": MonitoringCase}


def conflict_record_now(*, conflict: ApiConflict, user: Any) -> Any:
    """The conflicted record as it is now, if the user may still see it (None: deleted or moved away)."""
    model: Any = MODELS[conflict.resource]
    return model.objects.visible_to(user).filter(pk=conflict.record_id).first()


def conflict_rows(*, conflict: ApiConflict, user: Any) -> tuple[Any, list[dict[str, Any]]]:
    """The record now and, per field, base, the county's value now ('ours') and the province's ('theirs')."""
    instance = conflict_record_now(conflict=conflict, user=user)
    current = WRITERS[conflict.resource](user).state(instance) if instance is not None else {}
    rows = [{**field, "ours": current.get(field["key"], field["ours"])} for field in conflict.fields]
    return instance, rows


@transaction.atomic
def conflict_resolve(
    *, conflict: ApiConflict, user: Any, choices: dict[str, str], conflict_version: int, record_version: int
) -> ApiConflict:
    """Take each field from the county ('ours') or the province ('theirs') and write the result as the user,
    through the services; refused when another administrator resolved it first or the record moved on."""
    if not may_resolve_conflicts(user):
        raise ValidationError("只有县级、乡镇管理员可以处理接口冲突")
    missing = [field["label"] for field in conflict.fields if choices.get(field["key"]) not in ("ours", "theirs")]
    if missing:
        raise ValidationError(f"请为每个字段选择保留本地或采用省级：{'、'.join(missing)}")
    reference_changed("api_conflicts")
    claimed = ApiConflict.objects.filter(pk=conflict.pk, status=ConflictStatus.OPEN, version=conflict_version).update(
        status=ConflictStatus.RESOLVED,
        version=F("version") + 1,
        resolved_at=timezone.now(),
        resolved_by=user,
        resolution={field["key"]: choices[field["key"]] for field in conflict.fields},
    )
    if not claimed:
        raise ValidationError("该冲突已由他人处理，或页面已过期，请刷新后查看")
    instance = conflict_record_now(conflict=conflict, user=user)
    if instance is None:
        raise Http404("记录不存在或不在您的管辖范围内")
    taken = {field["key"]: field["theirs"] for field in conflict.fields if choices[field["key"]] == "theirs"}
    if taken:
        writer = WRITERS[conflict.resource](user)
        model: Any = type(instance)
        instance = model.objects.select_for_update().get(pk=instance.pk)
        values = {**writer.state(instance), **taken}
        try:
            writer.save(
                instance,
                values,
                expected_version=record_version,
                reason=f"处理接口冲突 #{conflict.pk}（接口客户端 {conflict.client.name}）",
            )
        except RowInvalid as error:
            # The province's values no longer fit the record (cancelled since, a member's number taken…):
            # the claim rolls back with the write and the conflict stays open for 保留本地.
            raise ValidationError(
                [
                    f"{writer.field_label(item['field'])}：{item['message']}" if item.get("field") else item["message"]
                    for item in error.errors
                ]
            ) from error
    conflict.refresh_from_db()
    return conflict
