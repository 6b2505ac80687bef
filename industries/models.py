"""特色产业: a county's catalogue, its lead industries by region and year, their scale, and 产业到户.

A county keeps one catalogue; its townships and villages designate lead industries from it (a
village may have several; one is its 一村一品), plan a scale per year, and villages report the
scale they reached. A household's participation in an industry in a year is 产业到户.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from households.models import HISTORY_OPTIONS, Household, ReferenceItem, VersionedModel
from regions.models import Level, Region, ScopedQuerySet, county_code_of
from workbooks.rules import validate_visible_text

YEAR_VALIDATORS = [
    MinValueValidator(2013, message=_("年度不能早于2013年")),
    MaxValueValidator(2100, message=_("年度不正确")),
]
SCALE_VALIDATORS = [MinValueValidator(Decimal("0"), message=_("规模不能为负数"))]


def year_field() -> models.PositiveSmallIntegerField[int, int]:
    return models.PositiveSmallIntegerField(_("年度"), validators=YEAR_VALIDATORS)


def scale_field(label: Any) -> models.DecimalField[Decimal, Decimal]:
    """A scale in the industry's unit (亩, 头, 只…), two decimals."""
    return models.DecimalField(label, max_digits=14, decimal_places=2, validators=SCALE_VALIDATORS)


class IndustryCategory(ReferenceItem):
    """产业类别 (种植, 养殖, 林果, 加工, 乡村旅游, 其他): a list provinces may extend."""

    class Meta(ReferenceItem.Meta):
        verbose_name = _("产业类别")
        verbose_name_plural = _("产业类别")


class ScaleUnit(ReferenceItem):
    """计量单位 (亩, 头, 只, 羽, 箱, 吨, 户…)."""

    class Meta(ReferenceItem.Meta):
        verbose_name = _("计量单位")
        verbose_name_plural = _("计量单位")


class CountyCatalogueQuerySet(ScopedQuerySet):
    """Rows a county keeps for all its regions: seen by everyone in the county and by those above it."""

    region_field = "county"

    def visible_to(self, user: Any) -> Any:
        prefix = user.scope_prefix() if user.is_authenticated else None
        if prefix is None:
            return self.none()
        if prefix == "":
            return self.all()
        if len(prefix) > 6:  # a township or village user reads their county's catalogue
            return self.filter(county__code=county_code_of(prefix))
        return self.filter(county__code__startswith=prefix)


class Industry(VersionedModel):
    """A 特色产业 of a county's catalogue: 烤烟, 核桃, 黑山羊…"""

    county = models.ForeignKey(Region, verbose_name=_("所属县"), on_delete=models.PROTECT, related_name="industries")
    name = models.CharField(_("产业名称"), max_length=32, validators=[validate_visible_text])
    category = models.ForeignKey(IndustryCategory, verbose_name=_("产业类别"), on_delete=models.PROTECT)
    unit = models.ForeignKey(ScaleUnit, verbose_name=_("计量单位"), on_delete=models.PROTECT)
    note = models.CharField(_("说明"), max_length=200, blank=True, validators=[validate_visible_text])
    is_active = models.BooleanField(_("在用"), default=True)

    history = HistoricalRecords(**HISTORY_OPTIONS)
    objects = CountyCatalogueQuerySet.as_manager()

    class Meta:
        verbose_name = _("特色产业")
        verbose_name_plural = _("特色产业")
        ordering = ["county", "name"]
        constraints = [models.UniqueConstraint(fields=["county", "name"], name="industry_unique_name_per_county")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.county_id is not None and self.county.level != Level.COUNTY:
            raise ValidationError({"county": _("产业目录按县管理，请选择县级区划")})


def validate_industry_of_region(industry: Industry, region: Region, field: str = "industry") -> None:
    """An industry used in a region must come from that region's county catalogue."""
    if region.level >= Level.COUNTY and industry.county.code != county_code_of(region.code):
        raise ValidationError({field: _("“%(name)s”不在本县产业目录中") % {"name": industry.name}})


class RegionRowQuerySet(ScopedQuerySet):
    region_field = "region"


class Designation(VersionedModel):
    """A region's 主导产业 in a year; the signature one is its 一县一业 / 一乡一特 / 一村一品."""

    region = models.ForeignKey(
        Region, verbose_name=_("区划"), on_delete=models.PROTECT, related_name="industry_designations"
    )
    year = year_field()
    industry = models.ForeignKey(
        Industry, verbose_name=_("产业"), on_delete=models.PROTECT, related_name="designations"
    )
    is_signature = models.BooleanField(
        _("一县一业/一乡一特/一村一品"), default=False, help_text=_("每个区划每年只能有一个")
    )

    history = HistoricalRecords(**HISTORY_OPTIONS)
    objects = RegionRowQuerySet.as_manager()

    class Meta:
        verbose_name = _("主导产业")
        verbose_name_plural = _("主导产业")
        ordering = ["region", "-year", "-is_signature", "industry"]
        constraints = [
            models.UniqueConstraint(fields=["region", "year", "industry"], name="designation_unique_industry"),
            models.UniqueConstraint(
                fields=["region", "year"], condition=Q(is_signature=True), name="designation_one_signature"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.region} {self.year} {self.industry}"

    @property
    def signature_label(self) -> str:
        """一县一业, 一乡一特 or 一村一品, by the region's level."""
        labels: dict[int, str] = {Level.COUNTY: "一县一业", Level.TOWNSHIP: "一乡一特", Level.VILLAGE: "一村一品"}
        return labels.get(self.region.level, "主导产业")

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.region_id is not None and not Level.COUNTY <= self.region.level <= Level.VILLAGE:
            errors["region"] = _("主导产业按县、乡镇或村确定")
        elif self.region_id is not None and self.industry_id is not None:
            try:
                validate_industry_of_region(self.industry, self.region)
            except ValidationError as error:
                errors.update(error.message_dict)
        if errors:
            raise ValidationError(errors)


class ScalePlan(VersionedModel):
    """The planned scale of an industry in a region and year (烤烟 ≥ 2,700 亩)."""

    region = models.ForeignKey(Region, verbose_name=_("区划"), on_delete=models.PROTECT, related_name="scale_plans")
    year = year_field()
    industry = models.ForeignKey(Industry, verbose_name=_("产业"), on_delete=models.PROTECT, related_name="plans")
    scale = scale_field(_("计划规模"))
    source_document = models.CharField(_("依据文件"), max_length=200, blank=True, validators=[validate_visible_text])

    history = HistoricalRecords(**HISTORY_OPTIONS)
    objects = RegionRowQuerySet.as_manager()

    class Meta:
        verbose_name = _("计划规模")
        verbose_name_plural = _("计划规模")
        ordering = ["region", "-year", "industry"]
        constraints = [
            models.UniqueConstraint(fields=["region", "year", "industry"], name="scale_plan_unique"),
            models.CheckConstraint(condition=Q(scale__gte=0), name="scale_plan_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.region} {self.year} {self.industry} {self.scale}"

    def clean(self) -> None:
        if self.region_id is None or self.industry_id is None:
            return
        if not Level.COUNTY <= self.region.level <= Level.VILLAGE:
            raise ValidationError({"region": _("计划规模按县、乡镇或村填写")})
        validate_industry_of_region(self.industry, self.region)


class VillageRowQuerySet(ScopedQuerySet):
    region_field = "village"


class ScaleReport(VersionedModel):
    """The scale a village reached in an industry in a year, as the village reports it."""

    village = models.ForeignKey(Region, verbose_name=_("村"), on_delete=models.PROTECT, related_name="scale_reports")
    year = year_field()
    industry = models.ForeignKey(Industry, verbose_name=_("产业"), on_delete=models.PROTECT, related_name="reports")
    scale = scale_field(_("实际规模"))

    history = HistoricalRecords(**HISTORY_OPTIONS)
    objects = VillageRowQuerySet.as_manager()

    class Meta:
        verbose_name = _("实际规模")
        verbose_name_plural = _("实际规模")
        ordering = ["village", "-year", "industry"]
        constraints = [
            models.UniqueConstraint(fields=["village", "year", "industry"], name="scale_report_unique"),
            models.CheckConstraint(condition=Q(scale__gte=0), name="scale_report_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.village} {self.year} {self.industry} {self.scale}"

    def clean(self) -> None:
        if self.village_id is None or self.industry_id is None:
            return
        if self.village.level != Level.VILLAGE:
            raise ValidationError({"village": _("实际规模由村填报")})
        validate_industry_of_region(self.industry, self.village)


class ParticipationQuerySet(ScopedQuerySet):
    region_field = "household__village"


class Participation(VersionedModel):
    """产业到户: a household's part in an industry in a year (3 亩 核桃, 12 只 黑山羊)."""

    household = models.ForeignKey(
        Household, verbose_name=_("农户"), on_delete=models.PROTECT, related_name="industry_participations"
    )
    year = year_field()
    industry = models.ForeignKey(
        Industry, verbose_name=_("产业"), on_delete=models.PROTECT, related_name="participations"
    )
    scale = scale_field(_("规模"))
    note = models.CharField(_("备注"), max_length=200, blank=True, validators=[validate_visible_text])

    history = HistoricalRecords(**HISTORY_OPTIONS)
    objects = ParticipationQuerySet.as_manager()

    class Meta:
        verbose_name = _("产业到户")
        verbose_name_plural = _("产业到户")
        ordering = ["household", "-year", "industry"]
        constraints = [
            models.UniqueConstraint(fields=["household", "year", "industry"], name="participation_unique"),
            models.CheckConstraint(condition=Q(scale__gte=0), name="participation_not_negative"),
        ]
        indexes = [models.Index(fields=["year", "household"], name="participation_year_household")]

    def __str__(self) -> str:
        # Without the household: a 户编号 may carry a 身份证号, and the admin prints this in titles.
        return f"{self.year}年 {self.industry} {self.scale}"

    def clean(self) -> None:
        if self.household_id is not None and self.industry_id is not None:
            validate_industry_of_region(self.industry, self.household.village)
