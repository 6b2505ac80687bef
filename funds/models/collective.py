"""村级集体经济: a village's attributes by year and its quarter-to-date collective income, reviewed."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from funds.models.common import money_field
from households.models import HISTORY_OPTIONS, VersionedModel
from industries.models import YEAR_VALIDATORS
from regions.models import Level, Region, ScopedQuerySet
from workbooks.rules import validate_visible_text


class VillageRowQuerySet(ScopedQuerySet):
    region_field = "village"


class VillageProfile(VersionedModel):
    """A village's attributes in a year: 脱贫村, 党建综合体 (001's ≥ 80,000 target applies to those)."""

    village = models.ForeignKey(Region, verbose_name=_("村"), on_delete=models.PROTECT, related_name="profiles")
    year = models.PositiveSmallIntegerField(_("年度"), validators=YEAR_VALIDATORS)
    was_poverty_village = models.BooleanField(_("脱贫村"), default=False)
    has_party_complex = models.BooleanField(_("党建综合体"), default=False)

    history = HistoricalRecords(**HISTORY_OPTIONS)
    objects = VillageRowQuerySet.as_manager()

    class Meta:
        verbose_name = _("村情况")
        verbose_name_plural = _("村情况")
        ordering = ["village", "-year"]
        constraints = [models.UniqueConstraint(fields=["village", "year"], name="village_profile_unique")]

    def __str__(self) -> str:
        return f"{self.village} {self.year}"

    def clean(self) -> None:
        if self.village_id is not None and self.village.level != Level.VILLAGE:
            raise ValidationError({"village": _("请选择村")})


# The six lines of 村级集体经济 income; the first four are 经营性收入 (DOMAIN §6).
OPERATING_FIELDS = ("business_income", "contracting_income", "investment_income", "asset_income")
OTHER_FIELDS = ("subsidy_income", "other_income")
INCOME_FIELDS = (*OPERATING_FIELDS, *OTHER_FIELDS)


class ReviewStatus(models.TextChoices):
    DRAFT = "draft", _("填报中")
    SUBMITTED = "submitted", _("已提交")
    RETURNED = "returned", _("已退回")
    APPROVED = "approved", _("已审核")


class CollectiveIncome(VersionedModel):
    """A village's collective income of a year up to a quarter's end (quarter-to-date, cumulative)."""

    village = models.ForeignKey(
        Region, verbose_name=_("村"), on_delete=models.PROTECT, related_name="collective_incomes"
    )
    year = models.PositiveSmallIntegerField(_("年度"), validators=YEAR_VALIDATORS)
    quarter = models.PositiveSmallIntegerField(
        _("截至季度"), validators=[MinValueValidator(1), MaxValueValidator(4, message=_("季度应为1至4"))]
    )
    business_income = money_field(_("经营收入"), default=Decimal("0.00"))
    contracting_income = money_field(_("发包及上交收入"), default=Decimal("0.00"))
    investment_income = money_field(_("投资收益"), default=Decimal("0.00"))
    asset_income = money_field(_("资产租赁及项目资产收益"), default=Decimal("0.00"))
    subsidy_income = money_field(_("补助收入"), default=Decimal("0.00"))
    other_income = money_field(_("其他收入"), default=Decimal("0.00"))
    review_status = models.CharField(
        _("审核状态"), max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.DRAFT
    )
    review_note = models.CharField(_("审核意见"), max_length=200, blank=True, validators=[validate_visible_text])

    history = HistoricalRecords(**HISTORY_OPTIONS)
    objects = VillageRowQuerySet.as_manager()

    class Meta:
        verbose_name = _("村集体经济收入")
        verbose_name_plural = _("村集体经济收入")
        ordering = ["village", "-year", "-quarter"]
        # The township's review (approve or return) is a right of its own, apart from entering figures.
        permissions = [("review_collectiveincome", _("审核村集体经济收入"))]
        constraints = [
            models.UniqueConstraint(fields=["village", "year", "quarter"], name="collective_income_unique"),
            *[
                models.CheckConstraint(condition=Q(**{f"{name}__gte": 0}), name=f"collective_{name}_not_negative")
                for name in INCOME_FIELDS
            ],
        ]

    def __str__(self) -> str:
        return f"{self.village} {self.year}Q{self.quarter}"

    @property
    def operating_income(self) -> Decimal:
        """经营性收入: business, contracting, investment and asset income."""
        return sum((getattr(self, name) for name in OPERATING_FIELDS), Decimal("0.00"))

    @property
    def total_income(self) -> Decimal:
        """总收入: all six lines."""
        return sum((getattr(self, name) for name in INCOME_FIELDS), Decimal("0.00"))

    def clean(self) -> None:
        if self.village_id is not None and self.village.level != Level.VILLAGE:
            raise ValidationError({"village": _("村集体经济收入按村填报")})


# --- The rows of the figures' drill-down lists (funds/indicators): the same tables, each row saying
# in words what it counts, since the assessment pages show a later app's records as their text.
