"""衔接资金 and village collective income: allocations, the project library, payments, assets.

Money flows allocation → funding line of a project → payment. A county may split an allocation
to its townships (a child allocation). Only library projects (入库 and later) are funded; an
产业发展 project needs a 联农带农机制 and linked households to enter the library (001 §(三)).
Per 行政村 and year the collective income is reported quarter-to-date (CollectiveIncome), beside
the village's attributes of that year (脱贫村, 党建综合体).
"""

from __future__ import annotations

from collections.abc import Collection
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from cooperatives.models import Entity
from households.models import HISTORY_OPTIONS, Household, ReferenceItem, VersionedModel
from industries.models import YEAR_VALIDATORS
from regions.models import Level, Region, ScopedQuerySet
from workbooks.rules import validate_visible_text

POSITIVE = [MinValueValidator(Decimal("0.01"), message=_("金额必须大于0"))]
NON_NEGATIVE = [MinValueValidator(Decimal("0"), message=_("金额不能为负数"))]


def money_field(label: Any, **options: Any) -> models.DecimalField[Decimal, Decimal]:
    """Yuan with two decimals (万元 in a sheet is converted exactly at its boundary)."""
    options.setdefault("validators", NON_NEGATIVE)
    return models.DecimalField(label, max_digits=14, decimal_places=2, **options)


class FundLevel(models.TextChoices):
    CENTRAL = "central", _("中央")
    PROVINCIAL = "provincial", _("省级")
    PREFECTURAL = "prefectural", _("市级")
    COUNTY = "county", _("县级")


class RegionRowQuerySet(ScopedQuerySet):
    region_field = "region"


class Allocation(VersionedModel):
    """资金下达: money of one budget level for one year, received by a county (or split to a township)."""

    region = models.ForeignKey(Region, verbose_name=_("下达区划"), on_delete=models.PROTECT, related_name="allocations")
    year = models.PositiveSmallIntegerField(_("年度"), validators=YEAR_VALIDATORS)
    level = models.CharField(_("资金级次"), max_length=16, choices=FundLevel.choices)
    document_number = models.CharField(_("文号"), max_length=100, validators=[validate_visible_text])
    issued_on = models.DateField(_("下达日期"))
    amount = money_field(_("金额（元）"), validators=POSITIVE)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("由县级资金分配"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="splits",
    )
    note = models.CharField(_("备注"), max_length=200, blank=True, validators=[validate_visible_text])

    history = HistoricalRecords(**HISTORY_OPTIONS)
    objects = RegionRowQuerySet.as_manager()

    class Meta:
        verbose_name = _("资金下达")
        verbose_name_plural = _("资金下达")
        ordering = ["-year", "level", "issued_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "year", "level", "document_number"], name="allocation_unique_document"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="allocation_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.get_level_display()} {self.document_number}"

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.region_id is not None:
            if self.parent_id is None and self.region.level != Level.COUNTY:
                errors["region"] = _("资金下达到县；分配到乡镇的资金须选择所分配的县级资金")
            if self.parent_id is not None:
                parent = self.parent
                assert parent is not None
                if self.region.level != Level.TOWNSHIP or self.region.parent_id != parent.region_id:
                    errors["region"] = _("县级资金只能分配到本县的乡镇")
                if (self.year, self.level) != (parent.year, parent.level):
                    errors["parent"] = _("分配的资金须与所分配资金的年度、级次一致")
        if self.issued_on is not None and self.year and self.issued_on.year not in (self.year - 1, self.year):
            errors["issued_on"] = _("下达日期应在资金年度或上一年度内")
        if errors:
            raise ValidationError(errors)


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


class FundingQuerySet(ScopedQuerySet):
    region_field = "project__region"


class Funding(VersionedModel):
    """A funding line: how much of one allocation pays for one project."""

    project = models.ForeignKey(Project, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="fundings")
    allocation = models.ForeignKey(
        Allocation, verbose_name=_("资金来源"), on_delete=models.PROTECT, related_name="fundings"
    )
    amount = money_field(_("安排金额（元）"), validators=POSITIVE)

    history = HistoricalRecords(**HISTORY_OPTIONS)

    objects = FundingQuerySet.as_manager()

    class Meta:
        verbose_name = _("资金安排")
        verbose_name_plural = _("资金安排")
        ordering = ["project", "allocation"]
        constraints = [
            models.UniqueConstraint(fields=["project", "allocation"], name="funding_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="funding_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.project} ← {self.allocation}: {self.amount}"


class PaymentQuerySet(ScopedQuerySet):
    region_field = "funding__project__region"


PAYMENT_VOUCHER_TAKEN = _(
    "该项资金安排在这一天已有凭证号相同的支付；同一天的多笔支付请填写不同的凭证号（未填凭证号的只能有一笔）"
)


class Payment(VersionedModel):
    """支付: money paid out on a funding line; one per line, day and 凭证号 (the Excel register's key)."""

    funding = models.ForeignKey(Funding, verbose_name=_("资金安排"), on_delete=models.PROTECT, related_name="payments")
    paid_on = models.DateField(_("支付日期"))
    amount = money_field(_("支付金额（元）"), validators=POSITIVE)
    voucher = models.CharField(
        _("凭证号"),
        max_length=64,
        blank=True,
        validators=[validate_visible_text],
        help_text=_("同一资金安排同一天的多笔支付以凭证号区分"),
    )

    history = HistoricalRecords(**HISTORY_OPTIONS)

    objects = PaymentQuerySet.as_manager()

    class Meta:
        verbose_name = _("资金支付")
        verbose_name_plural = _("资金支付")
        ordering = ["funding", "paid_on", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.UniqueConstraint(
                fields=["funding", "paid_on", "voucher"],
                name="payment_unique_voucher",
                violation_error_code="payment_voucher_taken",
                violation_error_message=PAYMENT_VOUCHER_TAKEN,
            ),
        ]
        indexes = [models.Index(fields=["paid_on"], name="payment_paid_on")]

    def __str__(self) -> str:
        return f"{self.funding_id} {self.paid_on} {self.amount}"

    def validate_constraints(self, exclude: Collection[str] | None = None) -> None:
        """As Django's, but a payment whose key is taken is an error of its 凭证号: the part of the key a
        user changes to tell two payments of a day apart (the form's field, the import's column)."""
        try:
            super().validate_constraints(exclude=exclude)
        except ValidationError as error:
            errors = error.update_error_dict({})
            general = errors.pop(NON_FIELD_ERRORS, [])
            for item in general:
                taken = getattr(item, "code", None) == "payment_voucher_taken"
                errors.setdefault("voucher" if taken else NON_FIELD_ERRORS, []).append(item)
            raise ValidationError(errors) from error


class AssetKind(models.TextChoices):
    OPERATING = "operating", _("经营性")
    PUBLIC = "public", _("公益性")
    HOUSEHOLD = "household", _("到户类")


class AssetQuerySet(ScopedQuerySet):
    region_field = "project__region"


class Asset(VersionedModel):
    """项目资产: what a project formed, who owns it and who looks after it."""

    project = models.ForeignKey(Project, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="assets")
    kind = models.CharField(_("资产类别"), max_length=16, choices=AssetKind.choices)
    name = models.CharField(_("资产名称"), max_length=200, validators=[validate_visible_text])
    value = money_field(_("资产价值（元）"))
    owner_village = models.ForeignKey(
        Region, verbose_name=_("所有权人（村集体）"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    owner_household = models.ForeignKey(
        Household, verbose_name=_("所有权人（农户）"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    custodian = models.CharField(_("管护主体"), max_length=100, blank=True, validators=[validate_visible_text])

    history = HistoricalRecords(**HISTORY_OPTIONS)

    objects = AssetQuerySet.as_manager()

    class Meta:
        verbose_name = _("项目资产")
        verbose_name_plural = _("项目资产")
        ordering = ["project", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(owner_village__isnull=True) | Q(owner_household__isnull=True), name="asset_one_owner"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.owner_village_id is not None and self.owner_household_id is not None:
            errors["owner_household"] = _("所有权人只能是村集体或农户之一")
        if self.kind == AssetKind.HOUSEHOLD and self.owner_village_id is not None:
            errors["owner_village"] = _("到户类资产的所有权人应为农户")
        if self.kind != AssetKind.HOUSEHOLD and self.owner_household_id is not None:
            errors["owner_household"] = _("经营性和公益性资产的所有权人应为村集体")
        if self.owner_village is not None and self.owner_village.level != Level.VILLAGE:
            errors["owner_village"] = _("请选择村")
        if errors:
            raise ValidationError(errors)


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


class ListedAllocation(Allocation):
    class Meta:
        proxy = True
        verbose_name = _("资金下达（明细）")
        verbose_name_plural = _("资金下达（明细）")

    def __str__(self) -> str:
        return (
            f"{self.region.name} {self.year}年{self.get_level_display()}资金 {self.document_number}"
            f"：{self.amount:,.2f}元"
        )


class ListedFunding(Funding):
    class Meta:
        proxy = True
        verbose_name = _("资金安排（明细）")
        verbose_name_plural = _("资金安排（明细）")

    def __str__(self) -> str:
        allocation = self.allocation
        return (
            f"{self.project.code} {self.project.name}（{self.project.region.name}）"
            f" ← {allocation.region.name} {allocation.year}年{allocation.get_level_display()}资金"
            f" {allocation.document_number}：{self.amount:,.2f}元"
        )


class ListedPayment(Payment):
    class Meta:
        proxy = True
        verbose_name = _("资金支付（明细）")
        verbose_name_plural = _("资金支付（明细）")

    def __str__(self) -> str:
        project, allocation = self.funding.project, self.funding.allocation
        return (
            f"{self.paid_on:%Y-%m-%d} {project.code} {project.name}：{self.amount:,.2f}元"
            f"（{allocation.year}年{allocation.get_level_display()}资金 {allocation.document_number}）"
        )


class ListedCollectiveIncome(CollectiveIncome):
    """A village's report with its 经营性收入 and, where the list computes it, the gap to the floor."""

    class Meta:
        proxy = True
        verbose_name = _("村集体经济收入（明细）")
        verbose_name_plural = _("村集体经济收入（明细）")

    def __str__(self) -> str:
        township = self.village.parent.name if self.village.parent else ""
        text = f"{township} {self.village.name} {self.year}年1—{self.quarter}季度"
        text += f"：经营性收入 {self.operating_income:,.2f}元"
        gap_fen, floor_fen = getattr(self, "gap_fen", None), getattr(self, "floor_fen", None)
        if gap_fen and floor_fen:
            text += f"，距{Decimal(floor_fen) / 100:,.0f}元差 {Decimal(gap_fen) / 100:,.2f}元"
        return text
