"""花名册 import: one row per member, household columns repeated; plan, then write in bulk."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from households.excel.columns import Column
from households.excel.normalise import FAILED
from households.excel.plan import Change, Counter, Plan, in_chunks, shown, without_cycle_collection
from households.excel.prepared import (
    CASE_FIELDS,
    HOUSEHOLD_FIELDS,
    MEMBER_FIELDS,
    PreparedRoster,
    heads_last,
    households_moved_on,
)
from households.excel.reader import Table
from households.excel.roster_rows import (
    COLUMNS,
    HOUSEHOLD_BUILDER,
    MEMBER_BUILDER,
    MEMBER_KEYS,
    Cells,
    Group,
    Villages,
    consistent,
    group_rows,
)
from households.id_numbers import remembering_valid_numbers
from households.models import (
    MAX_RISK_TYPES,
    Household,
    Member,
    MonitoringCase,
    Relation,
    RiskType,
)
from regions.models import Region


class RosterPlanner:
    """Validates a roster against the registry and the models' rules, and lists the writes."""

    def __init__(
        self, *, user: Any, sheet: str, lock: bool = False, keep_writes: bool | None = None, prepare: bool = False
    ) -> None:
        """lock: row-lock the matched households (confirming). keep_writes (default: lock): keep the
        instances to write in plan.writes; a preview only counts them, and lets them go. prepare
        (PostgreSQL): collect the writes as a PreparedRoster in plan.prepared instead.
        """
        self.user = user
        self.lock = lock
        self.keep_writes = lock if keep_writes is None else keep_writes
        self.prepared = PreparedRoster(user) if prepare else None
        self.plan = Plan(
            sheet=sheet,
            counts={"households": Counter(), "members": Counter(), "cases": Counter()},
            writes={
                "new_households": [],
                "updated_households": [],
                "new_members": [],
                "updated_members": [],
                "new_cases": [],
                "updated_cases": [],
                "case_risks": [],
            },
        )
        self.risk_types = {r.name: r for r in RiskType.objects.all()}
        self.scope_prefix = user.scope_prefix()
        MEMBER_BUILDER.prepare()
        HOUSEHOLD_BUILDER.prepare()

    def run(self, raw_rows: list[Any]) -> Plan:
        """Plan rows given as RawRows (reader.Table.rows); run_table is the cheaper way in."""
        keys = list(dict.fromkeys(key for raw in raw_rows for key in raw.values))
        columns: dict[str, Sequence[Any]] = {key: [raw.values.get(key, "") for raw in raw_rows] for key in keys}
        return self._run([raw.row_number for raw in raw_rows], columns)

    def run_table(self, table: Table) -> Plan:
        """Plan the table's rows; the table hands its cells over (Table.take_columns)."""
        return self._run(table.row_numbers, table.take_columns())

    def _run(self, numbers: list[int], raw: dict[str, Sequence[Any]]) -> Plan:
        with without_cycle_collection(), remembering_valid_numbers():
            return self._plan(numbers, raw)

    def _plan(self, numbers: list[int], raw: dict[str, Sequence[Any]]) -> Plan:
        plan = self.plan
        cells = Cells(plan, numbers, raw)
        self.villages = Villages(self.user)
        groups, village_of = group_rows(plan, cells, self.villages)
        cells.find_differing(groups, village_of)
        household_numbers = [key[1] for key in groups if key[0] == "number"]
        ids = cells.columns.get("id_number") or []
        id_numbers = [ids[i] for indexes in groups.values() for i in indexes if ids[i] and ids[i] is not FAILED]
        self._one_household_per_person(cells, groups)
        existing, members_by_id = self._existing(household_numbers, id_numbers)
        self.member_columns = [(name, cells.columns[key]) for name, key in MEMBER_KEYS if key in cells.columns]
        names = [name for name, _ in self.member_columns]
        # A member's current values of those columns, in their order, as a tuple.
        self.member_fields: Callable[[dict[str, Any]], tuple[Any, ...]] = (
            (lambda values: tuple(values[name] for name in names)) if len(names) < 2 else itemgetter(*names)
        )
        for key, indexes in groups.items():
            self._plan_group(Group(key, indexes, cells, village_of), existing, members_by_id)
        if plan.errors:
            self._count_errors(cells, groups)
        plan.prepared = self.prepared
        return plan

    def _one_household_per_person(self, cells: Cells, groups: dict[tuple[Any, ...], list[int]]) -> None:
        """A 身份证号 listed under two households of the file is an error on the later row.

        (Twice in one household is reported when that household is planned.)
        """
        ids = cells.columns.get("id_number")
        if ids is None:
            return
        first: dict[str, tuple[tuple[Any, ...], int]] = {}
        for key, indexes in groups.items():
            for index in indexes:
                number = ids[index]
                if not number or number is FAILED:
                    continue
                seen_key, seen_row = first.setdefault(number, (key, cells.numbers[index]))
                if seen_key != key:
                    self.plan.error(
                        cells.numbers[index], COLUMNS["id_number"], f"与第{seen_row}行身份证号重复（不同户）"
                    )
                    cells.ok[index] = False

    def _count_errors(self, cells: Cells, groups: dict[tuple[Any, ...], list[int]]) -> None:
        """Members and households with errors, and who each error's row is."""
        plan = self.plan
        error_rows = {e.row for e in plan.errors}
        index_of = {number: index for index, number in enumerate(cells.numbers) if number in error_rows}
        household_of_row = {
            cells.numbers[index]: key
            for key, indexes in groups.items()
            for index in indexes
            if cells.numbers[index] in error_rows
        }
        plan.counts["members"].error = len(error_rows)
        plan.counts["households"].error = len({household_of_row.get(row, ("row", row)) for row in error_rows})
        raw_numbers = cells.raw.get("household_number")
        raw_names = cells.raw.get("member_name")

        def who(index: int) -> str:
            number = raw_numbers[index] if raw_numbers is not None else None
            name = raw_names[index] if raw_names is not None else None
            return f"{number or ''} {name or ''}"

        plan.describe_rows({row: who(index) for row, index in index_of.items()})

    def _existing(
        self, numbers: list[str], id_numbers: list[str]
    ) -> tuple[dict[tuple[str, str], Household], dict[str, Member]]:
        """Existing households by ("number", 户编号) and by ("head", 户主身份证号), and members by 身份证号.

        Each matched household carries all its members and its open case (as prefetches); the
        members are read once and serve both purposes, and the households share the planner's
        village objects instead of one joined copy each. A second import of a county roster
        reads 50,000 households and 200,000 members here: they are read as rows and made into
        instances directly (Builder.from_db), and the prefetches are filled by hand, because
        the ORM's per-instance machinery for both took longer than validating the whole file.
        """
        # Locked in id order, like the confirmation's check (prepared.py). Households found by their
        # 户主 are locked by a second query; a deadlock left possible fails the batch, writing nothing.
        households = Household.objects.order_by("pk").values_list(*HOUSEHOLD_BUILDER.attnames)
        if self.lock:
            households = households.select_for_update(of=("self",))
        found: dict[tuple[str, str], Household] = {}
        by_pk: dict[int, Household] = {}
        for household in HOUSEHOLD_BUILDER.from_db(in_chunks(households, "number", numbers), households.db):
            found[("number", household.number)] = household
            by_pk[household.pk] = household
        # Every 身份证号 of the file that is registered already, in one pass: heads find their households.
        registered = Member.objects.order_by().values_list("id_number", "household_id", "relation")
        known = {
            number: (household_id, relation)
            for number, household_id, relation in in_chunks(registered, "id_number", id_numbers)
        }
        head_households = {
            number: household_id for number, (household_id, relation) in known.items() if relation == Relation.HEAD
        }
        missing = set(head_households.values()) - set(by_pk)
        for household in HOUSEHOLD_BUILDER.from_db(in_chunks(households.order_by("pk"), "pk", missing), households.db):
            by_pk[household.pk] = household
        for id_number, household_id in head_households.items():
            found[("head", id_number)] = by_pk[household_id]
        self._attach_villages(list(by_pk.values()))

        household_field = Member._meta.get_field("household")
        members_of: dict[int, list[Member]] = {pk: [] for pk in by_pk}
        members_by_id: dict[str, Member] = {}
        member_rows = Member.objects.order_by().values_list(*MEMBER_BUILDER.attnames)
        for member in MEMBER_BUILDER.from_db(in_chunks(member_rows, "household", list(by_pk)), member_rows.db):
            household_field.set_cached_value(member, by_pk[member.household_id])
            members_of[member.household_id].append(member)
            members_by_id[member.id_number] = member
        open_cases: dict[int, list[MonitoringCase]] = {pk: [] for pk in by_pk}
        cases = MonitoringCase.objects.open().prefetch_related("risk_types").order_by()
        if self.lock:
            # Case edits claim the case's version, not the household's: locked as well.
            cases = cases.select_for_update(of=("self",))
        case_household = MonitoringCase._meta.get_field("household")
        for case in in_chunks(cases, "household", list(by_pk)):
            case_household.set_cached_value(case, by_pk[case.household_id])
            open_cases[case.household_id].append(case)
        if self.prepared is not None:
            self.prepared.remember(by_pk.values(), [case for cases in open_cases.values() for case in cases])
        for pk, household in by_pk.items():
            household._prefetched_objects_cache = {  # type: ignore[attr-defined]
                "members": members_of[pk],
                "monitoring_cases": open_cases[pk],
            }
        # Listed in the file but registered in a household the file does not name.
        elsewhere = [number for number in known if number not in members_by_id]
        for member in in_chunks(Member.objects.select_related("household").order_by(), "id_number", elsewhere):
            members_by_id[member.id_number] = member
        return found, members_by_id

    def _attach_villages(self, households: list[Household]) -> None:
        village_field = Household._meta.get_field("village")
        regions = {village.pk: village for village in self.villages.by_code.values()}
        unknown = {h.village_id for h in households} - set(regions)
        if unknown:
            # Households of villages outside the uploader's scope: reported, never written.
            regions.update({region.pk: region for region in in_chunks(Region.objects.order_by(), "pk", unknown)})
        for household in households:
            village_field.set_cached_value(household, regions[household.village_id])

    def _plan_group(
        self, group: Group, existing: dict[tuple[str, str], Household], members_by_id: dict[str, Member]
    ) -> None:
        plan = self.plan
        if not group.all_ok or not consistent(plan, group):
            return
        first = group.first
        values = first.values
        cells = group.cells
        relations = cells.columns.get("relation")
        head = next((i for i in group.indexes if relations is not None and relations[i] == Relation.HEAD), None)
        head_id = cells.get("id_number", head) if head is not None else None
        household = existing.get(("number", group.key[1])) if group.key[0] == "number" else None
        if household is None and head is not None:
            household = existing.get(("head", head_id or ""))
        village: Region = values["_village"]
        if household is not None and not self._in_scope(household):
            plan.error(first.number, COLUMNS["household_number"], f"户编号 {household.number} 不在您的管辖范围内")
            return
        is_new = household is None
        if household is None:
            number = values.get("household_number") or self._local_number(village, head_id)
            if number is None:
                plan.error(first.number, COLUMNS["household_number"], "户编号为空时须有户主行（与户主关系为“户主”）")
                return
            fields = {"number": number, "village_id": village.pk, "household_type": values.get("household_type", "")}
            fields.update({name: values[name] for name in HOUSEHOLD_FIELDS if name in values})
            household = HOUSEHOLD_BUILDER.build(fields)
            Household._meta.get_field("village").set_cached_value(household, village)
            changed = True
        else:
            changed = self._apply_fields(household, values, first.number, is_new, "village", village)
            for name in HOUSEHOLD_FIELDS:
                if name in values:
                    changed |= self._apply_fields(household, values, first.number, is_new, name, values[name])
        try:
            household.clean()
        except ValidationError as error:
            for field_name, messages in error.message_dict.items():
                plan.error(first.number, self._column_for(field_name), "；".join(messages))
            return
        members = self._plan_members(group, household, members_by_id)
        if members is None:
            return
        case_ok = self._plan_case(group, household, members)
        if not case_ok:
            return
        counter = plan.counts["households"]
        if is_new:
            counter.new += 1
            self._write("new_households", household)
        elif changed:
            counter.updated += 1
            self._write("updated_households", household)
        else:
            counter.unchanged += 1

    def _write(self, kind: str, item: Any) -> None:
        if self.prepared is not None:
            self.prepared.add(kind, item)
        elif self.keep_writes:
            self.plan.writes[kind].append(item)

    def _in_scope(self, household: Household) -> bool:
        prefix = self.scope_prefix
        return prefix == "" or (prefix is not None and household.village.code.startswith(prefix))

    @staticmethod
    def _local_number(village: Region, head_id: str | None) -> str | None:
        """户编号 for a household the file gives none: L + the 户主's 身份证号."""
        if not head_id:
            return None
        return f"L{head_id}"

    def _apply_fields(self, instance: Any, values: dict[str, Any], row: int, is_new: bool, name: str, new: Any) -> bool:
        """Set one field; record old → new for an existing record. True when it changed."""
        old = getattr(instance, name)
        if old == new:
            return False
        setattr(instance, name, new)
        if not is_new and len(self.plan.changes) < 2000:
            model_field = instance._meta.get_field(name)
            label = str(model_field.verbose_name)
            choices = dict(model_field.flatchoices) if model_field.choices else {}
            self.plan.changes.append(
                Change(str(instance), row, label, shown(choices.get(old, old)), shown(choices.get(new, new)))
            )
        return True

    @staticmethod
    def _column_for(field_name: str) -> Column:
        mapping = {"name": "member_name", "village": "village", "__all__": "household_number"}
        return COLUMNS.get(mapping.get(field_name, field_name), COLUMNS["household_number"])

    def _plan_members(
        self, group: Group, household: Household, members_by_id: dict[str, Member]
    ) -> list[Member] | None:
        plan = self.plan
        counter = plan.counts["members"]
        in_file: list[tuple[Member, bool, bool]] = []
        household_field = Member._meta.get_field("household")
        cells = group.cells
        ids = cells.columns["id_number"]
        member_columns = self.member_columns
        member_fields = self.member_fields
        ok = True
        seen: dict[str, int] = {}
        for index in group.indexes:
            number = cells.numbers[index]
            id_number = ids[index]
            if id_number in seen:
                plan.error(number, COLUMNS["id_number"], f"与第{seen[id_number]}行身份证号重复")
                ok = False
                continue
            seen[id_number] = number
            member = members_by_id.get(id_number)
            if member is not None and household.pk is not None and member.household_id != household.pk:
                plan.error(number, COLUMNS["id_number"], f"该身份证号已登记在户编号 {member.household.number} 名下")
                ok = False
                continue
            if member is not None and household.pk is None:
                plan.error(number, COLUMNS["id_number"], f"该身份证号已登记在户编号 {member.household.number} 名下")
                ok = False
                continue
            is_new = member is None
            changed = False
            if member is None:
                fields = {"household_id": household.pk, "id_number": id_number}
                for name, column in member_columns:
                    value = column[index]
                    if value is not None:
                        fields[name] = value
                member = MEMBER_BUILDER.build(fields)
                household_field.set_cached_value(member, household)
            elif member.is_active and all(
                column[index] is None or column[index] == current
                for (_, column), current in zip(member_columns, member_fields(member.__dict__), strict=True)
            ):
                pass  # already as the file says: nothing to set or record
            else:
                for name, column in member_columns:
                    value = column[index]
                    if value is not None:
                        changed |= self._apply_fields(member, {}, number, is_new, name, value)
                if not member.is_active:
                    changed |= self._apply_fields(member, {}, number, is_new, "is_active", True)
            try:
                member.clean()
            except ValidationError as error:
                for messages in error.message_dict.values():
                    plan.error(number, COLUMNS["id_number"], "；".join(messages))
                ok = False
                continue
            in_file.append((member, is_new, changed))
        if not ok:
            return None
        everyone = [member for member, _, _ in in_file]
        if household.pk:
            listed = {member.id_number for member in everyone}
            everyone += [m for m in household.members.all() if m.is_active and m.id_number not in listed]
        heads = [m for m in everyone if m.relation == Relation.HEAD]
        if len(heads) != 1:
            message = "该户没有户主" if not heads else f"一户只能有一名户主，当前有{len(heads)}名"
            plan.error(group.first.number, COLUMNS["relation"], message)
            return None
        for member, is_new, changed in in_file:
            if is_new:
                counter.new += 1
                self._write("new_members", member)
            elif changed:
                counter.updated += 1
                self._write("updated_members", member)
            else:
                counter.unchanged += 1
        return everyone

    def _plan_case(self, group: Group, household: Household, members: list[Member]) -> bool:
        plan = self.plan
        first = group.first
        values = first.values
        if not values.get("category"):
            return True
        risk_names = [values[f"risk_type_{n}"] for n in range(1, MAX_RISK_TYPES + 1) if values.get(f"risk_type_{n}")]
        unknown = [name for name in risk_names if name not in self.risk_types]
        if unknown:
            plan.error(first.number, COLUMNS["risk_type_1"], f"未知的风险类型：{'、'.join(unknown)}")
            return False
        if not risk_names:
            plan.error(first.number, COLUMNS["risk_type_1"], "监测对象须填写至少一项风险类型")
            return False
        open_case = next(iter(household.monitoring_cases.all()), None) if household.pk else None
        is_new = open_case is None
        case = open_case or MonitoringCase(household=household)
        eliminated = values.get("eliminated")
        wanted = {
            "category": values["category"],
            "identified_month": values.get("identified_month"),
            "eliminated_month": values.get("eliminated_month") if eliminated is not False else None,
            "elimination_method": (values.get("elimination_method") or "") if eliminated is not False else "",
        }
        if wanted["identified_month"] is None:
            plan.error(first.number, COLUMNS["identified_month"], "监测对象须填写识别时间")
            return False
        changed = False
        for name, value in wanted.items():
            changed |= self._apply_fields(case, values, first.number, is_new, name, value)
        current_risks = sorted(r.name for r in case.risk_types.all()) if case.pk else []
        if sorted(risk_names) != current_risks:
            changed = True
        household._prefetched_objects_cache = {  # type: ignore[attr-defined]
            **getattr(household, "_prefetched_objects_cache", {}),
            "members": members,
        }
        case.household = household
        try:
            case.clean()
        except ValidationError as error:
            for field_name, messages in error.message_dict.items():
                plan.error(first.number, COLUMNS.get(field_name, COLUMNS["category"]), "；".join(messages))
            return False
        counter = plan.counts["cases"]
        if is_new:
            counter.new += 1
            self._write("new_cases", case)
        elif changed:
            counter.updated += 1
            self._write("updated_cases", case)
        else:
            counter.unchanged += 1
            return True
        self._write("case_risks", (case, [self.risk_types[name] for name in risk_names]))
        return True


def roster_apply(plan: Plan, *, user: Any, reason: str) -> dict[str, Any]:
    """Write a planned roster in bulk (the caller holds the transaction); returns undo data.

    A plan made with prepare=True (PostgreSQL) writes by COPY (PreparedRoster.apply); otherwise
    its instances go through simple_history's bulk functions.
    """
    with without_cycle_collection():
        if plan.prepared is not None:
            return plan.prepared.apply(user=user, reason=reason)
        return _roster_apply(plan, user=user, reason=reason)


def _roster_apply(plan: Plan, *, user: Any, reason: str) -> dict[str, Any]:
    writes = plan.writes
    history = {"default_user": user, "default_change_reason": reason}
    now = timezone.now()
    bulk_create_with_history(writes["new_households"], Household, batch_size=2000, default_date=now, **history)
    for household in writes["updated_households"]:
        household.version += 1
        household.updated_at = now
    bulk_update_with_history(
        writes["updated_households"],
        Household,
        ["village", *HOUSEHOLD_FIELDS, "version", "updated_at"],
        batch_size=1000,
        **history,
    )
    # Existing members before new ones (a 户主 demoted in the file makes way for a new one).
    updated_members = writes["updated_members"]
    for group in heads_last(updated_members):
        bulk_update_with_history(group, Member, [*MEMBER_FIELDS, "is_active"], batch_size=2000, **history)
    existing = {household.pk for household in writes["updated_households"]}
    touched = {member.household_id for member in updated_members}
    for member in writes["new_members"]:
        member.household_id = member.household.pk
        touched.add(member.household_id)
    bulk_create_with_history(writes["new_members"], Member, batch_size=2000, default_date=now, **history)
    for case in writes["updated_cases"]:
        case.version += 1
        touched.add(case.household_id)
    bulk_update_with_history(writes["updated_cases"], MonitoringCase, [*CASE_FIELDS, "version"], **history)
    for case in writes["new_cases"]:
        case.household_id = case.household.pk
        touched.add(case.household_id)
    bulk_create_with_history(writes["new_cases"], MonitoringCase, batch_size=2000, default_date=now, **history)
    new = {household.pk for household in writes["new_households"]}
    households_moved_on(touched - existing - new)
    through = MonitoringCase.risk_types.through
    previous_risks: dict[str, list[int]] = {}
    for case_id, risk_id in through.objects.filter(
        monitoringcase_id__in=[c.pk for c in writes["updated_cases"]]
    ).values_list("monitoringcase_id", "risktype_id"):
        previous_risks.setdefault(str(case_id), []).append(risk_id)
    through.objects.filter(monitoringcase_id__in=[c.pk for c, _ in writes["case_risks"]]).delete()
    through.objects.bulk_create(
        [
            through(monitoringcase_id=case.pk, risktype_id=risk.pk)
            for case, risks in writes["case_risks"]
            for risk in risks
        ],
        batch_size=5000,
    )
    return {"case_risks": previous_risks}
