"""项目库: projects, their beneficiary households and 双绑 entities, and their lifecycle.

The rule of 001 §(三) holds at every write, not only at the step into the library: an 产业发展
project in the library always has a 联农带农机制 and at least one linked household.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cooperatives.models import Binding, Entity, EntityKind
from funds.models import IN_LIBRARY, LIFECYCLE, Beneficiary, Funding, Project, ProjectStatus, ProjectStep, ProjectType
from funds.services import messages
from funds.services.common import (
    atomic_write,
    claim_next_version,
    register_row_save,
    require_not_future,
    require_permission,
    require_region_in_scope,
    require_row_in_scope,
)
from households.models import Household
from households.personal_data import masked_text
from regions.models import Region, county_code_of

NO_LINKAGE = messages.NO_LINKAGE
NO_BENEFICIARIES = messages.NO_BENEFICIARIES


def _require_supported_entities(by: Any, entities: Iterable[Entity]) -> list[Entity]:
    """双绑 entities the user may see: an enterprise that binds a cooperative, or a bound cooperative."""
    chosen = list(entities)
    if not chosen:
        return chosen
    ids = [entity.pk for entity in chosen]
    visible = set(Entity.objects.visible_to(by).filter(pk__in=ids).values_list("pk", flat=True))
    bound = set(
        Entity.objects.filter(pk__in=ids)
        .filter(Q(pk__in=Binding.objects.values("enterprise")) | Q(pk__in=Binding.objects.values("cooperative")))
        .values_list("pk", flat=True)
    )
    for entity in chosen:
        if entity.pk not in visible:
            raise ValidationError({"supported_entities": _("所选经营主体不在您的管辖范围内")})
        if entity.kind == EntityKind.FAMILY_FARM or entity.pk not in bound:
            raise ValidationError({"supported_entities": messages.entity_not_bound(entity.name)})
    return chosen


def _require_library_rule(project: Project, *, beneficiaries: int | None = None) -> None:
    """An 产业发展 project in the library keeps its 联农带农机制 and its households."""
    if project.status not in IN_LIBRARY or not project.project_type.is_industry:
        return
    if not project.linkage_mechanism.strip():
        raise ValidationError({"linkage_mechanism": NO_LINKAGE})
    count = project.beneficiaries.count() if beneficiaries is None else beneficiaries
    if count == 0:
        raise ValidationError({"beneficiaries": NO_BENEFICIARIES})


def _lines(text: str) -> str:
    """Several lines as a sheet gives them back (a browser sends \\r\\n), trimmed."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def _check_code(project: Project) -> None:
    if Project.objects.filter(code=project.code).exclude(pk=project.pk).exists():
        raise ValidationError({"code": messages.project_code_taken(project.code)})


def _set_entities(project: Project, entities: list[Entity]) -> None:
    """Set the 双绑 entities without a history row of their own: the project's next save records them."""
    project.skip_history_when_saving = True  # type: ignore[attr-defined]
    try:
        project.supported_entities.set(entities)
    finally:
        del project.skip_history_when_saving  # type: ignore[attr-defined]


@atomic_write
def project_create(
    *,
    by: Any,
    code: str,
    name: str,
    year: int,
    region: Region,
    project_type: ProjectType,
    linkage_mechanism: str = "",
    supported_entities: Iterable[Entity] = (),
    on: date | None = None,
) -> Project:
    """Add a project to the 项目库 as 储备 (the first step of its lifecycle)."""
    require_permission(by, "funds.add_project")
    require_region_in_scope(by, region)
    entities = _require_supported_entities(by, supported_entities)
    day = on or timezone.localdate()
    project = Project(
        code=code.strip(),
        name=name.strip(),
        year=year,
        region=region,
        project_type=project_type,
        linkage_mechanism=_lines(linkage_mechanism),
        status=ProjectStatus.RESERVE,
        status_on=day,
    )
    project.full_clean(validate_unique=False)
    _check_code(project)
    duplicate = ValidationError({"code": messages.project_code_taken(project.code)})
    register_row_save(project, by=by, codes=[region.code], duplicate=duplicate)
    if entities:
        project.supported_entities.set(entities)
    ProjectStep.objects.create(project=project, from_status="", to_status=ProjectStatus.RESERVE, on=day, by=_user(by))
    return project


@atomic_write
def project_update(
    *,
    by: Any,
    project: Project,
    expected_version: int,
    code: str,
    name: str,
    year: int,
    region: Region,
    project_type: ProjectType,
    linkage_mechanism: str,
    supported_entities: Iterable[Entity],
) -> Project:
    """Correct a project's particulars; its lifecycle moves only through advance and send back."""
    require_permission(by, "funds.change_project")
    require_row_in_scope(by, project)
    require_region_in_scope(by, region)
    entities = _require_supported_entities(by, supported_entities)
    claim_next_version(project, expected_version)
    old_region = project.region
    project.code, project.name, project.year = code.strip(), name.strip(), year
    project.region, project.project_type, project.linkage_mechanism = region, project_type, _lines(linkage_mechanism)
    project.full_clean(validate_unique=False)
    _check_code(project)
    _require_library_rule(project)
    if region.pk != old_region.pk:
        for funding in Funding.objects.filter(project=project).select_related("allocation__region"):
            if not funding.allocation.region.contains(region):
                raise ValidationError(
                    {"region": messages.project_region_outside_funding(funding.allocation.region.name)}
                )
    _set_entities(project, entities)
    duplicate = ValidationError({"code": messages.project_code_taken(project.code)})
    register_row_save(project, by=by, codes=[old_region.code, region.code], duplicate=duplicate)
    return project


# Beneficiaries -----------------------------------------------------------------------------------


def _require_household_linkable(by: Any, project: Project, household: Household) -> None:
    if not Household.objects.visible_to(by).filter(pk=household.pk).exists():
        raise PermissionDenied(_("该农户不在您的管辖范围内"))
    if county_code_of(household.village.code) != county_code_of(project.region.code):
        raise ValidationError({"households": messages.BENEFICIARY_OTHER_COUNTY})
    if not household.is_active:
        raise ValidationError({"households": messages.beneficiary_cancelled(masked_text(household.number))})


@atomic_write
def project_beneficiaries_add(
    *, by: Any, project: Project, expected_version: int, households: Sequence[Household]
) -> int:
    """Link households to a project (those already linked are left as they are); how many were added."""
    require_permission(by, "funds.change_project")
    require_row_in_scope(by, project)
    for household in households:
        _require_household_linkable(by, project, household)
    claim_next_version(project, expected_version)
    linked = set(Beneficiary.objects.filter(project=project).values_list("household_id", flat=True))
    new = list({household.pk: household for household in households if household.pk not in linked}.values())
    if not new:
        return 0
    Beneficiary.objects.bulk_create([Beneficiary(project=project, household=household) for household in new])
    # The history says how many, not which: a reader may not see every household linked.
    register_row_save(
        project,
        by=by,
        codes=[project.region.code, *(household.village.code for household in new)],
        reason=_("新增受益农户%(count)d户") % {"count": len(new)},
    )
    return len(new)


@atomic_write
def project_beneficiary_remove(*, by: Any, project: Project, expected_version: int, household: Household) -> None:
    """Unlink a household; an 产业发展 project in the library keeps at least one."""
    require_permission(by, "funds.change_project")
    require_row_in_scope(by, project)
    claim_next_version(project, expected_version)
    link = Beneficiary.objects.filter(project=project, household=household).first()
    if link is None:
        raise ValidationError(_("该户不是本项目的受益农户"))
    remaining = Beneficiary.objects.filter(project=project).count() - 1
    if remaining == 0 and project.status in IN_LIBRARY and project.project_type.is_industry:
        raise ValidationError(_("产业发展项目已入库，至少保留一户受益农户"))
    link.delete()
    register_row_save(
        project,
        by=by,
        codes=[project.region.code, household.village.code],
        reason=_("移除受益农户1户"),
    )


# Lifecycle ---------------------------------------------------------------------------------------


def _user(by: Any) -> Any:
    return by if getattr(by, "pk", None) else None


def _check_step_day(project: Project, on: date) -> None:
    require_not_future(on, "on", _("日期"))
    if project.status_on is not None and on < project.status_on:
        raise ValidationError(
            {"on": _("日期不能早于上一步骤的日期（%(day)s）") % {"day": project.status_on.isoformat()}}
        )


def _move(project: Project, *, by: Any, to: str, on: date, reason: str = "") -> Project:
    step = ProjectStep(project=project, from_status=project.status, to_status=to, on=on, by=_user(by), reason=reason)
    step.full_clean(exclude=["by"])
    project.status, project.status_on = to, on
    label = ProjectStatus(to).label
    register_row_save(
        project,
        by=by,
        codes=[project.region.code],
        reason=(_("退回至%(to)s：%(reason)s") % {"to": label, "reason": reason}) if reason else str(label),
    )
    step.save()
    return project


@atomic_write
def project_advance(*, by: Any, project: Project, expected_version: int, on: date) -> Project:
    """Move a project one step forward (储备 → 入库 → 批准实施 → 完工 → 验收 → 资产移交)."""
    require_permission(by, "funds.change_project")
    require_row_in_scope(by, project)
    claim_next_version(project, expected_version)
    index = LIFECYCLE.index(project.status)
    if index + 1 >= len(LIFECYCLE):
        raise ValidationError(_("项目已资产移交，流程已结束"))
    _check_step_day(project, on)
    target = LIFECYCLE[index + 1]
    if target == ProjectStatus.LIBRARY and project.project_type.is_industry:
        if not project.linkage_mechanism.strip():
            raise ValidationError(NO_LINKAGE)
        if not Beneficiary.objects.filter(project=project).exists():
            raise ValidationError(NO_BENEFICIARIES)
    return _move(project, by=by, to=target, on=on)


@atomic_write
def project_send_back(*, by: Any, project: Project, expected_version: int, on: date, reason: str) -> Project:
    """Send a project back one step, saying why."""
    require_permission(by, "funds.change_project")
    require_row_in_scope(by, project)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("退回须填写原因")})
    claim_next_version(project, expected_version)
    index = LIFECYCLE.index(project.status)
    if index == 0:
        raise ValidationError(_("储备项目不能再退回"))
    _check_step_day(project, on)
    target = LIFECYCLE[index - 1]
    if target == ProjectStatus.RESERVE and Funding.objects.filter(project=project).exists():
        raise ValidationError(_("该项目已安排资金，不能退回储备；请先撤销资金安排"))
    return _move(project, by=by, to=target, on=on, reason=reason)
