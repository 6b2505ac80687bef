"""Reads: the exact queries behind each household screen, always scoped to the user."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import Http404

from households import formulas, list_conditions, personal_data
from households.models import (
    Household,
    HouseholdStatus,
    IncomeRecord,
    Member,
    MonitoringCase,
    MonitoringThreshold,
    Relation,
    RiskType,
    county_prefix_of,
)
from households.quarter import Quarter
from regions.models import PREFIX_LENGTH, Level, Region, code_prefix, regions_visible_to
from regions.reference import reference_get


@dataclass(frozen=True, slots=True)
class ThresholdRow:
    """One monitoring threshold as the reference list keeps it."""

    pk: int
    region_id: int
    region_code: str
    region_level: int
    year: int
    amount: Decimal
    source: str

    @property
    def prefix(self) -> str:
        return code_prefix(self.region_code, self.region_level)

    def as_model(self) -> MonitoringThreshold:
        return MonitoringThreshold(
            pk=self.pk, region_id=self.region_id, year=self.year, amount=self.amount, source=self.source
        )


def thresholds_all() -> list[ThresholdRow]:
    """Every monitoring threshold, from the reference cache (a change to one makes it stale)."""

    def build() -> list[tuple[Any, ...]]:
        return list(
            MonitoringThreshold.objects.order_by("pk").values_list(
                "pk", "region_id", "region__code", "region__level", "year", "amount", "source"
            )
        )

    return [ThresholdRow(*row) for row in reference_get("thresholds", "all", build)]


def threshold_for(*, region: Region, year: int) -> MonitoringThreshold | None:
    """The threshold set nearest above (or at) the region for that year."""
    found = [row for row in thresholds_all() if row.year == year and region.code.startswith(row.prefix)]
    if not found:
        return None
    return max(found, key=lambda row: row.region_level).as_model()


def below_threshold_condition(*, village_field: str = "village") -> Q:
    """A Q matching households whose trailing per-capita income is below their threshold."""
    return list_conditions.threshold_band_condition(low=None, high=Decimal("1"), village_field=village_field)


def household_get(*, user: Any, pk: int) -> Household:
    """One household the user may see, or 404 — never another township's record."""
    try:
        return Household.objects.visible_to(user).select_related("village", "village__parent").get(pk=pk)
    except Household.DoesNotExist as error:
        raise Http404("农户不存在或不在您的管辖范围内") from error


def household_list(
    *,
    user: Any,
    ordering: str = "number",
    **filters: Any,
) -> QuerySet[Household]:
    """Households the user may see, filtered (`household_condition`'s arguments) and ordered; bare
    rows, cheap to count and page.

    Pair with `household_rows` for the columns of the rows on one page.
    """
    condition, aliases = household_condition(user=user, **filters)
    households = Household.objects.visible_to(user)
    if aliases:
        households = households.alias(**aliases)
    return households.filter(condition).order_by(*HOUSEHOLD_ORDERINGS.get(ordering, HOUSEHOLD_ORDERINGS["number"]))


def household_condition(
    *,
    user: Any,
    search: str = "",
    village: Region | None = None,
    household_type: str = "",
    category: str = "",
    open_risk: bool | None = None,
    below_threshold: bool = False,
    include_cancelled: bool = False,
    township: Region | None = None,
    risk_type: Any = None,
    helper: str = "",
    income_fell: bool = False,
    threshold_band: str = "",
    review_due_on: date | None = None,
    missing_income_for: Quarter | None = None,
) -> tuple[Q, dict[str, Any]]:
    """The list's filters as one condition on the user's visible households, with the aliases it
    reads: the list filters by it, the home page counts several of them in one query."""
    conditions: list[Any] = []
    aliases: dict[str, Any] = {}
    if not include_cancelled:
        conditions.append(Q(status=HouseholdStatus.ACTIVE))
    if village is not None:
        # A village filters by its id (indexed with number); a higher unit by its code prefix.
        conditions.append(
            Q(village=village) if village.level == Level.VILLAGE else Q(village__code__startswith=village.prefix)
        )
    if household_type:
        conditions.append(Q(household_type=household_type))
    open_cases = MonitoringCase.objects.open().filter(household=OuterRef("pk"))
    if category:
        conditions.append(Exists(open_cases.filter(category=category)))
    if open_risk is not None or review_due_on is not None:
        aliases.update(list_conditions.open_case_aliases())
    if open_risk is not None:
        conditions.append(list_conditions.open_risk_condition(open_risk=open_risk))
    if below_threshold:
        conditions.append(below_threshold_condition())
    if township is not None:
        conditions.append(Q(village__code__startswith=township.prefix))
    if risk_type is not None:
        conditions.append(Exists(open_cases.filter(risk_types=risk_type)))
    if helper:
        conditions.append(Q(helper_name=helper.strip()))
    if income_fell:
        aliases.update(list_conditions.income_fell_aliases())
        conditions.append(list_conditions.income_fell_condition())
    if threshold_band in list_conditions.THRESHOLD_BANDS:
        low, high = list_conditions.THRESHOLD_BANDS[threshold_band]
        conditions.append(list_conditions.threshold_band_condition(low=low, high=high))
    if review_due_on is not None:
        conditions.append(list_conditions.review_due_condition(today=review_due_on))
    if missing_income_for is not None:
        conditions.append(list_conditions.missing_income_condition(quarter=missing_income_for))
    if search:
        # Matching a 身份证号 would tell a masked role whether a number is registered.
        conditions.append(_search_condition(search.strip(), by_id_number=personal_data.may_view_personal_data(user)))
    return Q(*conditions), aliases


def household_rows(*, ids: list[int]) -> list[Household]:
    """The list page's rows for these ids, in the given order, with head, size and open category.

    The correlated subqueries run for these rows only, never for the rows a page skips.
    """
    open_cases = MonitoringCase.objects.open().filter(household=OuterRef("pk")).order_by()
    heads = Member.objects.filter(household=OuterRef("pk"), relation=Relation.HEAD, is_active=True).order_by()
    rows = (
        Household.objects.filter(pk__in=ids)
        .select_related("village", "village__parent")
        .annotate(
            head_name=Subquery(heads.values("name")[:1]),
            head_id_number=Subquery(heads.values("id_number")[:1]),
            member_count=Subquery(
                Member.objects.filter(household=OuterRef("pk"), is_active=True)
                .order_by()
                .values("household")
                .annotate(n=Count("pk"))
                .values("n")[:1]
            ),
            open_category=Subquery(open_cases.values("category")[:1]),
        )
    )
    by_id = {row.pk: row for row in rows}
    return [by_id[pk] for pk in ids if pk in by_id]


HOUSEHOLD_ORDERINGS: dict[str, list[str]] = {
    "number": ["number"],
    "-number": ["-number"],
    "village": ["village__code", "number"],
    "-village": ["-village__code", "-number"],
    # The descending order matches the household_income_order index; ascending reads it backwards.
    "income": ["trailing_per_capita", "-number"],
    "-income": ["-trailing_per_capita", "number"],
    "updated": ["updated_at", "id"],
    "-updated": ["-updated_at", "-id"],
}


def _search_condition(text: str, *, by_id_number: bool) -> Q:
    """户编号 prefix, any member's 身份证号 prefix (if by_id_number), or the 户主's name (full name or surname)."""
    from households.id_numbers import normalise_id_number

    normalised = normalise_id_number(text)
    members = Member.objects.filter(household=OuterRef("pk")).order_by()
    if normalised[:1] == "L" and normalised[1:2].isdigit():
        return Q(number__startswith=normalised)  # a local 户编号 (L + village code + running number)
    if normalised[:1].isdigit() and not by_id_number:
        return Q(number__startswith=normalised)
    if normalised[:1].isdigit():
        # Digits are a 户编号 or a 身份证号; each prefix match uses its pattern index.
        id_number_match = Exists(members.filter(id_number__startswith=normalised))
        return Q(Q(number__startswith=normalised), id_number_match, _connector=Q.OR)
    # Clerks type a full name or a surname: a prefix match uses the name index.
    return Q(Exists(members.filter(relation=Relation.HEAD, name__startswith=text)))


def villages_for_filter(*, user: Any) -> QuerySet[Region]:
    return regions_visible_to(user).villages().select_related("parent").order_by("code")


def _scope_key(user: Any) -> str:
    prefix = user.scope_prefix() if user.is_authenticated else None
    return "none" if prefix is None else f"p{prefix}"


def village_choices(*, user: Any) -> list[tuple[int, str]]:
    """(id, "乡镇 村") of the villages the user may pick, from the reference cache."""

    def build() -> list[tuple[int, str]]:
        villages = villages_for_filter(user=user).values_list("pk", "parent__name", "name")
        return [(pk, f"{township or ''} {name}") for pk, township, name in villages]

    return reference_get("regions", f"villages:{_scope_key(user)}", build)


def township_choices(*, user: Any) -> list[tuple[int, str]]:
    """(id, name) of the townships a county (or higher) user may pick, from the reference cache."""
    region = getattr(user, "region", None)
    level = "own" if region is not None and region.level >= Level.TOWNSHIP else "below"

    def build() -> list[tuple[int, str]]:
        return list(townships_for_filter(user=user).values_list("pk", "name"))

    return reference_get("regions", f"townships:{_scope_key(user)}:{level}", build)


def risk_types_for_filter(*, user: Any) -> QuerySet[RiskType]:
    """The risk types a user may filter by: the province's and their counties' own, 停用 ones too (cases keep them)."""
    return RiskType.objects.visible_to(user)


def risk_type_choices(*, user: Any) -> list[tuple[int, str]]:
    """(id, name) of the risk types the user may filter by, in their order, from the reference cache.

    Kept per county (or per wider scope): two counties' own entries are different lists."""
    prefix = user.scope_prefix() if user.is_authenticated else None
    if prefix is None:
        return []
    scope = county_prefix_of(prefix)
    several_counties = len(prefix) < PREFIX_LENGTH[Level.COUNTY]

    def build() -> list[tuple[int, str]]:
        rows = RiskType.objects.within(scope).order_by(F("region").asc(nulls_first=True), "sort_order", "code")
        if not several_counties:
            return list(rows.values_list("pk", "name"))
        # Above a county two counties may each have an entry of one name: say whose.
        return [
            (pk, name if county is None else f"{name}（{county}）")
            for pk, name, county in rows.values_list("pk", "name", "region__name")
        ]

    return reference_get("risk_types", f"scope:{scope or 'all'}", build)


def townships_for_filter(*, user: Any) -> QuerySet[Region]:
    """The townships a county (or higher) user may pick on the list; none for a township's own staff."""
    townships = regions_visible_to(user).filter(level=Level.TOWNSHIP).order_by("code")
    region = getattr(user, "region", None)
    if region is not None and region.level >= Level.TOWNSHIP:
        return townships.none()
    return townships


@dataclass
class QuarterRow:
    """One quarter of the household's income ledger with its derived figures."""

    record: IncomeRecord
    growth: Decimal | None
    year_to_date_per_capita: Decimal | None
    sharp_fall: bool


@dataclass
class YearRow:
    year: int
    quarters: list[QuarterRow] = field(default_factory=list)
    per_capita: Decimal | None = None
    complete: bool = False
    growth: Decimal | None = None


SHARP_FALL = Decimal("0.30")


def household_income_ledger(*, household: Household) -> list[YearRow]:
    """Income by year and quarter, newest first, with YTD per-capita and year-on-year growth."""
    records = list(household.income_records.order_by("year", "quarter"))
    by_quarter = {record.period: record for record in records}
    years: dict[int, YearRow] = {}
    for record in records:
        row = years.setdefault(record.year, YearRow(year=record.year))
        earlier = by_quarter.get(record.period.year_earlier())
        year_to_date = formulas.window_per_capita(
            [(r.net_income, r.household_size) for r in [*row_records(row), record]]
        )
        row.quarters.append(
            QuarterRow(
                record=record,
                growth=formulas.growth(
                    current=record.per_capita_net_income,
                    previous=earlier.per_capita_net_income if earlier else None,
                ),
                year_to_date_per_capita=year_to_date,
                sharp_fall=formulas.is_sharp_fall(
                    current=record.per_capita_net_income,
                    previous=earlier.per_capita_net_income if earlier else None,
                    limit=SHARP_FALL,
                ),
            )
        )
    for row in years.values():
        row.per_capita = row.quarters[-1].year_to_date_per_capita if row.quarters else None
        row.complete = len(row.quarters) == 4
        previous = years.get(row.year - 1)
        if row.complete and previous is not None and previous.complete:
            row.growth = formulas.growth(current=row.per_capita, previous=previous.per_capita)
        row.quarters.reverse()
    return sorted(years.values(), key=lambda r: r.year, reverse=True)


def row_records(row: YearRow) -> list[IncomeRecord]:
    return [q.record for q in row.quarters]


def trailing_per_capita(*, household: Household, ending: Quarter) -> Decimal | None:
    """Per-capita net income of the four quarters ending at `ending`; None if one is missing."""
    quarters = ending.trailing_four()
    records = [r for r in household.income_records.filter(year__in={q.year for q in quarters}) if r.period in quarters]
    if len(records) < 4:
        return None
    records.sort(key=lambda record: record.period)
    return formulas.window_per_capita([(r.net_income, r.household_size) for r in records])


def household_detail(*, user: Any, pk: int) -> Household:
    """The household with members and cases prefetched for the detail page."""
    members = Prefetch("members", queryset=Member.objects.in_family_order())
    cases = Prefetch(
        "monitoring_cases",
        queryset=MonitoringCase.objects.prefetch_related("risk_types", "measures").order_by("-identified_month"),
    )
    try:
        return (
            Household.objects.visible_to(user)
            .select_related("village", "village__parent")
            .prefetch_related(members, cases)
            .get(pk=pk)
        )
    except Household.DoesNotExist as error:
        raise Http404("农户不存在或不在您的管辖范围内") from error


@dataclass
class Change:
    """One line of the change history: who changed what, when, and how."""

    at: datetime
    user: str
    subject: str
    action: str
    reason: str
    fields: list[tuple[str, str, str]]


def household_history(*, household: Household, reveal_personal_data: bool, limit: int = 100) -> list[Change]:
    """Every recorded change to the household, its members, cases and income, newest first.

    身份证号, phone numbers and birth dates are masked (an age for a birth date) unless the
    viewer's role may see them.
    """
    sources: list[HistorySource] = [
        (Household.history, Q(id=household.pk), lambda h: "户信息"),
        (Member.history, Q(household_id=household.pk), lambda h: f"成员 {h.name}"),
        (MonitoringCase.history, Q(household_id=household.pk), lambda h: "监测对象"),
        (IncomeRecord.history, Q(household_id=household.pk), lambda h: f"{h.year}年第{h.quarter}季度收入"),
    ]
    return history_changes(sources=sources, reveal_personal_data=reveal_personal_data, limit=limit)


# (a model's history manager, which of its rows, how a row is named on the page)
HistorySource = tuple[Any, Q, Callable[[Any], str]]


def history_changes(*, sources: list[HistorySource], reveal_personal_data: bool, limit: int = 100) -> list[Change]:
    """The recorded changes of the given history rows, newest first, field by field.

    Personal data (身份证号, phone numbers, birth dates, and numbers inside other text) is masked
    unless `reveal_personal_data`. Any register's page shows its history through this.
    """

    def shown(name: str, text: str) -> str:
        if reveal_personal_data or text == "（空）":
            return text
        if name in personal_data.PERSONAL_FIELDS:
            return personal_data.shown(name, text, reveal=False)
        return personal_data.masked_text(text)

    changes: list[Change] = []
    for manager, condition, describe in sources:
        rows = list(
            manager.filter(condition).select_related("history_user").order_by("id", "history_date", "history_id")
        )
        many = _many_to_many_history(rows, manager.model)
        previous_by_object: dict[int, Any] = {}
        for row in rows:
            previous = previous_by_object.get(row.id)
            fields: list[tuple[str, str, str]] = []
            if previous is not None:
                delta = row.diff_against(previous, excluded_fields=list(many), foreign_keys_are_objs=False)
                for change in delta.changes:
                    label = _field_label(row.instance_type, change.field)
                    fields.append(
                        (
                            label,
                            shown(change.field, _display(row, change.field, change.old)),
                            shown(change.field, _display(row, change.field, change.new)),
                        )
                    )
                for name, (chosen, labels) in many.items():
                    old, new = chosen.get(previous.history_id, ()), chosen.get(row.history_id, ())
                    if old != new:
                        fields.append(
                            (
                                _field_label(row.instance_type, name),
                                "、".join(labels[pk] for pk in old) or "（空）",
                                "、".join(labels[pk] for pk in new) or "（空）",
                            )
                        )
            previous_by_object[row.id] = row
            # A save that changed no field says nothing, unless it recorded why (新增受益农户1户).
            if previous is not None and not fields and row.history_type == "~" and not row.history_change_reason:
                continue
            changes.append(
                Change(
                    at=row.history_date,
                    user=_user_label(row.history_user),
                    subject=shown("", describe(row)),
                    action={"+": "新增", "~": "修改", "-": "删除"}[row.history_type],
                    reason=shown("", row.history_change_reason or ""),
                    fields=fields,
                )
            )
    changes.sort(key=lambda c: c.at, reverse=True)
    return changes[:limit]


def _many_to_many_history(
    rows: list[Any], history_model: Any
) -> dict[str, tuple[dict[int, tuple[int, ...]], dict[int, str]]]:
    """For each many-to-many field the history keeps: the related ids every history row recorded, and
    their names — two queries per field for all the rows, where diff_against asks twice per row."""
    from simple_history.utils import get_m2m_reverse_field_name

    result: dict[str, tuple[dict[int, tuple[int, ...]], dict[int, str]]] = {}
    if not rows:
        return result
    for many in getattr(history_model, "_history_m2m_fields", []):
        through = getattr(rows[0], many.name).model
        target = get_m2m_reverse_field_name(many)
        chosen: dict[int, list[int]] = {}
        for history_id, related_id in (
            through.objects.filter(history_id__in=[row.history_id for row in rows])
            .order_by(target)
            .values_list("history_id", f"{target}_id")
        ):
            chosen.setdefault(history_id, []).append(related_id)
        ids = {pk for values in chosen.values() for pk in values}
        labels = {item.pk: str(item) for item in many.related_model.objects.filter(pk__in=ids)}
        result[many.name] = (
            {history_id: tuple(values) for history_id, values in chosen.items()},
            {pk: labels.get(pk, str(pk)) for pk in ids},
        )
    return result


def _user_label(user: Any) -> str:
    if user is None:
        return "系统"
    return user.get_full_name() or user.username


def _field_label(model: Any, name: str) -> str:
    try:
        return str(model._meta.get_field(name).verbose_name)
    except Exception:
        return name


def _display(row: Any, name: str, value: Any) -> str:
    model = row.instance_type
    try:
        model_field = model._meta.get_field(name)
    except Exception:
        return str(value)
    if isinstance(value, list):
        # m2m changes arrive as lists of through-row dicts
        related = model_field.related_model
        ids = [
            item[related._meta.model_name]
            for item in value
            if isinstance(item, dict) and related._meta.model_name in item
        ]
        names = dict(related.objects.filter(pk__in=ids).values_list("pk", "name"))
        return "、".join(str(names.get(i, i)) for i in ids) or "（空）"
    if value is None or value == "":
        return "（空）"
    choices = dict(model_field.flatchoices) if getattr(model_field, "flatchoices", None) else {}
    if choices:
        return str(choices.get(value, value))
    if isinstance(value, bool):
        return "是" if value else "否"
    if model_field.is_relation:
        return str(model_field.related_model.objects.filter(pk=value).first() or value)
    return str(value)


def latest_income_quarter(*, within: str) -> Quarter | None:
    """The latest quarter with any income record under the code prefix."""
    latest = (
        IncomeRecord.objects.filter(household__village__code__startswith=within)
        .order_by("-year", "-quarter")
        .values_list("year", "quarter")
        .first()
    )
    return Quarter(*latest) if latest else None
