"""Writes: every way a household, member, monitoring case or income record changes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connections, router, transaction
from django.db.models import F, Model
from django.utils.translation import gettext as _

from households import formulas
from households.closing import require_quarter_open
from households.id_numbers import normalise_id_number
from households.models import (
    AMOUNT_FIELDS,
    MAX_RISK_TYPES,
    AssistanceMeasure,
    EliminationMethod,
    Household,
    HouseholdStatus,
    IncomeRecord,
    Member,
    MonitoringCase,
    Relation,
    RiskType,
    VersionedModel,
)
from households.plausibility import wages_above_bound
from households.quarter import Quarter
from households.selectors import threshold_for, trailing_per_capita
from regions.models import Region, regions_visible_to
from regions.services import data_changed


class ConcurrentEditError(ValidationError):
    """Someone else saved this record after the user opened it."""

    def __init__(self) -> None:
        super().__init__(_("该记录已被他人修改，您的修改未保存。请刷新页面查看最新内容后重新填写。"), code="stale")


def require_permission(user: Any, codename: str) -> None:
    if not user.has_perm(codename):
        raise PermissionDenied(_("您的角色没有此操作权限"))


def claim_next_version(instance: VersionedModel, expected_version: int | None = None) -> None:
    """Claim the next version atomically; refuse when the row moved on since it was read."""
    if expected_version is None:
        expected_version = instance.version
    claimed = (
        type(instance)
        ._default_manager.filter(pk=instance.pk, version=expected_version)
        .update(version=F("version") + 1)
    )
    if claimed != 1:
        raise ConcurrentEditError()
    instance.version = expected_version + 1


def attribute_history(instance: Model, by: Any, reason: str = "") -> None:
    """What simple-history records as who and why (the request middleware is not there for tasks and imports)."""
    instance._history_user = by if getattr(by, "pk", None) else None  # type: ignore[attr-defined]
    if reason:
        instance._change_reason = reason  # type: ignore[attr-defined]


def require_region_in_scope(by: Any, region: Region) -> None:
    """A region outside the user's subtree is refused, whatever the page sent."""
    if not regions_visible_to(by).filter(pk=region.pk).exists():
        raise PermissionDenied(_("所选区划不在您的管辖范围内"))


def require_row_in_scope(by: Any, instance: Model) -> None:
    """A stored row the user may not see is refused, whatever the page sent."""
    if not type(instance)._default_manager.visible_to(by).filter(pk=instance.pk).exists():  # type: ignore[attr-defined]
        raise PermissionDenied(_("该记录不在您的管辖范围内"))


def register_row_save(
    instance: Model,
    *,
    by: Any,
    codes: Iterable[str],
    duplicate: ValidationError | None = None,
    reason: str = "",
) -> None:
    """A later register's row: validate, save with history attributed to `by`, mark the regions as changed.

    `duplicate` is what the user reads when a concurrent save of the same key wins the race.
    """
    instance.full_clean()
    attribute_history(instance, by, reason)
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as error:
        if duplicate is None:
            raise
        raise duplicate from error
    data_changed(codes=list(codes))


def register_row_delete(instance: VersionedModel, *, by: Any, codes: Iterable[str], expected_version: int) -> None:
    """Remove a later register's row at the version the page showed, with history, marking the regions."""
    claim_next_version(instance, expected_version)
    attribute_history(instance, by)
    instance.delete()
    data_changed(codes=list(codes))


def _save(instance: Model, *, by: Any, reason: str = "") -> None:
    """Validate with the model's rules, then save with the history attributed to `by`."""
    instance.full_clean()
    attribute_history(instance, by, reason)
    instance.save()
    _announce(instance)


def _announce(instance: Model) -> None:
    """The county of the record's household now has newer data than its computed indicators."""
    household = instance if isinstance(instance, Household) else getattr(instance, "household", None)
    if household is not None:
        data_changed(codes=[household.village.code])


@dataclass
class MemberData:
    """One member row as a form or import hands it over; `pk` is None for a new member."""

    name: str
    id_number: str
    relation: str
    labour: str
    health: str = "healthy"
    schooling: str = "none"
    work_place: str = ""
    work_months: int = 0
    medical_insurance: bool = True
    pk: int | None = None
    remove: bool = False
    left_reason: str = ""
    left_on: date | None = None


MEMBER_FIELDS = [
    "name",
    "id_number",
    "relation",
    "labour",
    "health",
    "schooling",
    "work_place",
    "work_months",
    "medical_insurance",
]


def _check_exactly_one_head(members: Sequence[MemberData]) -> None:
    heads = [m for m in members if not m.remove and m.relation == Relation.HEAD]
    if len(heads) == 0:
        raise ValidationError({"members": _("请指定一名户主")})
    if len(heads) > 1:
        raise ValidationError({"members": _("一户只能有一名户主，当前有%(n)d名") % {"n": len(heads)}})


@transaction.atomic
def household_register(*, by: Any, household: Household, members: Sequence[MemberData], reason: str = "") -> Household:
    """Create a household with its members; all or nothing."""
    require_permission(by, "households.add_household")
    _require_in_scope(by, household)
    _check_exactly_one_head(members)
    _save(household, by=by, reason=reason)
    _apply_members(by=by, household=household, members=members, reason=reason)
    return household


@transaction.atomic
def household_update(
    *,
    by: Any,
    household: Household,
    members: Sequence[MemberData] | None = None,
    expected_version: int | None = None,
    reason: str = "",
) -> Household:
    """Save edits to a household (and optionally its members), refusing stale versions.

    Only what changed is saved, so history gets a row for the household or a member only when
    its own fields changed; a save that changes nothing writes nothing.
    """
    require_permission(by, "households.change_household")
    _require_in_scope(by, household)
    if members is not None:
        _check_exactly_one_head(members)
    household_changed = _household_changed(household)
    members_changed = members is not None and _members_changed(household, members)
    if not household_changed and not members_changed:
        _require_current_version(household, expected_version)
        return household
    # The version guards the whole edit page, members included, so a member's change claims it too.
    claim_next_version(household, expected_version)
    # Saved even when only members changed: every version of a household then has a history row, which
    # is how the API's conflict queue reads what a version was and who made the next one. (A row that
    # changes no field of its own is not shown on the history page.)
    _save(household, by=by, reason=reason)
    if members is not None:
        _apply_members(by=by, household=household, members=members, reason=reason)
    return household


def _require_current_version(instance: VersionedModel, expected_version: int | None) -> None:
    """Refuse a stale version without claiming the next one (for a save that changes nothing)."""
    version = instance.version if expected_version is None else expected_version
    if not type(instance)._default_manager.filter(pk=instance.pk, version=version).exists():
        raise ConcurrentEditError()


def _household_changed(household: Household) -> bool:
    """Whether any field a user edits differs from the stored row."""
    stored = Household.objects.filter(pk=household.pk).first()
    if stored is None:
        return True
    return any(
        getattr(stored, field.attname) != getattr(household, field.attname)
        for field in Household._meta.concrete_fields
        if field.editable and not field.primary_key
    )


def _member_changed(member: Member, data: MemberData) -> bool:
    """Whether saving `data` over `member` (an existing row) would change it."""
    if data.remove:
        return member.is_active
    if not member.is_active:
        return True
    for name in MEMBER_FIELDS:
        wanted = getattr(data, name)
        if name == "id_number":
            wanted = normalise_id_number(wanted or "")
        if getattr(member, name) != wanted:
            return True
    return False


def _members_changed(household: Household, members: Sequence[MemberData]) -> bool:
    existing = {m.pk: m for m in household.members.all()}
    return any(
        not data.remove if data.pk is None else data.pk not in existing or _member_changed(existing[data.pk], data)
        for data in members
    )


@transaction.atomic
def household_cancel(
    *, by: Any, household: Household, reason_text: str, expected_version: int | None = None
) -> Household:
    """注销: keep the record, mark it cancelled with its reason."""
    require_permission(by, "households.change_household")
    _require_in_scope(by, household)
    if not reason_text.strip():
        raise ValidationError({"cancelled_reason": _("注销须填写原因")})
    claim_next_version(household, expected_version)
    household.status = HouseholdStatus.CANCELLED
    household.cancelled_reason = reason_text.strip()
    household.cancelled_on = date.today()
    _save(household, by=by)
    return household


def _require_in_scope(user: Any, household: Household) -> None:
    """Refuse a household (or a target village) outside the user's subtree."""
    from regions.models import regions_visible_to

    if household.pk is not None and not Household.objects.visible_to(user).filter(pk=household.pk).exists():
        raise PermissionDenied(_("该农户不在您的管辖范围内"))
    if household.village_id is not None and not regions_visible_to(user).filter(pk=household.village_id).exists():
        raise PermissionDenied(_("所选村不在您的管辖范围内"))


def _apply_members(*, by: Any, household: Household, members: Sequence[MemberData], reason: str) -> None:
    """Create, update or remove members so the household matches `members`."""
    existing = {m.pk: m for m in household.members.all()}
    # Remove and demote first, so a new head or a reused 身份证号 never collides with the old row.
    ordered = sorted(members, key=lambda m: (not m.remove, m.relation == Relation.HEAD))
    errors: dict[str, list[str]] = {}
    for index, data in enumerate(ordered):
        if data.pk is not None and data.pk not in existing:
            raise ValidationError({"members": _("成员不属于该户")})
        member = existing.get(data.pk) if data.pk is not None else Member(household=household)
        assert member is not None
        if member.pk is not None and not _member_changed(member, data):
            continue
        if data.remove:
            if member.pk is not None:
                if not data.left_reason.strip() or data.left_on is None:
                    raise ValidationError({"members": _("%(name)s减员须填写原因和日期") % {"name": member.name}})
                member.is_active = False
                member.left_reason = data.left_reason.strip()
                member.left_on = data.left_on
                _save(member, by=by, reason=reason)
            continue
        for name in MEMBER_FIELDS:
            setattr(member, name, getattr(data, name))
        member.is_active = True
        try:
            _save(member, by=by, reason=reason)
        except ValidationError as error:
            errors[data.name or str(index + 1)] = [
                f"{_member_field_label(k)}：{'，'.join(v)}" for k, v in error.message_dict.items()
            ]
    if errors:
        raise ValidationError({"members": [f"{who}：{'；'.join(msgs)}" for who, msgs in errors.items()]})
    household_refresh_income_facts(household=household)


def _member_field_label(name: str) -> str:
    if name == "__all__":
        return _("成员")
    return str(getattr(Member._meta.get_field(name), "verbose_name", name))


def household_refresh_income_facts(*, household: Household) -> None:
    """Recompute the household's latest quarter and trailing four-quarter per-capita income."""
    latest = household.income_records.order_by("-year", "-quarter").first()
    if latest is None:
        year = quarter = None
        trailing = None
    else:
        year, quarter = latest.year, latest.quarter
        trailing = trailing_per_capita(household=household, ending=latest.period)
    Household.objects.filter(pk=household.pk).update(
        latest_income_year=year, latest_income_quarter=quarter, trailing_per_capita=trailing
    )
    household.latest_income_year, household.latest_income_quarter = year, quarter
    household.trailing_per_capita = trailing


def income_facts_refresh(*, household_ids: Iterable[int] | None = None, batch_size: int = 2000) -> int:
    """Recompute the precomputed income facts for many households (all when ids is None).

    One query per batch reads the records; one statement per batch writes the facts.
    Returns how many households were refreshed.
    """
    refreshed = 0
    for batch in _household_id_batches(household_ids, batch_size):
        records: dict[int, dict[Quarter, tuple[Decimal, int]]] = {}
        rows = IncomeRecord.objects.filter(household_id__in=batch).values_list(
            "household_id", "year", "quarter", "net_income", "household_size"
        )
        for household_id, year, number, net_income, size in rows:
            records.setdefault(household_id, {})[Quarter(year, number)] = (net_income, size)
        facts = []
        for pk in batch:
            own = records.get(pk, {})
            latest = max(own) if own else None
            window = [own[q] for q in latest.trailing_four() if q in own] if latest else []
            trailing = formulas.window_per_capita(window) if len(window) == 4 else None
            facts.append((pk, latest.year if latest else None, latest.number if latest else None, trailing))
        with transaction.atomic():
            _write_income_facts(facts)
        refreshed += len(batch)
    return refreshed


def _household_id_batches(household_ids: Iterable[int] | None, size: int) -> Iterator[list[int]]:
    """Existing household ids in ascending batches: the given ones, or every household's."""
    if household_ids is not None:
        wanted = sorted(set(household_ids))
        for start in range(0, len(wanted), size):
            found = Household.objects.filter(pk__in=wanted[start : start + size]).order_by("pk")
            yield list(found.values_list("pk", flat=True))
        return
    last = 0
    while True:
        batch = list(Household.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:size])
        if not batch:
            return
        last = batch[-1]
        yield batch


def _write_income_facts(facts: list[tuple[int, int | None, int | None, Decimal | None]]) -> None:
    """(household id, latest year, latest quarter, trailing per capita) written in one statement."""
    if not facts:
        return
    connection = connections[router.db_for_write(Household)]
    if connection.vendor != "postgresql":
        Household.objects.bulk_update(
            [
                Household(pk=pk, latest_income_year=year, latest_income_quarter=quarter, trailing_per_capita=trailing)
                for pk, year, quarter, trailing in facts
            ],
            ["latest_income_year", "latest_income_quarter", "trailing_per_capita"],
            batch_size=500,
        )
        return
    columns = list(zip(*facts, strict=True))
    table = connection.ops.quote_name(Household._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} h SET latest_income_year = v.year, latest_income_quarter = v.quarter, "
            "trailing_per_capita = v.per_capita FROM unnest(%s::bigint[], %s::smallint[], %s::smallint[], "
            "%s::numeric[]) AS v(id, year, quarter, per_capita) WHERE h.id = v.id",
            [list(column) for column in columns],
        )


@dataclass
class IncomeWarning:
    """Entry-time warnings: they do not block saving but the clerk must see them."""

    message: str


def income_warnings(*, household: Household, record: IncomeRecord) -> list[IncomeWarning]:
    """Below-threshold (for an unmonitored household) and a >30% fall against last year."""
    from households.selectors import SHARP_FALL

    warnings: list[IncomeWarning] = []
    earlier = household.income_records.filter(year=record.year - 1, quarter=record.quarter).first()
    if earlier is not None and formulas.is_sharp_fall(
        current=record.per_capita_net_income, previous=earlier.per_capita_net_income, limit=SHARP_FALL
    ):
        rate = formulas.growth(current=record.per_capita_net_income, previous=earlier.per_capita_net_income)
        assert rate is not None
        warnings.append(
            IncomeWarning(
                _("本季度人均纯收入%(now)s元，比上年同期%(then)s元下降%(pct).1f%%，超过30%%，请核实原因")
                % {"now": record.per_capita_net_income, "then": earlier.per_capita_net_income, "pct": -rate * 100}
            )
        )
    trailing = trailing_per_capita(household=household, ending=record.period)
    if trailing is not None and household.open_case() is None:
        threshold = threshold_for(region=household.village, year=record.year)
        if threshold is not None and trailing < threshold.amount:
            warnings.append(
                IncomeWarning(
                    _(
                        "近四个季度人均纯收入%(amount)s元，低于%(year)d年监测标准%(threshold)s元，该户尚未纳入监测，请及时研判"
                    )
                    % {"amount": trailing, "year": record.year, "threshold": threshold.amount}
                )
            )
    return warnings


@transaction.atomic
def income_record_save(
    *,
    by: Any,
    household: Household,
    quarter: Quarter,
    amounts: dict[str, Decimal],
    record: IncomeRecord | None = None,
    expected_version: int | None = None,
    reason: str = "",
    wages_confirmed: bool = True,
) -> tuple[IncomeRecord, list[IncomeWarning]]:
    """Enter or correct one quarter's income; the household size is taken as it is now.

    With `wages_confirmed=False` (a form whose 确认数据无误 is unticked), wages above the local
    核实上限 are refused with a message asking to confirm them.
    """
    _require_in_scope(by, household)
    if not wages_confirmed:
        unusual = wages_above_bound(village=household.village, quarter=quarter, amounts=amounts)
        if unusual:
            raise ValidationError({"wages_confirmed": unusual})
    require_quarter_open(village_code=household.village.code, period=quarter)
    if record is None:
        require_permission(by, "households.add_incomerecord")
        if household.income_records.filter(year=quarter.year, quarter=quarter.number).exists():
            raise ValidationError({"quarter": _("%(q)s收入已录入，请修改原记录") % {"q": quarter.label}})
        record = IncomeRecord(household=household, year=quarter.year, quarter=quarter.number)
    else:
        require_permission(by, "households.change_incomerecord")
        claim_next_version(record, expected_version)
    if not household.is_active and not (household.cancelled_on and quarter.last_day < household.cancelled_on):
        # It is still counted in the quarters that ended before it was cancelled: those can be completed.
        raise ValidationError(_("已注销农户只能补录注销日期之前结束的季度的收入"))
    unknown = set(amounts) - set(AMOUNT_FIELDS)
    if unknown:
        raise ValidationError(_("未知的收入项目：%(f)s") % {"f": ", ".join(sorted(unknown))})
    for name, value in amounts.items():
        setattr(record, name, value)
    if record.household_size is None or record.pk is None:
        record.household_size = household.size()
    if not record.household_size:
        raise ValidationError(_("该户没有在户成员，不能计算人均纯收入"))
    try:
        with transaction.atomic():
            _save(record, by=by, reason=reason)
    except IntegrityError as error:
        raise ValidationError({"quarter": _("%(q)s收入已录入，请修改原记录") % {"q": quarter.label}}) from error
    household_refresh_income_facts(household=household)
    return record, income_warnings(household=household, record=record)


VOID_REASON_MAX_LENGTH = 90
VOID_PREFIX = "作废："


@transaction.atomic
def income_record_void(*, record: IncomeRecord, reason: str, by: Any, expected_version: int | None = None) -> Household:
    """作废: remove a wrongly entered quarter; its history keeps the values with "作废：<reason>"."""
    household = record.household
    require_permission(by, "households.change_incomerecord")
    _require_in_scope(by, household)
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError({"reason": _("作废须填写原因")})
    if len(reason) > VOID_REASON_MAX_LENGTH:
        raise ValidationError({"reason": _("作废原因不能超过%(n)d个字") % {"n": VOID_REASON_MAX_LENGTH}})
    if not household.is_active:
        raise ValidationError(_("已注销农户不能修改收入"))
    require_quarter_open(village_code=household.village.code, period=record.period)
    # Claiming the version refuses a void of a record someone corrected meanwhile, or a second click.
    claim_next_version(record, expected_version)
    record._history_user = by if getattr(by, "pk", None) else None  # type: ignore[attr-defined]
    record._change_reason = VOID_PREFIX + reason  # type: ignore[attr-defined]
    record.delete()
    _announce(record)
    household_refresh_income_facts(household=household)
    return household


def _choices_allowed(case: MonitoringCase, model: Any, chosen: list[Any], label: str, field: str, *, new: bool) -> None:
    """Refuse an entry the case's household may not be given: another county's (named as if it did not
    exist: the user may not see it), or one 停用 since, unless the case has it already."""
    if not chosen:
        return
    county_code = case.household.village.code
    kept = set() if new else set(getattr(case, field).values_list("pk", flat=True))
    chosen_ids = [item.pk for item in chosen]
    usable = dict(model.objects.for_county(county_code).filter(pk__in=chosen_ids).values_list("pk", "is_active"))
    if any(item.pk not in usable for item in chosen):
        raise ValidationError({field: _("所选%(label)s不存在，请刷新页面后重新选择") % {"label": label}})
    stopped = [item.name for item in chosen if not usable[item.pk] and item.pk not in kept]
    if stopped:
        raise ValidationError(
            {field: _("%(label)s“%(names)s”已停用，不能新选") % {"label": label, "names": "、".join(stopped)}}
        )


def _set_choices(
    case: MonitoringCase, risk_types: Iterable[RiskType], measures: Iterable[AssistanceMeasure], *, new: bool
) -> None:
    risk_list = list(risk_types)
    if not 1 <= len(risk_list) <= MAX_RISK_TYPES:
        raise ValidationError({"risk_types": _("风险类型须选择1至5项")})
    measure_list = list(measures)
    _choices_allowed(case, RiskType, risk_list, "风险类型", "risk_types", new=new)
    _choices_allowed(case, AssistanceMeasure, measure_list, "帮扶措施", "measures", new=new)
    case.risk_types.set(risk_list)
    case.measures.set(measure_list)


@transaction.atomic
def monitoring_case_register(
    *,
    by: Any,
    household: Household,
    category: str,
    identified_month: date,
    risk_types: Iterable[RiskType],
    measures: Iterable[AssistanceMeasure] = (),
    note: str = "",
) -> MonitoringCase:
    """识别纳入监测: open a case for the household."""
    require_permission(by, "households.add_monitoringcase")
    _require_in_scope(by, household)
    if household.open_case() is not None:
        raise ValidationError({"category": _("该户已有未消除风险的监测记录")})
    case = MonitoringCase(household=household, category=category, identified_month=identified_month, note=note)
    _save(case, by=by)
    _set_choices(case, risk_types, measures, new=True)
    return case


@transaction.atomic
def monitoring_case_update(
    *,
    by: Any,
    case: MonitoringCase,
    risk_types: Iterable[RiskType],
    measures: Iterable[AssistanceMeasure],
    expected_version: int | None = None,
) -> MonitoringCase:
    require_permission(by, "households.change_monitoringcase")
    _require_in_scope(by, case.household)
    claim_next_version(case, expected_version)
    _save(case, by=by)
    _set_choices(case, risk_types, measures, new=False)
    return case


@transaction.atomic
def monitoring_case_eliminate(
    *,
    by: Any,
    case: MonitoringCase,
    eliminated_month: date,
    method: str,
    note: str = "",
    expected_version: int | None = None,
) -> MonitoringCase:
    """风险消除: only after six months, with labour, and income above the threshold."""
    require_permission(by, "households.change_monitoringcase")
    _require_in_scope(by, case.household)
    if not case.is_open:
        raise ValidationError({"eliminated_month": _("该监测记录已标注风险消除")})
    claim_next_version(case, expected_version)
    case.eliminated_month = eliminated_month
    case.elimination_method = method if method in EliminationMethod.values else ""
    if note:
        case.note = note
    _save(case, by=by)
    return case
