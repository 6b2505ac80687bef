"""项目库: project types, projects with their lifecycle, the households they benefit and every step."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from cooperatives.models import Entity
from funds.models.common import RegionRowQuerySet
from households.models import HISTORY_OPTIONS, Household, ReferenceItem, VersionedModel
from industries.models import YEAR_VALIDATORS
from regions.models import Level, Region
from workbooks.rules import validate_visible_text


class ProjectType(ReferenceItem):
    """项目类型 (产业发展 and its sub-types, 就业项目, 乡村建设…): a list provinces may extend."""

    parent = models.ForeignKey(
        "self", verbose_name=_("上级类型"), null=True, blank=True, on_delete=models.PROTECT, related_name="subtypes"
    )
    is_industry = models.BooleanField(_("计入产业发展资金"), default=False)

    class Meta(ReferenceItem.Meta):
        verbose_name = _("项目类型")
        verbose_name_plural = _("项目类型")


class ProjectStatus(models.TextChoices):
    RESERVE = "reserve", _("储备")
    LIBRARY = "library", _("入库")
    APPROVED = "approved", _("批准实施")
    COMPLETED = "completed", _("完工")
    ACCEPTED = "accepted", _("验收")
    HANDED_OVER = "handed_over", _("资产移交")


# The lifecycle in order: a project moves one step forward, or is sent back with a reason.
LIFECYCLE = list(ProjectStatus.values)
# Statuses in which a project is in the library (and may be funded).
IN_LIBRARY = LIFECYCLE[1:]


class Project(VersionedModel):
    """A project of the 项目库."""

    code = models.CharField(_("项目编号"), max_length=40, unique=True, validators=[validate_visible_text])
    name = models.CharField(_("项目名称"), max_length=200, validators=[validate_visible_text])
    year = models.PositiveSmallIntegerField(_("年度"), validators=YEAR_VALIDATORS)
    region = models.ForeignKey(Region, verbose_name=_("实施区划"), on_delete=models.PROTECT, related_name="projects")
    project_type = models.ForeignKey(ProjectType, verbose_name=_("项目类型"), on_delete=models.PROTECT)
    linkage_mechanism = models.TextField(
        _("联农带农机制"), blank=True, validators=[validate_visible_text], help_text=_("写明农户如何受益")
    )
    status = models.CharField(_("状态"), max_length=16, choices=ProjectStatus.choices, default=ProjectStatus.RESERVE)
    status_on = models.DateField(_("状态日期"), null=True, blank=True)
    beneficiaries: models.ManyToManyField[Household, Beneficiary] = models.ManyToManyField(
        Household, verbose_name=_("受益农户"), blank=True, related_name="projects", through="Beneficiary"
    )
    supported_entities = models.ManyToManyField(
        Entity, verbose_name=_("扶持的经营主体（双绑）"), blank=True, related_name="funded_projects"
    )

    history = HistoricalRecords(**HISTORY_OPTIONS, m2m_fields=[supported_entities])
    objects = RegionRowQuerySet.as_manager()

    class Meta:
        verbose_name = _("项目")
        verbose_name_plural = _("项目库")
        ordering = ["-year", "code"]
        indexes = [models.Index(fields=["year", "region"], name="project_year_region")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def in_library(self) -> bool:
        return self.status in IN_LIBRARY

    def clean(self) -> None:
        if self.region_id is not None and not Level.COUNTY <= self.region.level <= Level.VILLAGE:
            raise ValidationError({"region": _("项目实施区划应为县、乡镇或村")})


class Beneficiary(models.Model):
    """A household a project benefits (a linked record, never a typed number)."""

    project = models.ForeignKey(Project, verbose_name=_("项目"), on_delete=models.CASCADE)
    household = models.ForeignKey(Household, verbose_name=_("农户"), on_delete=models.PROTECT)

    # The links an Excel import adds are written, and undone, by its batch through this history.
    history = HistoricalRecords(**HISTORY_OPTIONS)

    class Meta:
        verbose_name = _("受益农户")
        verbose_name_plural = _("受益农户")
        constraints = [models.UniqueConstraint(fields=["project", "household"], name="beneficiary_unique")]
        indexes = [models.Index(fields=["household"], name="beneficiary_household")]

    def __str__(self) -> str:
        return f"{self.project_id} {self.household_id}"


class ProjectStep(models.Model):
    """One move of a project in its lifecycle: forward, or sent back with a reason."""

    project = models.ForeignKey(Project, verbose_name=_("项目"), on_delete=models.CASCADE, related_name="steps")
    from_status = models.CharField(_("原状态"), max_length=16, choices=ProjectStatus.choices, blank=True)
    to_status = models.CharField(_("新状态"), max_length=16, choices=ProjectStatus.choices)
    on = models.DateField(_("日期"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        on_delete=models.SET_NULL,
        db_constraint=False,
        related_name="+",
    )
    reason = models.CharField(_("原因"), max_length=200, blank=True, validators=[validate_visible_text])
    at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("项目流程")
        verbose_name_plural = _("项目流程")
        ordering = ["project", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.project_id} {self.from_status}→{self.to_status}"
