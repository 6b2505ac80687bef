"""How each writable resource reads a JSON record, finds its row by natural key and writes it through the services.

A record's values are parsed by the Excel import's own column parsers (households/excel/columns.py and
cell_parsers.py) and judged by the import's field rules (workbooks.rules.FieldRules) and the models'
clean(), so a fault reads in the API exactly as in the import; the write itself goes through the
services the forms use (households.services, households.thresholds, assessment.services).

Values are kept flat, `field → value` (a household's members as `members.<身份证号>.<field>`), so a
conflict can be shown and resolved field by field.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models

from assessment.models import Comparator, Target
from assessment.selectors import editable_regions
from assessment.services import policy_row_save
from households import services
from households.closing import closed_message, quarter_is_closed
from households.excel.cell_parsers import parse_date, parse_text
from households.excel.columns import INCOME_COLUMNS, ROSTER_COLUMNS, Column, Kind
from households.excel.normalise import parse_cell
from households.excel.roster_rows import Villages
from households.models import (
    AMOUNT_FIELDS,
    AssistanceMeasure,
    Household,
    HouseholdStatus,
    IncomeRecord,
    Member,
    MonitoringCase,
    MonitoringThreshold,
    Relation,
    RiskType,
    member_identity,
)
from households.quarter import Quarter
from households.thresholds import threshold_regions, threshold_save
from regions.models import Region
from workbooks.cells import CellError
from workbooks.rules import FieldRules, plain_message

REQUIRED = "必填项为空"


class RowInvalid(Exception):
    """The record cannot be written: [{"field", "message"}], in the import's words."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__(errors)
        self.errors = errors


def _error(field: str, message: str) -> RowInvalid:
    return RowInvalid([{"field": field, "message": message}])


def validation_errors(error: ValidationError, *, fields: dict[str, str] | None = None) -> list[dict[str, str]]:
    """A service's or model's ValidationError as row errors, each message as the import words it."""
    rename = fields or {}
    if hasattr(error, "error_dict"):
        found = []
        for name, errors in error.error_dict.items():
            field = rename.get(name, name)
            for item in errors:
                entry = {"message": plain_message(item)}
                if field != "__all__":
                    entry["field"] = field
                found.append(entry)
        return found
    return [{"message": plain_message(error)}]


def json_value(value: Any) -> Any:
    """A value as stored in a conflict and compared across sides: JSON, the same text for the same value."""
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        return f"{value:.2f}" if isinstance(exponent, int) and exponent >= -2 else format(value.normalize(), "f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return sorted(json_value(item) for item in value)
    return value


@dataclass(frozen=True)
class Field:
    """One JSON field: the column whose parser reads it (the import's), the model field it fills."""

    name: str
    column: Column
    model_field: str | None = None  # for FieldRules; None: not a plain model field
    required: bool = False  # on create

    @property
    def label(self) -> str:
        return self.column.header


def _roster(key: str) -> Column:
    return next(column for column in ROSTER_COLUMNS if column.key == key)


def _income(key: str) -> Column:
    return next(column for column in INCOME_COLUMNS if column.key == key)


def parse_field(field: Field, value: Any) -> Any:
    """The import's parser over one JSON value; RowInvalid with the import's message."""
    if isinstance(value, (dict, list)):
        raise _error(field.name, f"{field.label}的格式不正确")
    try:
        if field.column.kind == Kind.TEXT and field.column.key == "date":
            return parse_date(value)
        parsed = parse_cell(field.column, value)
    except CellError as error:
        raise _error(field.name, error.message) from error
    return parsed


class Writer:
    """The part every writable resource shares: parsing, rules, flat values, the record's version."""

    resource: ClassVar[str]
    model: ClassVar[type[models.Model]]
    fields: ClassVar[tuple[Field, ...]]
    versioned: ClassVar[bool] = True
    # Conflicts are queued for records with a version and a history; others answer a stale write with 412.
    queues_conflicts: ClassVar[bool] = True

    def __init__(self, actor: Any) -> None:
        self.actor = actor
        self.rules = FieldRules(self.model)

    # -- reading a record ---------------------------------------------------------------------------

    def parse(self, payload: dict[str, Any], *, creating: bool) -> dict[str, Any]:
        """The payload's known fields, parsed and judged field by field; every error of the record at once."""
        errors: list[dict[str, str]] = []
        values: dict[str, Any] = {}
        for field in self.fields:
            if field.name not in payload:
                if creating and field.required:
                    errors.append({"field": field.name, "message": REQUIRED})
                continue
            try:
                value = parse_field(field, payload[field.name])
            except RowInvalid as error:
                errors += error.errors
                continue
            if field.required and value in (None, ""):
                errors.append({"field": field.name, "message": REQUIRED})
                continue
            if field.model_field is not None and value is not None:
                message = self.rules.error(field.model_field, value)
                if message is not None:
                    errors.append({"field": field.name, "message": message})
                    continue
            values[field.name] = value
        unknown = sorted(set(payload) - {field.name for field in self.fields} - set(self.extra_keys))
        errors += [{"field": name, "message": "不是可写入的字段"} for name in unknown]
        if errors:
            raise RowInvalid(errors)
        return values

    extra_keys: ClassVar[tuple[str, ...]] = ()

    # -- what each resource says ---------------------------------------------------------------------

    def find(self, values: dict[str, Any]) -> Any:
        """The recorded row the natural key names, or None; RowInvalid when the key is not the client's."""
        raise NotImplementedError

    def state(self, instance: Any) -> dict[str, Any]:
        """The record's writable values, flat and JSON-ready (what `ours` is made of)."""
        raise NotImplementedError

    def flat(self, values: dict[str, Any]) -> dict[str, Any]:
        """Parsed values as flat JSON-ready values (what `theirs` is made of)."""
        return {name: json_value(value) for name, value in values.items()}

    def save(self, instance: Any, values: dict[str, Any], *, expected_version: int | None, reason: str) -> Any:
        """Write the flat JSON values (the whole record as it is to be) through the services."""
        raise NotImplementedError

    def label(self, instance: Any) -> str:
        return str(instance)

    def region(self, instance: Any) -> Region:
        raise NotImplementedError

    def field_label(self, key: str) -> str:
        for field in self.fields:
            if field.name == key:
                return field.label
        return key

    def check_in_scope(self, instance: Any) -> None:
        return None

    # -- shared helpers --------------------------------------------------------------------------------

    def changes(self, instance: Any, values: dict[str, Any]) -> dict[str, Any]:
        """The flat values the payload would change on the record."""
        current = self.state(instance) if instance is not None else {}
        return {key: value for key, value in self.flat(values).items() if current.get(key, _ABSENT) != value}

    def merged(self, instance: Any, values: dict[str, Any]) -> dict[str, Any]:
        current = self.state(instance) if instance is not None else {}
        return {**current, **self.flat(values)}


_ABSENT = object()


def _raise_validation(error: ValidationError, fields: dict[str, str] | None = None) -> None:
    raise RowInvalid(validation_errors(error, fields=fields)) from error


def _scope_refusal(error: PermissionDenied, field: str) -> RowInvalid:
    return _error(field, str(error) or "不在您的管辖范围内")


# --- households with members ---------------------------------------------------------------------------

MEMBER_COLUMNS = {
    "name": _roster("member_name"),
    "id_number": _roster("id_number"),
    "relation": _roster("relation"),
    "labour": _roster("labour"),
    "health": _roster("health"),
    "schooling": _roster("schooling"),
    "work_place": _roster("work_place"),
    "work_months": _roster("work_months"),
    "medical_insurance": _roster("medical_insurance"),
    "is_active": Column("is_active", "在户", Kind.BOOL),
    "left_reason": Column("left_reason", "减员原因"),
    "left_on": Column("date", "减员日期"),
}
MEMBER_REQUIRED = ("name", "relation", "labour")
MEMBER_STATE = tuple(name for name in MEMBER_COLUMNS if name != "id_number")


class HouseholdWriter(Writer):
    resource = "households"
    model = Household
    fields = (
        Field("number", _roster("household_number"), "number", required=True),
        Field("village", _roster("region_code"), required=True),
        Field("household_type", _roster("household_type"), "household_type", required=True),
        Field("lifted_year", _roster("lifted_year"), "lifted_year"),
        Field("relocated", _roster("relocated"), "relocated"),
        Field("phone", _roster("phone"), "phone"),
        Field("address", Column("address", "住址"), "address"),
        Field("helper_name", Column("helper_name", "帮扶责任人"), "helper_name"),
        Field("helper_unit", Column("helper_unit", "帮扶责任人单位"), "helper_unit"),
        Field("helper_phone", Column("helper_phone", "帮扶责任人电话", Kind.PHONE), "helper_phone"),
    )
    extra_keys = ("members",)

    def __init__(self, actor: Any) -> None:
        super().__init__(actor)
        self.member_rules = FieldRules(Member)
        self._villages: Villages | None = None

    @property
    def villages(self) -> Villages:
        if self._villages is None:
            self._villages = Villages(self.actor)
        return self._villages

    def parse(self, payload: dict[str, Any], *, creating: bool) -> dict[str, Any]:
        errors: list[dict[str, str]] = []
        try:
            values = super().parse(payload, creating=creating)
        except RowInvalid as error:
            errors, values = error.errors, {}
        if "village" in values:
            found = self.villages.find({"region_code": values["village"]})
            if isinstance(found, str):
                errors.append({"field": "village", "message": found})
            else:
                values["village"] = found
        members = payload.get("members")
        if members is None and creating:
            errors.append({"field": "members", "message": "请填写家庭成员"})
        elif members is not None:
            try:
                values["members"] = self._parse_members(members)
            except RowInvalid as error:
                errors += error.errors
        if errors:
            raise RowInvalid(errors)
        return values

    def _parse_members(self, members: Any) -> dict[str, dict[str, Any]]:
        if not isinstance(members, list):
            raise _error("members", "家庭成员应为列表")
        errors: list[dict[str, str]] = []
        parsed: dict[str, dict[str, Any]] = {}
        seen: dict[str, int] = {}
        for index, member in enumerate(members, start=1):
            where = f"members[{index}]"
            if not isinstance(member, dict):
                errors.append({"field": where, "message": "成员应为对象"})
                continue
            unknown = sorted(set(member) - set(MEMBER_COLUMNS))
            errors += [{"field": f"{where}.{name}", "message": "不是可写入的字段"} for name in unknown]
            values: dict[str, Any] = {}
            for name, column in MEMBER_COLUMNS.items():
                if name not in member:
                    continue
                try:
                    value = parse_field(Field(name, column), member[name])
                except RowInvalid as error:
                    errors += [{**item, "field": f"{where}.{name}"} for item in error.errors]
                    continue
                if name in self.member_rules.fields and value is not None:
                    message = self.member_rules.error(name, value)
                    if message is not None:
                        errors.append({"field": f"{where}.{name}", "message": message})
                        continue
                values[name] = value
            number = values.pop("id_number", None)
            if not number:
                if "id_number" not in {e["field"].split(".")[-1] for e in errors if e["field"].startswith(where)}:
                    errors.append({"field": f"{where}.id_number", "message": REQUIRED})
                continue
            try:
                number = member_identity(number)[0]
            except ValidationError as error:
                errors.append({"field": f"{where}.id_number", "message": "；".join(error.messages)})
                continue
            if number in seen:
                errors.append({"field": f"{where}.id_number", "message": f"与第{seen[number]}位成员身份证号重复"})
                continue
            seen[number] = index
            values["_index"] = index
            parsed[number] = values
        if errors:
            raise RowInvalid(errors)
        return parsed

    def find(self, values: dict[str, Any]) -> Household | None:
        number = values.get("number")
        if not number:
            return None
        found = Household.objects.filter(number=number).first()
        if found is not None and not Household.objects.visible_to(self.actor).filter(pk=found.pk).exists():
            # The import's words: a number the client cannot see reads as taken, never as someone's.
            raise _error("number", f"户编号 {number} 不可用：已被占用或不在您的管辖范围内")
        return found

    def check_in_scope(self, instance: Household) -> None:
        if not Household.objects.visible_to(self.actor).filter(pk=instance.pk).exists():
            raise _error("number", f"户编号 {instance.number} 不可用：已被占用或不在您的管辖范围内")

    def household_state(self, instance: Household) -> dict[str, Any]:
        """The household's own fields (not its members)."""
        return {
            "number": instance.number,
            "village": instance.village.code,
            **{
                field.name: json_value(getattr(instance, field.name))
                for field in self.fields
                if field.name not in ("number", "village")
            },
        }

    def state(self, instance: Household) -> dict[str, Any]:
        found = self.household_state(instance)
        for member in instance.members.all():
            for name in MEMBER_STATE:
                found[f"members.{member.id_number}.{name}"] = json_value(getattr(member, name))
        return found

    def flat(self, values: dict[str, Any]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name, value in values.items():
            if name == "village":
                found[name] = value.code
            elif name == "members":
                for number, member in value.items():
                    for field, item in member.items():
                        if field != "_index":
                            found[f"members.{number}.{field}"] = json_value(item)
                    if "is_active" not in member:
                        # A member the province sends is in the household unless it says otherwise.
                        found[f"members.{number}.is_active"] = True
            else:
                found[name] = json_value(value)
        return found

    def field_label(self, key: str) -> str:
        if key.startswith("members."):
            _, number, name = key.split(".", 2)
            column = MEMBER_COLUMNS.get(name)
            return f"成员 {number} {column.header if column else name}"
        return super().field_label(key)

    def label(self, instance: Household) -> str:
        return f"户编号 {instance.number}"

    def region(self, instance: Household) -> Region:
        return instance.village

    def save(
        self, instance: Household | None, values: dict[str, Any], *, expected_version: int | None, reason: str
    ) -> Any:
        household = instance if instance is not None else Household()
        village = self.villages.by_code.get(values["village"])
        if village is None:
            found = self.villages.find({"region_code": values["village"]})
            raise _error("village", found if isinstance(found, str) else "所选村不在您的管辖范围内")
        if instance is not None and instance.status != HouseholdStatus.ACTIVE:
            raise _error("number", f"户编号 {instance.number} 已注销，不能修改")
        if (
            instance is not None
            and values["number"] != instance.number
            and Household.objects.filter(number=values["number"]).exclude(pk=instance.pk).exists()
        ):
            # A renumbering onto a number in use, in the import's words: never whose or where it is.
            raise _error("number", f"户编号 {values['number']} 不可用：已被占用或不在您的管辖范围内")
        household.number = values["number"]
        household.village = village
        for field in self.fields:
            if field.name not in ("number", "village") and field.name in values:
                setattr(household, field.name, _model_value(Household, field.name, values[field.name]))
        self._check_household(household)
        members = self._members(household if instance is not None else None, values)
        try:
            if instance is None:
                return services.household_register(by=self.actor, household=household, members=members, reason=reason)
            return services.household_update(
                by=self.actor, household=household, members=members, expected_version=expected_version, reason=reason
            )
        except services.ConcurrentEditError:
            raise
        except ValidationError as error:
            _raise_validation(error)
        except PermissionDenied as error:
            raise _scope_refusal(error, "village") from error
        raise AssertionError("unreachable")

    def _check_household(self, household: Household) -> None:
        judged = {name: getattr(household, name) for name in ("number", "household_type", "lifted_year", "phone")}
        errors = [{"field": name, "message": message} for name, message in self.rules.errors(judged).items()]
        if not errors:
            try:
                household.clean()
            except ValidationError as error:
                errors = validation_errors(error)
        if errors:
            raise RowInvalid(errors)

    def _members(self, household: Household | None, values: dict[str, Any]) -> list[services.MemberData]:
        """Every member the household is to have (its others kept as they are), in the service's shape."""
        existing = {m.id_number: m for m in household.members.all()} if household is not None else {}
        numbers = sorted(
            {key.split(".")[1] for key in values if key.startswith("members.")},
            key=lambda number: (number not in existing, number),
        )
        errors: list[dict[str, str]] = []
        result: list[services.MemberData] = []
        holders = {
            m.id_number: m.household
            for m in Member.objects.filter(id_number__in=[n for n in numbers if n not in existing]).select_related(
                "household", "household__village"
            )
        }
        for number in numbers:
            member = {name: values.get(f"members.{number}.{name}") for name in MEMBER_STATE}
            stored = existing.get(number)
            if stored is None:
                other = holders.get(number)
                if other is not None:
                    visible = Household.objects.visible_to(self.actor).filter(pk=other.pk).exists()
                    where = f"户编号 {other.number} 名下" if visible else "您管辖范围以外的农户名下"
                    errors.append({"field": f"members.{number}.id_number", "message": f"该身份证号已登记在{where}"})
                    continue
                missing = [name for name in MEMBER_REQUIRED if member.get(name) in (None, "")]
                errors += [{"field": f"members.{number}.{name}", "message": REQUIRED} for name in missing]
                if missing:
                    continue
            if not member.get("is_active", True):
                if stored is None or not stored.is_active:
                    continue  # nothing to remove
                if not member.get("left_reason") or not member.get("left_on"):
                    errors.append(
                        {"field": f"members.{number}.left_reason", "message": f"{stored.name}减员须填写原因和日期"}
                    )
                    continue
            elif stored is not None and not stored.is_active and f"members.{number}.is_active" not in values:
                continue
            result.append(
                services.MemberData(
                    pk=stored.pk if stored is not None else None,
                    id_number=number,
                    name=member["name"] if member["name"] is not None else (stored.name if stored else ""),
                    relation=member["relation"] or "",
                    labour=member["labour"] or "",
                    health=member.get("health") or "healthy",
                    schooling=member.get("schooling") or "none",
                    work_place=member.get("work_place") or "",
                    work_months=int(member.get("work_months") or 0),
                    medical_insurance=member.get("medical_insurance") is not False,
                    remove=not member.get("is_active", True),
                    left_reason=member.get("left_reason") or "",
                    left_on=_as_date(member.get("left_on")),
                )
            )
        heads = [m for m in result if not m.remove and m.relation == Relation.HEAD]
        if not errors and len(heads) != 1:
            # The import's words for the same fault.
            message = "该户没有户主" if not heads else f"一户只能有一名户主，当前有{len(heads)}名"
            errors.append({"field": "members", "message": message})
        if errors:
            raise RowInvalid(errors)
        return result


def _as_date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _model_value(model: type[models.Model], name: str, value: Any) -> Any:
    """A flat JSON value back as the model field holds it."""
    field: Any = model._meta.get_field(name)
    if value is None:
        return None if field.null else ("" if isinstance(field, models.CharField) else value)
    if isinstance(field, models.DecimalField):
        return Decimal(str(value))
    if isinstance(field, models.DateField):
        return _as_date(value)
    return value


# --- income records ----------------------------------------------------------------------------------------

AMOUNT_COLUMNS = {column.key: column for column in INCOME_COLUMNS if column.kind == Kind.MONEY and not column.derived}


class IncomeWriter(Writer):
    resource = "income-records"
    model = IncomeRecord
    fields = (
        Field("household", _income("household_number"), required=True),
        Field("year", _income("year"), "year", required=True),
        Field("quarter", _income("quarter"), "quarter", required=True),
        *(Field(name, AMOUNT_COLUMNS[name], name) for name in AMOUNT_FIELDS),
    )

    def household(self, number: str) -> Household:
        found = Household.objects.visible_to(self.actor).filter(number=number).select_related("village").first()
        if found is None:
            raise _error("household", f"户编号 {number} 不存在或不在您的管辖范围内")
        return found

    def find(self, values: dict[str, Any]) -> IncomeRecord | None:
        if not {"household", "year", "quarter"} <= set(values):
            return None
        household = self.household(values["household"])
        return IncomeRecord.objects.filter(household=household, year=values["year"], quarter=values["quarter"]).first()

    def state(self, instance: IncomeRecord) -> dict[str, Any]:
        return {
            "household": instance.household.number,
            "year": instance.year,
            "quarter": instance.quarter,
            **{name: json_value(getattr(instance, name)) for name in AMOUNT_FIELDS},
        }

    def label(self, instance: IncomeRecord) -> str:
        return f"户编号 {instance.household.number} {instance.year}年第{instance.quarter}季度收入"

    def region(self, instance: IncomeRecord) -> Region:
        return instance.household.village

    def save(
        self, instance: IncomeRecord | None, values: dict[str, Any], *, expected_version: int | None, reason: str
    ) -> Any:
        household = instance.household if instance is not None else self.household(values["household"])
        if instance is not None and (
            values["household"] != household.number
            or values["year"] != instance.year
            or values["quarter"] != instance.quarter
        ):
            raise _error("household", "户编号、年度和季度确定一条收入记录，不能修改")
        quarter = Quarter(values["year"], values["quarter"])
        if household.status != HouseholdStatus.ACTIVE:
            raise _error("household", f"户编号 {household.number} 已注销，不能录入收入")
        if quarter_is_closed(village_code=household.village.code, period=quarter):
            raise _error("quarter", closed_message(quarter))
        amounts = {name: Decimal(str(values.get(name) or "0")) for name in AMOUNT_FIELDS}
        try:
            record, _warnings = services.income_record_save(
                by=self.actor,
                household=household,
                quarter=quarter,
                amounts=amounts,
                record=instance,
                expected_version=expected_version,
                reason=reason,
            )
        except services.ConcurrentEditError:
            raise
        except ValidationError as error:
            _raise_validation(error)
        except PermissionDenied as error:
            raise _scope_refusal(error, "household") from error
        return record


# --- monitoring cases --------------------------------------------------------------------------------------


class CaseWriter(Writer):
    resource = "monitoring-cases"
    model = MonitoringCase
    fields = (
        Field("household", _income("household_number"), required=True),
        Field("category", _roster("category"), "category", required=True),
        Field("identified_month", _roster("identified_month"), required=True),
        Field("eliminated_month", _roster("eliminated_month")),
        Field("elimination_method", _roster("elimination_method"), "elimination_method"),
        Field("note", Column("note", "备注"), "note"),
    )
    extra_keys = ("risk_types", "measures")

    def parse(self, payload: dict[str, Any], *, creating: bool) -> dict[str, Any]:
        errors: list[dict[str, str]] = []
        try:
            values = super().parse(payload, creating=creating)
        except RowInvalid as error:
            errors, values = error.errors, {}
        village_code = self._village_code(payload)
        for name, model, column_label in (
            ("risk_types", RiskType, "风险类型"),
            ("measures", AssistanceMeasure, "帮扶措施"),
        ):
            if name not in payload:
                if creating and name == "risk_types":
                    errors.append({"field": name, "message": "监测对象须填写至少一项风险类型"})
                continue
            try:
                values[name] = self._choices(name, self._offered(model, village_code), payload[name], column_label)
            except RowInvalid as error:
                errors += error.errors
        if errors:
            raise RowInvalid(errors)
        return values

    def _village_code(self, payload: dict[str, Any]) -> str | None:
        """The village of the household the payload names, if the client may see it."""
        number = payload.get("household")
        if not isinstance(number, str) or not {"risk_types", "measures"} & set(payload):
            return None
        households = Household.objects.visible_to(self.actor).filter(number=number)
        return households.values_list("village__code", flat=True).first()

    def _offered(self, model: Any, village_code: str | None) -> Any:
        """The entries the case's household may be given: the province's and its county's own (those of every
        county the client sees when the payload names no household of its; the service checks the county)."""
        offered = model.objects.visible_to(self.actor)
        return offered.for_county(village_code) if village_code else offered

    @staticmethod
    def _choices(name: str, offered: Any, given: Any, label: str) -> list[str]:
        """Reference items by code or name, as codes; the import's words for unknown or repeated ones (another
        county's entry is an unknown one)."""
        if not isinstance(given, list):
            raise _error(name, f"{label}应为列表")
        pairs = list(offered.values_list("name", "code"))
        items = {**dict(pairs), **{code: code for _, code in pairs}}
        try:
            texts = [parse_text(item) for item in given]
        except CellError as error:
            raise _error(name, error.message) from error
        unknown = [text for text in texts if text not in items]
        if unknown:
            raise _error(name, f"未知的{label}：{'、'.join(unknown)}")
        codes = [items[text] for text in texts]
        repeated = sorted({code for code in codes if codes.count(code) > 1})
        if repeated:
            raise _error(name, f"{label}重复：{'、'.join(repeated)}")
        if name == "risk_types" and not codes:
            raise _error(name, "监测对象须填写至少一项风险类型")
        return sorted(codes)

    def household(self, number: str) -> Household:
        found = Household.objects.visible_to(self.actor).filter(number=number).select_related("village").first()
        if found is None:
            raise _error("household", f"户编号 {number} 不存在或不在您的管辖范围内")
        return found

    def find(self, values: dict[str, Any]) -> MonitoringCase | None:
        if not {"household", "identified_month"} <= set(values):
            return None
        household = self.household(values["household"])
        month = values["identified_month"].replace(day=1)
        return MonitoringCase.objects.filter(household=household, identified_month=month).first()

    def flat(self, values: dict[str, Any]) -> dict[str, Any]:
        found = super().flat(values)
        for name in ("identified_month", "eliminated_month"):
            if values.get(name) is not None:
                found[name] = values[name].replace(day=1).isoformat()
        return found

    def case_state(self, instance: MonitoringCase) -> dict[str, Any]:
        """The case's own fields (not its risk types and measures)."""
        return {
            "household": instance.household.number,
            "category": instance.category,
            "identified_month": json_value(instance.identified_month),
            "eliminated_month": json_value(instance.eliminated_month),
            "elimination_method": instance.elimination_method,
            "note": instance.note,
        }

    def state(self, instance: MonitoringCase) -> dict[str, Any]:
        return {
            **self.case_state(instance),
            "risk_types": sorted(instance.risk_types.values_list("code", flat=True)),
            "measures": sorted(instance.measures.values_list("code", flat=True)),
        }

    def field_label(self, key: str) -> str:
        return {"risk_types": "风险类型", "measures": "帮扶措施"}.get(key) or super().field_label(key)

    def label(self, instance: MonitoringCase) -> str:
        return f"户编号 {instance.household.number} 监测对象（识别于{instance.identified_month:%Y年%m月}）"

    def region(self, instance: MonitoringCase) -> Region:
        return instance.household.village

    def save(
        self, instance: MonitoringCase | None, values: dict[str, Any], *, expected_version: int | None, reason: str
    ) -> Any:
        household = instance.household if instance is not None else self.household(values["household"])
        if instance is not None and values["household"] != household.number:
            raise _error("household", "监测对象不能改到另一户")
        risks = list(RiskType.objects.filter(code__in=values.get("risk_types") or []))
        measures = list(AssistanceMeasure.objects.filter(code__in=values.get("measures") or []))
        identified = _as_date(values["identified_month"])
        eliminated = _as_date(values.get("eliminated_month"))
        method = values.get("elimination_method") or ""
        try:
            if instance is None:
                case = services.monitoring_case_register(
                    by=self.actor,
                    household=household,
                    category=values["category"],
                    identified_month=identified,  # type: ignore[arg-type]
                    risk_types=risks,
                    measures=measures,
                    note=values.get("note") or "",
                )
            else:
                case = instance
                case.category = values["category"]
                case.identified_month = identified  # type: ignore[assignment]
                case.note = values.get("note") or ""
                if case.eliminated_month is not None and eliminated != case.eliminated_month:
                    case.eliminated_month, case.elimination_method = eliminated, method
                case = services.monitoring_case_update(
                    by=self.actor, case=case, risk_types=risks, measures=measures, expected_version=expected_version
                )
            if eliminated is not None and case.eliminated_month is None:
                case = services.monitoring_case_eliminate(
                    by=self.actor, case=case, eliminated_month=eliminated, method=method, expected_version=case.version
                )
        except services.ConcurrentEditError:
            raise
        except ValidationError as error:
            _raise_validation(error)
        except PermissionDenied as error:
            raise _scope_refusal(error, "household") from error
        return case


# --- thresholds and targets: policy rows without a version --------------------------------------------------


class PolicyWriter(Writer):
    """Thresholds and targets have no version column: their ETag is a digest of the whole record as
    the API serves it, which changes whenever any stored field does (a target's includes its
    modification time). A stale If-Match is 412 — a policy row is set by one level for the levels
    below, so there is no county edit of the province's row to queue."""

    versioned = False
    queues_conflicts = False

    def region_field(self, values: dict[str, Any], regions: Any) -> Region:
        code = values["region"]
        region = regions.filter(code=code).first()
        if region is None:
            exists = Region.objects.filter(code=code).exists()
            message = f"区划代码 {code} 不在您的管辖范围内" if exists else f"区划代码 {code} 不存在"
            raise _error("region", message)
        return region


class ThresholdWriter(PolicyWriter):
    resource = "thresholds"
    model = MonitoringThreshold
    fields = (
        Field("region", _roster("region_code"), required=True),
        Field("year", _income("year"), "year", required=True),
        Field("amount", Column("amount", "监测标准（元/人·年）", Kind.MONEY), "amount", required=True),
        Field("source", Column("source", "依据文件"), "source", required=True),
    )

    def find(self, values: dict[str, Any]) -> MonitoringThreshold | None:
        if not {"region", "year"} <= set(values):
            return None
        found = MonitoringThreshold.objects.filter(region__code=values["region"], year=values["year"]).first()
        if found is not None:
            self.check_in_scope(found)
        return found

    def check_in_scope(self, instance: MonitoringThreshold) -> None:
        if not threshold_regions(user=self.actor).filter(pk=instance.region_id).exists():
            raise _error("region", f"区划代码 {instance.region.code} 不在您的管辖范围内")

    def state(self, instance: MonitoringThreshold) -> dict[str, Any]:
        return {
            "region": instance.region.code,
            "year": instance.year,
            "amount": json_value(instance.amount),
            "source": instance.source,
        }

    def label(self, instance: MonitoringThreshold) -> str:
        return f"{instance.region.name} {instance.year}年监测标准"

    def region(self, instance: MonitoringThreshold) -> Region:
        return instance.region

    def save(self, instance: Any, values: dict[str, Any], *, expected_version: int | None, reason: str) -> Any:
        region = self.region_field(values, threshold_regions(user=self.actor))
        try:
            return threshold_save(
                by=self.actor,
                threshold=instance,
                region=region,
                year=values["year"],
                amount=Decimal(str(values["amount"])),
                source=values["source"],
            )
        except ValidationError as error:
            _raise_validation(error)
        raise AssertionError("unreachable")


COMPARATORS = {str(label): str(value) for value, label in Comparator.choices}


class TargetWriter(PolicyWriter):
    resource = "targets"
    model = Target
    fields = (
        Field("indicator", Column("indicator", "指标"), "indicator", required=True),
        Field("region", _roster("region_code"), required=True),
        Field("year", _income("year"), "year", required=True),
        Field("quarter", _income("quarter"), "quarter"),
        Field(
            "comparator",
            Column("comparator", "比较方式", Kind.CHOICE, choices=COMPARATORS),
            "comparator",
            required=True,
        ),
        Field("value", Column("value", "目标值", Kind.TEXT)),
        Field("source_document", Column("source_document", "依据文件"), "source_document"),
        Field("clause", Column("clause", "条款"), "clause"),
    )

    def parse(self, payload: dict[str, Any], *, creating: bool) -> dict[str, Any]:
        values = super().parse(payload, creating=creating)
        if values.get("value") not in (None, ""):
            try:
                values["value"] = Decimal(str(values["value"]))
            except ArithmeticError as error:
                raise _error("value", f"目标值格式不正确：{values['value']}") from error
            message = self.rules.error("value", values["value"])
            if message is not None:
                raise _error("value", message)
        elif "value" in values:
            values["value"] = None
        return values

    def find(self, values: dict[str, Any]) -> Target | None:
        if not {"indicator", "region", "year"} <= set(values):
            return None
        found = Target.objects.filter(
            indicator=values["indicator"],
            region__code=values["region"],
            year=values["year"],
            quarter=values.get("quarter"),
        ).first()
        if found is not None:
            self.check_in_scope(found)
        return found

    def check_in_scope(self, instance: Target) -> None:
        if not editable_regions(user=self.actor).filter(pk=instance.region_id).exists():
            raise _error("region", f"区划代码 {instance.region.code} 不在您的管辖范围内")

    def state(self, instance: Target) -> dict[str, Any]:
        return {
            "indicator": instance.indicator,
            "region": instance.region.code,
            "year": instance.year,
            "quarter": instance.quarter,
            "comparator": instance.comparator,
            "value": None if instance.value is None else format(instance.value.normalize(), "f"),
            "source_document": instance.source_document,
            "clause": instance.clause,
        }

    def flat(self, values: dict[str, Any]) -> dict[str, Any]:
        found = super().flat(values)
        if values.get("value") is not None:
            found["value"] = format(values["value"].normalize(), "f")
        return found

    def label(self, instance: Target) -> str:
        return f"{instance.region.name} {instance.year}年 {instance.indicator}"

    def region(self, instance: Target) -> Region:
        return instance.region

    def save(self, instance: Any, values: dict[str, Any], *, expected_version: int | None, reason: str) -> Any:
        region = self.region_field(values, editable_regions(user=self.actor))
        row = instance if instance is not None else Target()
        row.indicator, row.region, row.year = values["indicator"], region, values["year"]
        row.quarter = values.get("quarter")
        row.comparator = values["comparator"]
        row.value = None if values.get("value") in (None, "") else Decimal(str(values["value"]))
        row.source_document = values.get("source_document") or ""
        row.clause = values.get("clause") or ""
        try:
            return policy_row_save(row=row, by=self.actor)
        except ValidationError as error:
            _raise_validation(error)
        raise AssertionError("unreachable")


WRITERS: dict[str, type[Writer]] = {
    writer.resource: writer for writer in (HouseholdWriter, IncomeWriter, CaseWriter, ThresholdWriter, TargetWriter)
}


def writable_names() -> Iterable[str]:
    return WRITERS.keys()
