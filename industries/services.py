"""Writes: every way the industry catalogue, designations, planned and reported scale and 产业到户 change.

Each write checks the role's permission and the user's subtree, validates with the model's rules
(full_clean), refuses a stale page through the row's version, records history under `by`, and tells
the assessment engine which part of the county changed (`data_changed`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from households.models import Household
from households.services import (
    claim_next_version,
    register_row_delete,
    register_row_save,
    require_permission,
    require_region_in_scope,
    require_row_in_scope,
)
from industries.models import (
    Designation,
    Industry,
    IndustryCategory,
    Participation,
    ScalePlan,
    ScaleReport,
    ScaleUnit,
)
from regions.models import Region


def _require_active_industry(industry: Industry, *, stored: Model | None = None) -> None:
    """A retired (停用) industry is not chosen again; rows that already use it may still be edited."""
    if not industry.is_active and getattr(stored, "industry_id", None) != industry.pk:
        raise ValidationError({"industry": _("“%(name)s”已停用，请选择在用的产业") % {"name": industry.name}})


def _require_past_or_current_year(year: int, what: str) -> None:
    if year > timezone.localdate().year:
        raise ValidationError({"year": _("%(year)d年尚未到来，不能填报%(what)s") % {"year": year, "what": what}})


def _validate_fields(instance: Model) -> None:
    """The model's field and row rules; its unique keys are checked by each service in the domain's words."""
    instance.full_clean(validate_unique=False, validate_constraints=False)


# 特色产业目录 (the county's catalogue) ------------------------------------------------------------


def _duplicate_industry(county: Region, name: str) -> ValidationError:
    return ValidationError({"name": _("%(county)s产业目录中已有“%(name)s”") % {"county": county.name, "name": name}})


@transaction.atomic
def industry_create(
    *,
    by: Any,
    county: Region,
    name: str,
    category: IndustryCategory,
    unit: ScaleUnit,
    note: str = "",
    is_active: bool = True,
) -> Industry:
    """Add an industry to a county's catalogue (the county's administrators keep it)."""
    require_permission(by, "industries.add_industry")
    require_region_in_scope(by, county)
    industry = Industry(county=county, name=name.strip(), category=category, unit=unit, note=note, is_active=is_active)
    if Industry.objects.filter(county=county, name=industry.name).exists():
        raise _duplicate_industry(county, industry.name)
    register_row_save(industry, by=by, codes=[county.code], duplicate=_duplicate_industry(county, industry.name))
    return industry


@transaction.atomic
def industry_update(
    *,
    by: Any,
    industry: Industry,
    expected_version: int,
    name: str,
    category: IndustryCategory,
    unit: ScaleUnit,
    note: str,
    is_active: bool,
) -> Industry:
    """Rename, recategorise, retire (停用) or reinstate a catalogue industry."""
    require_permission(by, "industries.change_industry")
    require_row_in_scope(by, industry)
    require_region_in_scope(by, industry.county)
    name = name.strip()
    if Industry.objects.filter(county=industry.county, name=name).exclude(pk=industry.pk).exists():
        raise _duplicate_industry(industry.county, name)
    claim_next_version(industry, expected_version)
    industry.name, industry.category, industry.unit, industry.note, industry.is_active = (
        name,
        category,
        unit,
        note,
        is_active,
    )
    register_row_save(
        industry, by=by, codes=[industry.county.code], duplicate=_duplicate_industry(industry.county, name)
    )
    return industry


# 主导产业 (designations) ------------------------------------------------------------------------


def _check_designation(designation: Designation) -> None:
    """The two keys, in the domain's words, before the database's constraints would refuse them."""
    others = Designation.objects.filter(region=designation.region, year=designation.year).exclude(pk=designation.pk)
    params = {"region": designation.region.name, "year": designation.year, "name": designation.industry.name}
    if others.filter(industry=designation.industry).exists():
        raise ValidationError({"industry": _("“%(name)s”已是%(region)s%(year)d年的主导产业") % params})
    if designation.is_signature:
        signature = others.filter(is_signature=True).select_related("industry", "region").first()
        if signature is not None:
            raise ValidationError(
                {
                    "is_signature": _("%(region)s%(year)d年已有%(label)s“%(other)s”，每个区划每年只能有一个")
                    % {**params, "label": signature.signature_label, "other": signature.industry.name}
                }
            )


def _duplicate_designation(designation: Designation) -> ValidationError:
    message = _("%(region)s%(year)d年的主导产业刚被他人修改，请刷新后重试")
    return ValidationError({"industry": message % _key(designation.region, designation)})


def _key(region: Region, row: Any) -> dict[str, Any]:
    return {"region": region.name, "year": row.year}


@transaction.atomic
def designation_create(
    *, by: Any, region: Region, year: int, industry: Industry, is_signature: bool = False
) -> Designation:
    """Name a lead industry (主导产业) of a county, township or village for a year."""
    require_permission(by, "industries.add_designation")
    require_region_in_scope(by, region)
    _require_active_industry(industry)
    designation = Designation(region=region, year=year, industry=industry, is_signature=is_signature)
    _validate_fields(designation)
    _check_designation(designation)
    register_row_save(designation, by=by, codes=[region.code], duplicate=_duplicate_designation(designation))
    return designation


@transaction.atomic
def designation_update(
    *, by: Any, designation: Designation, expected_version: int, year: int, industry: Industry, is_signature: bool
) -> Designation:
    """Change a designation's year or industry, or make it (or stop it being) the signature one."""
    require_permission(by, "industries.change_designation")
    require_row_in_scope(by, designation)
    _require_active_industry(industry, stored=designation)
    claim_next_version(designation, expected_version)
    designation.year, designation.industry, designation.is_signature = year, industry, is_signature
    _validate_fields(designation)
    _check_designation(designation)
    register_row_save(
        designation, by=by, codes=[designation.region.code], duplicate=_duplicate_designation(designation)
    )
    return designation


@transaction.atomic
def designation_delete(*, by: Any, designation: Designation, expected_version: int) -> None:
    require_permission(by, "industries.delete_designation")
    require_row_in_scope(by, designation)
    register_row_delete(designation, by=by, codes=[designation.region.code], expected_version=expected_version)


# 计划规模 (planned scale) -----------------------------------------------------------------------


def _duplicate_plan(plan: ScalePlan) -> ValidationError:
    return ValidationError(
        {
            "industry": _("%(region)s%(year)d年“%(name)s”的计划规模已填写，请修改原记录")
            % {**_key(plan.region, plan), "name": plan.industry.name}
        }
    )


@transaction.atomic
def scale_plan_create(
    *, by: Any, region: Region, year: int, industry: Industry, scale: Decimal, source_document: str = ""
) -> ScalePlan:
    """Plan an industry's scale in a county, township or village for a year (烤烟 ≥ 2,700 亩)."""
    require_permission(by, "industries.add_scaleplan")
    require_region_in_scope(by, region)
    _require_active_industry(industry)
    plan = ScalePlan(region=region, year=year, industry=industry, scale=scale, source_document=source_document)
    _validate_fields(plan)
    if ScalePlan.objects.filter(region=region, year=year, industry=industry).exists():
        raise _duplicate_plan(plan)
    register_row_save(plan, by=by, codes=[region.code], duplicate=_duplicate_plan(plan))
    return plan


@transaction.atomic
def scale_plan_update(
    *,
    by: Any,
    plan: ScalePlan,
    expected_version: int,
    year: int,
    industry: Industry,
    scale: Decimal,
    source_document: str,
) -> ScalePlan:
    require_permission(by, "industries.change_scaleplan")
    require_row_in_scope(by, plan)
    _require_active_industry(industry, stored=plan)
    claim_next_version(plan, expected_version)
    plan.year, plan.industry, plan.scale, plan.source_document = year, industry, scale, source_document
    _validate_fields(plan)
    if ScalePlan.objects.filter(region=plan.region, year=year, industry=industry).exclude(pk=plan.pk).exists():
        raise _duplicate_plan(plan)
    register_row_save(plan, by=by, codes=[plan.region.code], duplicate=_duplicate_plan(plan))
    return plan


@transaction.atomic
def scale_plan_delete(*, by: Any, plan: ScalePlan, expected_version: int) -> None:
    require_permission(by, "industries.delete_scaleplan")
    require_row_in_scope(by, plan)
    register_row_delete(plan, by=by, codes=[plan.region.code], expected_version=expected_version)


# 实际规模 (the scale a village reports) ---------------------------------------------------------


def _duplicate_report(report: ScaleReport) -> ValidationError:
    return ValidationError(
        {
            "industry": _("%(region)s%(year)d年“%(name)s”的实际规模已填报，请修改原记录")
            % {**_key(report.village, report), "name": report.industry.name}
        }
    )


@transaction.atomic
def scale_report_create(*, by: Any, village: Region, year: int, industry: Industry, scale: Decimal) -> ScaleReport:
    """Report the scale a village reached in an industry in a year (only villages report)."""
    require_permission(by, "industries.add_scalereport")
    require_region_in_scope(by, village)
    _require_active_industry(industry)
    _require_past_or_current_year(year, _("实际规模"))
    report = ScaleReport(village=village, year=year, industry=industry, scale=scale)
    _validate_fields(report)
    if ScaleReport.objects.filter(village=village, year=year, industry=industry).exists():
        raise _duplicate_report(report)
    register_row_save(report, by=by, codes=[village.code], duplicate=_duplicate_report(report))
    return report


@transaction.atomic
def scale_report_update(
    *, by: Any, report: ScaleReport, expected_version: int, year: int, industry: Industry, scale: Decimal
) -> ScaleReport:
    require_permission(by, "industries.change_scalereport")
    require_row_in_scope(by, report)
    _require_active_industry(industry, stored=report)
    _require_past_or_current_year(year, _("实际规模"))
    claim_next_version(report, expected_version)
    report.year, report.industry, report.scale = year, industry, scale
    _validate_fields(report)
    if ScaleReport.objects.filter(village=report.village, year=year, industry=industry).exclude(pk=report.pk).exists():
        raise _duplicate_report(report)
    register_row_save(report, by=by, codes=[report.village.code], duplicate=_duplicate_report(report))
    return report


@transaction.atomic
def scale_report_delete(*, by: Any, report: ScaleReport, expected_version: int) -> None:
    require_permission(by, "industries.delete_scalereport")
    require_row_in_scope(by, report)
    register_row_delete(report, by=by, codes=[report.village.code], expected_version=expected_version)


# 产业到户 (a household's participation) -----------------------------------------------------------


def _require_household_writable(by: Any, household: Household) -> None:
    if not Household.objects.visible_to(by).filter(pk=household.pk).exists():
        raise PermissionDenied(_("该农户不在您的管辖范围内"))
    if not household.is_active:
        raise ValidationError(_("已注销农户不能登记或修改产业到户"))


def _duplicate_participation(participation: Participation) -> ValidationError:
    return ValidationError(
        {
            "industry": _("该户%(year)d年已登记“%(name)s”，请修改原记录")
            % {"year": participation.year, "name": participation.industry.name}
        }
    )


@transaction.atomic
def participation_create(
    *, by: Any, household: Household, year: int, industry: Industry, scale: Decimal, note: str = ""
) -> Participation:
    """Record a household's part in an industry in a year (3 亩 核桃, 12 只 黑山羊)."""
    require_permission(by, "industries.add_participation")
    _require_household_writable(by, household)
    _require_active_industry(industry)
    _require_past_or_current_year(year, _("产业到户"))
    participation = Participation(household=household, year=year, industry=industry, scale=scale, note=note)
    _validate_fields(participation)
    if Participation.objects.filter(household=household, year=year, industry=industry).exists():
        raise _duplicate_participation(participation)
    register_row_save(
        participation, by=by, codes=[household.village.code], duplicate=_duplicate_participation(participation)
    )
    return participation


@transaction.atomic
def participation_update(
    *,
    by: Any,
    participation: Participation,
    expected_version: int,
    year: int,
    industry: Industry,
    scale: Decimal,
    note: str,
) -> Participation:
    require_permission(by, "industries.change_participation")
    require_row_in_scope(by, participation)
    _require_household_writable(by, participation.household)
    _require_active_industry(industry, stored=participation)
    _require_past_or_current_year(year, _("产业到户"))
    claim_next_version(participation, expected_version)
    participation.year, participation.industry, participation.scale, participation.note = year, industry, scale, note
    _validate_fields(participation)
    others = Participation.objects.filter(household=participation.household, year=year, industry=industry)
    if others.exclude(pk=participation.pk).exists():
        raise _duplicate_participation(participation)
    register_row_save(
        participation,
        by=by,
        codes=[participation.household.village.code],
        duplicate=_duplicate_participation(participation),
    )
    return participation


@transaction.atomic
def participation_delete(*, by: Any, participation: Participation, expected_version: int) -> None:
    require_permission(by, "industries.delete_participation")
    require_row_in_scope(by, participation)
    _require_household_writable(by, participation.household)
    register_row_delete(
        participation,
        by=by,
        codes=[participation.household.village.code],
        expected_version=expected_version,
    )
