"""项目库 in Excel: projects with their 双绑 entities, and the households they benefit.

A project's status moves only through the project page's steps (入库 has its own gate, funds.services
.projects): a new project is imported as 储备, and the 状态 column is written by the export and only
compared on import. The library rule of 001 §(三) holds for every project the file changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from cooperatives.models import Binding, Entity, EntityKind
from cooperatives.sheets import household_columns, household_reference, households_in_scope
from funds.models import IN_LIBRARY, Beneficiary, Funding, Project, ProjectStatus, ProjectStep, ProjectType
from funds.services import messages
from funds.sheets.base import FundSheet, RowErrors, refuse_unless, shown_status, status_unchanged, text
from households.excel import record_columns as cells
from households.models import Household, Member, Relation
from households.personal_data import masked_text
from regions.models import Region, county_code_of, regions_visible_to
from workbooks.models import ImportBatch
from workbooks.records import Check, Lookup, Many, Planned, Record, Reference
from workbooks.records.planner import chunked

NEW_IS_RESERVE = "新项目导入后为储备；入库等步骤请在项目页面办理"
STATUS_FIXED = "项目状态为“{status}”，不能通过导入修改；入库、退回等步骤请在项目页面办理"
NOT_SUPPORTABLE = "统一社会信用代码“{value}”不存在、不在您的管辖范围内，或该主体没有企业绑定合作社（双绑）记录"


def projects_in_view(user: Any) -> QuerySet[Project]:
    return Project.objects.visible_to(user).select_related("region")


def regions_in_scope(user: Any) -> QuerySet[Region]:
    return regions_visible_to(user)


def supportable_entities(user: Any) -> QuerySet[Entity]:
    """双绑 entities the user may name: an enterprise that binds a cooperative, or a bound cooperative."""
    bound = Q(pk__in=Binding.objects.values("enterprise")) | Q(pk__in=Binding.objects.values("cooperative"))
    return Entity.objects.visible_to(user).filter(bound).exclude(kind=EntityKind.FAMILY_FARM)


def _project_rules(user: Any, rows: Sequence[Planned]) -> RowErrors:
    yield from status_unchanged(rows, "status", "status", new=NEW_IS_RESERVE, changed=STATUS_FIXED)
    changed = [row for row in rows if row.changed and row.before is not None]
    library = [row for row in changed if row.record.status in IN_LIBRARY and row.record.project_type.is_industry]
    linked: set[int] = set()
    for chunk in chunked(row.record.pk for row in library):
        linked.update(Beneficiary.objects.filter(project_id__in=chunk).values_list("project_id", flat=True))
    for row in library:
        if not row.record.linkage_mechanism.strip():
            yield row.number, "linkage_mechanism", messages.NO_LINKAGE
        elif row.record.pk not in linked:
            yield row.number, "project_type", messages.NO_BENEFICIARIES
    moved = {row.record.pk: row for row in changed if row.record.region_id != row.before.region_id}
    refused: set[int] = set()
    for chunk in chunked(moved):
        for line in Funding.objects.filter(project_id__in=chunk).select_related("allocation__region"):
            row = moved[line.project_id]
            source = line.allocation.region
            if row.number not in refused and not source.contains(row.record.region):
                refused.add(row.number)
                yield row.number, "region_code", messages.project_region_outside_funding(source.name)


def projects_hold(ids: list[int]) -> None:
    """At the confirmation: the written projects keep 001's library rule and stay where their money was sent."""
    for chunk in chunked(ids):
        written = Project.objects.filter(pk__in=chunk)
        linked = Beneficiary.objects.filter(project=OuterRef("pk"))
        unlinked = written.filter(status__in=IN_LIBRARY, project_type__is_industry=True).filter(
            Q(linkage_mechanism="") | ~Exists(linked)
        )
        refuse_unless(not unlinked.exists(), "industry project in the library without linkage")
        for line in Funding.objects.filter(project__in=written).select_related("project__region", "allocation__region"):
            refuse_unless(line.allocation.region.contains(line.project.region), f"project {line.project_id} moved")


def links_undone(batch_id: int) -> None:
    """After an undo of 受益农户 links: a project that entered the library since keeps a household."""
    history: Any = Beneficiary.history.model
    projects = history.objects.filter(import_batch_id=batch_id, history_type="+").values("project_id")
    linked = Beneficiary.objects.filter(project=OuterRef("pk"))
    bare = Project.objects.filter(pk__in=projects, status__in=IN_LIBRARY, project_type__is_industry=True)
    refuse_unless(not bare.filter(~Exists(linked)).exists(), "industry project in the library without households")


def _names(model: Any) -> Any:
    return lambda: list(model.objects.values_list("name", flat=True))


PROJECTS = Record(
    name="projects",
    label="项目库",
    model=Project,
    key=("code",),
    columns=(
        text("code", "项目编号", "code", required=True, aliases=("项目代码",), code=True),
        text("name", "项目名称", "name", required=True, width=28),
        cells.year("year", "年度", "year", required=True, aliases=("项目年度",)),
        cells.text(
            "region_code",
            "实施区划代码",
            export="region__code",
            aliases=("区划代码",),
            help="12位统计用区划代码：县、乡镇或村，优先于实施区划名称",
            code=True,
        ),
        cells.text("region_name", "实施区划", export="region__name", aliases=("实施地点",)),
        cells.listed("project_type", "项目类型", _names(ProjectType), export="project_type__name", required=True),
        text(
            "linkage_mechanism",
            "联农带农机制",
            "linkage_mechanism",
            help="写明农户如何受益；产业发展项目入库须填写",
            width=40,
        ),
        cells.text(
            "supported_entities",
            "扶持的双绑主体",
            aliases=("双绑主体统一社会信用代码",),
            help="有企业绑定合作社（双绑）记录的企业或合作社的统一社会信用代码，多个用“、”分隔",
            width=40,
        ),
        shown_status(
            "status", "状态", Project, "status", help="仅供核对：新项目导入后为储备，入库等步骤在项目页面办理"
        ),
    ),
    references=(
        Reference("region", (Lookup("region_code", "code"), Lookup("region_name", "name")), scope=regions_in_scope),
        Reference("project_type", (Lookup("project_type", "name"),), scope=lambda user: ProjectType.objects.all()),
    ),
    many=(
        Many(
            "supported_entities",
            "supported_entities",
            scope=supportable_entities,
            path="credit_code",
            unknown=NOT_SUPPORTABLE,
        ),
    ),
    permission="funds.add_project",
    undo_permission="funds.change_project",
    visible=Project.objects.visible_to,
    managed=Project.objects.visible_to,
    across=_project_rules,
    defaults=lambda: {"status": ProjectStatus.RESERVE, "status_on": timezone.localdate()},
    region_code="region__code",
    subject=str,
    who=("code", "name"),
    ordering=("-year", "code", "pk"),
    notes=(
        "每行填写一个项目，以项目编号识别：已有的项目按文件修改，没有的新增为储备项目。",
        "项目状态（入库、批准实施等）只能在项目页面逐步办理；产业发展项目须有联农带农机制和受益农户方可入库。",
        "受益农户在“项目受益农户”表中导入，资金安排在“资金安排”表中导入。",
    ),
    taken="已被使用",
)


class ProjectSheet(FundSheet):
    """A new project's first step (储备) is recorded as the project page records it."""

    def after_apply(self, *, batch_id: int, created: dict[str, list[int]]) -> None:
        super().after_apply(batch_id=batch_id, created=created)
        new = created.get(Project._meta.label_lower, [])
        by = ImportBatch.objects.values_list("applied_by_id", flat=True).get(pk=batch_id)
        steps = [
            ProjectStep(project_id=pk, from_status="", to_status=ProjectStatus.RESERVE, on=day, by_id=by)
            for chunk in chunked(new)
            for pk, day in Project.objects.filter(pk__in=chunk).values_list("pk", "status_on")
        ]
        ProjectStep.objects.bulk_create(steps, batch_size=2000)

    def before_undo(self, *, batch_id: int) -> None:
        super().before_undo(batch_id=batch_id)
        history: Any = Project.history.model
        created = history.objects.filter(import_batch_id=batch_id, history_type="+").values_list("id", flat=True)
        for chunk in chunked(created):
            ProjectStep.objects.filter(project_id__in=chunk).delete()


# 项目受益农户 --------------------------------------------------------------------------------------


def beneficiaries_in_view(user: Any) -> QuerySet[Beneficiary]:
    """The links of the projects the user sees to the households they see (no one else's household shows)."""
    return Beneficiary.objects.filter(
        project__in=Project.objects.visible_to(user).values("pk"),
        household__in=Household.objects.visible_to(user).values("pk"),
    )


def _head(field: str) -> Subquery:
    heads = Member.objects.filter(household=OuterRef("household"), relation=Relation.HEAD, is_active=True)
    return Subquery(heads.order_by("pk").values(field)[:1])


def _beneficiary_rules(user: Any, rows: Sequence[Planned]) -> RowErrors:
    for row in rows:
        if not row.changed:
            continue
        project, household = row.record.project, row.record.household
        if county_code_of(household.village.code) != county_code_of(project.region.code):
            yield row.number, "household_number", messages.BENEFICIARY_OTHER_COUNTY
        elif not household.is_active:
            yield row.number, "household_number", messages.beneficiary_cancelled(masked_text(household.number))


BENEFICIARIES = Record(
    name="beneficiaries",
    label="项目受益农户",
    model=Beneficiary,
    key=("project", "household"),
    columns=(
        text("project_code", "项目编号", export="project__code", required=True, aliases=("项目代码",), code=True),
        text("project_name", "项目名称", export="project__name", help="仅供核对", width=28),
        *household_columns(),
    ),
    references=(
        Reference(
            "project",
            (Lookup("project_code", "code"),),
            scope=projects_in_view,
            checks=(Check("project_name", "name"),),
        ),
        household_reference(scope=lambda user: households_in_scope(user).select_related("village")),
    ),
    permission="funds.change_project",
    undo_permission="funds.change_project",
    visible=beneficiaries_in_view,
    managed=beneficiaries_in_view,
    across=_beneficiary_rules,
    region_code="project__region__code",
    subject=lambda link: f"{link.project.code} {link.household.number}",
    who=("project_code", "household_number"),
    ordering=("project__code", "household__number", "pk"),
    annotations=lambda: {"export_head_name": _head("name"), "export_head_id_number": _head("id_number")},
    notes=(
        "每行填写一个项目的一户受益农户，以项目编号和农户识别；已关联的不重复关联，文件中没有的关联不受影响。",
        "农户按户编号或该户任一在户成员的身份证号查找，只能关联您管辖范围内、项目所在县的在册农户。",
    ),
)
