"""Market entities (龙头企业, 农民专业合作社, 家庭农场), 致富带头人, and the "双绑" between them and households.

双绑: an enterprise binds a cooperative (Binding: orders, standards, market) and a cooperative binds
households (Membership: money, land rights, labour or produce). What a household earned from its
cooperative in a year is an Earning. An entity belongs to the region it is registered in; that
region decides who manages it. Who may see it is wider (EntityQuerySet.visible_to).
"""

from __future__ import annotations

import unicodedata
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords
from stdnum.cn import uscc

from households.models import HISTORY_OPTIONS, Household, Member, ReferenceItem, VersionedModel, validate_phone
from industries.models import YEAR_VALIDATORS, Industry, validate_industry_of_region
from regions.models import Level, Region, ScopedQuerySet
from workbooks.rules import validate_visible_text

NON_NEGATIVE = [MinValueValidator(Decimal("0"), message=_("金额不能为负数"))]


def normalise_credit_code(value: str) -> str:
    """A 统一社会信用代码 as stored: no spaces, upper case, full-width letters and digits as ASCII."""
    # stdnum folds full-width digits but not full-width letters (ＭＡ) or the ideographic space.
    return uscc.compact(unicodedata.normalize("NFKC", value or ""))


def validate_credit_code(value: str) -> None:
    """统一社会信用代码: 18 characters with a valid check character (python-stdnum cn.uscc)."""
    shown = value if len(value) <= 30 else value[:30] + "…"
    try:
        uscc.validate(value)
    except Exception:  # stdnum raises its own InvalidLength / InvalidFormat / InvalidChecksum
        raise ValidationError(
            _("统一社会信用代码“%(value)s”不正确：应为18位，末位校验码须与前17位相符"),
            code="invalid_credit_code",
            params={"value": shown},
        ) from None


CREDIT_CODE_TAKEN = _("该统一社会信用代码已登记在其他经营主体名下")


class EntityKind(models.TextChoices):
    ENTERPRISE = "enterprise", _("龙头企业")
    COOPERATIVE = "cooperative", _("农民专业合作社")
    FAMILY_FARM = "family_farm", _("家庭农场")


class EntityLevel(models.TextChoices):
    """龙头企业's level, or the 示范 level of a cooperative or family farm."""

    NATIONAL = "national", _("国家级")
    PROVINCIAL = "provincial", _("省级")
    PREFECTURAL = "prefectural", _("州(市)级")
    COUNTY = "county", _("县级")
    NONE = "none", _("无")


class EntityStatus(models.TextChoices):
    ACTIVE = "active", _("正常")
    CANCELLED = "cancelled", _("已注销")


# 龙头企业 sales tiers (000): annual sales at or above each line, in yuan, highest first.
SALES_TIERS = (
    (Decimal("10000000"), "1000万元以上"),
    (Decimal("5000000"), "500万元以上"),
    (Decimal("1000000"), "100万元以上"),
)


def sales_tier(annual_sales: Decimal | None) -> str:
    """The enterprise's sales tier (≥ 1000万 / ≥ 500万 / ≥ 100万), '' below 100万 or unknown."""
    if annual_sales is None:
        return ""
    return next((label for line, label in SALES_TIERS if annual_sales >= line), "")


def active_on(day: date, *, start: str | None = None, end: str = "ended_on", prefix: str = "") -> Q:
    """Rows in force on `day`: started on or before it (when `start` is given), not ended by then."""
    condition = Q(**{f"{prefix}{end}__isnull": True}) | Q(**{f"{prefix}{end}__gt": day})
    if start is not None:
        condition &= Q(**{f"{prefix}{start}__lte": day})
    return condition


def not_in_force(entity: Entity | None, day: date | None) -> str | None:
    """Why the entity cannot take part in something beginning on `day` (not yet founded, or cancelled), or None."""
    if entity is None or day is None or entity.is_active_on(day):
        return None
    return _("“%(name)s”在%(day)s未成立或已注销") % {"name": entity.name, "day": day}


class EntityQuerySet(ScopedQuerySet):
    region_field = "region"

    def active_on(self, day: date) -> EntityQuerySet:
        """Registered by then and not cancelled by then."""
        return self.filter(active_on(day, end="cancelled_on")).exclude(founded_on__gt=day)

    def visible_to(self, user: Any) -> Any:
        """Entities registered in the user's subtree or above it (a county's 龙头企业 serves all its
        townships), cooperatives with member households in it, and the enterprises bound to those or to
        a cooperative registered in it (whose binding the user keeps)."""
        prefix = user.scope_prefix() if user.is_authenticated else None
        if prefix is None:
            return self.none()
        if prefix == "":
            return self.all()
        # The codes of the regions above the user's (a prefix padded to 12 digits: 532326 → 532326000000).
        ancestors = [prefix[:length].ljust(12, "0") for length in (2, 4, 6, 9) if length < len(prefix)]
        members = Membership.objects.filter(cooperative=OuterRef("pk"), household__village__code__startswith=prefix)
        bound = Binding.objects.filter(
            enterprise=OuterRef("pk"),
            cooperative__memberships__household__village__code__startswith=prefix,
        )
        bound_here = Binding.objects.filter(enterprise=OuterRef("pk"), cooperative__region__code__startswith=prefix)
        return self.filter(
            Q(region__code__startswith=prefix)
            | Q(region__code__in=ancestors)
            | Exists(members)
            | Exists(bound)
            | Exists(bound_here)
        )

    def managed_by(self, user: Any) -> Any:
        """Entities the user may change: registered inside their subtree."""
        return ScopedQuerySet.visible_to(self, user)


class Entity(VersionedModel):
    """A 龙头企业, 农民专业合作社 or 家庭农场, registered in a region."""

    kind = models.CharField(_("主体类型"), max_length=16, choices=EntityKind.choices)
    name = models.CharField(_("名称"), max_length=100, validators=[validate_visible_text])
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, unique=True, validators=[validate_credit_code])
    region = models.ForeignKey(Region, verbose_name=_("注册地"), on_delete=models.PROTECT, related_name="entities")
    level = models.CharField(_("级别"), max_length=16, choices=EntityLevel.choices, default=EntityLevel.NONE)
    annual_sales = models.DecimalField(
        _("年销售额（元）"), max_digits=14, decimal_places=2, null=True, blank=True, validators=NON_NEGATIVE
    )
    founded_on = models.DateField(_("成立日期"), null=True, blank=True)
    industries = models.ManyToManyField(Industry, verbose_name=_("经营产业"), blank=True, related_name="entities")
    legal_person = models.CharField(_("法定代表人"), max_length=32, blank=True, validators=[validate_visible_text])
    contact_name = models.CharField(_("联系人"), max_length=32, blank=True, validators=[validate_visible_text])
    contact_phone = models.CharField(_("联系电话"), max_length=20, blank=True, validators=[validate_phone])
    address = models.CharField(_("地址"), max_length=200, blank=True, validators=[validate_visible_text])
    status = models.CharField(_("状态"), max_length=16, choices=EntityStatus.choices, default=EntityStatus.ACTIVE)
    cancelled_on = models.DateField(_("注销日期"), null=True, blank=True)

    history = HistoricalRecords(**HISTORY_OPTIONS, m2m_fields=[industries])
    objects = EntityQuerySet.as_manager()

    class Meta:
        verbose_name = _("经营主体")
        verbose_name_plural = _("经营主体")
        ordering = ["kind", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status=EntityStatus.ACTIVE, cancelled_on__isnull=True)
                | Q(status=EntityStatus.CANCELLED, cancelled_on__isnull=False),
                name="entity_cancelled_on_with_status",
            ),
            models.CheckConstraint(
                condition=Q(annual_sales__isnull=True) | Q(annual_sales__gte=0), name="entity_sales_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["region", "kind"], name="entity_region_kind")]

    def __str__(self) -> str:
        return self.name

    @property
    def sales_tier(self) -> str:
        return sales_tier(self.annual_sales) if self.kind == EntityKind.ENTERPRISE else ""

    def is_active_on(self, day: date) -> bool:
        return (self.founded_on is None or self.founded_on <= day) and (
            self.cancelled_on is None or self.cancelled_on > day
        )

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        self.credit_code = normalise_credit_code(self.credit_code)
        if self.region_id is not None:
            if self.region.level < Level.COUNTY:
                errors["region"] = _("注册地应为县、乡镇或村")
            elif self.kind == EntityKind.COOPERATIVE and self.region.level != Level.VILLAGE:
                errors["region"] = _("合作社的注册地应选到村")
        if self.kind != EntityKind.ENTERPRISE and self.annual_sales is not None:
            errors["annual_sales"] = _("年销售额只对龙头企业填写")
        if self.status == EntityStatus.CANCELLED and self.cancelled_on is None:
            errors["cancelled_on"] = _("注销须填写注销日期")
        if self.status == EntityStatus.ACTIVE and self.cancelled_on is not None:
            errors["cancelled_on"] = _("未注销的主体不应填写注销日期")
        if self.cancelled_on and self.founded_on and self.cancelled_on < self.founded_on:
            errors["cancelled_on"] = _("注销日期不能早于成立日期")
        if errors:
            raise ValidationError(errors)

    def validate_unique(self, exclude: Any = None) -> None:
        # Django's message names the field in English words ("具有 统一社会信用代码 的 经营主体 已存在").
        if self.credit_code and Entity.objects.filter(credit_code=self.credit_code).exclude(pk=self.pk).exists():
            raise ValidationError({"credit_code": CREDIT_CODE_TAKEN})
        super().validate_unique(exclude=exclude)


class RichLeaderQuerySet(ScopedQuerySet):
    region_field = "village"


class RichLeader(VersionedModel):
    """致富带头人: a person who leads villagers into an industry; linked to a member when they are one."""

    village = models.ForeignKey(Region, verbose_name=_("所在村"), on_delete=models.PROTECT, related_name="rich_leaders")
    name = models.CharField(_("姓名"), max_length=32, validators=[validate_visible_text])
    member = models.ForeignKey(
        Member, verbose_name=_("对应家庭成员"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    phone = models.CharField(_("联系电话"), max_length=20, blank=True, validators=[validate_phone])
    industry = models.ForeignKey(
        Industry, verbose_name=_("带动产业"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    entity = models.ForeignKey(
        Entity, verbose_name=_("所在经营主体"), null=True, blank=True, on_delete=models.PROTECT, related_name="leaders"
    )
    recognised_year = models.PositiveSmallIntegerField(_("认定年度"), validators=YEAR_VALIDATORS)
    ended_on = models.DateField(_("退出日期"), null=True, blank=True)

    history = HistoricalRecords(**HISTORY_OPTIONS)
    objects = RichLeaderQuerySet.as_manager()

    class Meta:
        verbose_name = _("致富带头人")
        verbose_name_plural = _("致富带头人")
        ordering = ["village", "name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.village_id is not None and self.village.level != Level.VILLAGE:
            errors["village"] = _("致富带头人按村登记")
        if self.member is not None and self.village_id is not None:
            if self.member.household.village_id != self.village_id:
                errors["member"] = _("所选家庭成员不在本村")
            elif self.member.name != self.name:
                errors["member"] = _("所选家庭成员的姓名与带头人姓名不一致")
        if self.industry is not None and self.village_id is not None:
            try:
                validate_industry_of_region(self.industry, self.village)
            except ValidationError as error:
                errors.update(error.message_dict)
        if errors:
            raise ValidationError(errors)


class LinkageType(ReferenceItem):
    """利益联结方式 (资产收益, 土地流转, 资金入股, 房屋联营, 务工就业, 产品代销, 生产托管, 租赁经营 — 004 §八)."""

    class Meta(ReferenceItem.Meta):
        verbose_name = _("利益联结方式")
        verbose_name_plural = _("利益联结方式")


class JoiningMethod(ReferenceItem):
    """入社方式 (资金入股, 土地经营权入股, 劳动力入股, 产品交售, 其他)."""

    class Meta(ReferenceItem.Meta):
        verbose_name = _("入社方式")
        verbose_name_plural = _("入社方式")


class EarningKind(ReferenceItem):
    """What a household earns from its cooperative (分红, 土地流转租金, 务工工资, 订单收购款)."""

    # Kinds that are 财产性收入 in the income record (the 疑点 rule compares them with it).
    is_property_income = models.BooleanField(_("计入财产性收入"), default=False)

    class Meta(ReferenceItem.Meta):
        verbose_name = _("收益类型")
        verbose_name_plural = _("收益类型")


class BindingQuerySet(ScopedQuerySet):
    region_field = "cooperative__region"

    def active_on(self, day: date) -> BindingQuerySet:
        return self.filter(active_on(day, start="started_on"))


class Binding(VersionedModel):
    """企业绑定合作社: an enterprise gives a cooperative orders, standards and a market."""

    enterprise = models.ForeignKey(
        Entity, verbose_name=_("龙头企业"), on_delete=models.PROTECT, related_name="bound_cooperatives"
    )
    cooperative = models.ForeignKey(Entity, verbose_name=_("合作社"), on_delete=models.PROTECT, related_name="bindings")
    contract_number = models.CharField(_("合同编号"), max_length=64, blank=True, validators=[validate_visible_text])
    started_on = models.DateField(_("开始日期"))
    ended_on = models.DateField(_("结束日期"), null=True, blank=True)
    linkage_types = models.ManyToManyField(LinkageType, verbose_name=_("利益联结方式"), related_name="+")
    order_volume = models.CharField(
        _("年订单量"), max_length=64, blank=True, validators=[validate_visible_text], help_text=_("如：烤烟 300 吨")
    )
    order_amount = models.DecimalField(
        _("年订单金额（元）"), max_digits=14, decimal_places=2, null=True, blank=True, validators=NON_NEGATIVE
    )

    history = HistoricalRecords(**HISTORY_OPTIONS, m2m_fields=[linkage_types])
    objects = BindingQuerySet.as_manager()

    class Meta:
        verbose_name = _("企业绑定合作社")
        verbose_name_plural = _("企业绑定合作社")
        ordering = ["enterprise", "cooperative", "-started_on"]
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "cooperative", "started_on"], name="binding_unique_start"),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="binding_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise} — {self.cooperative}"

    def is_active_on(self, day: date) -> bool:
        """In force on the day, and so are both its entities (what the 双绑 figures count)."""
        return (
            self.started_on <= day
            and (self.ended_on is None or self.ended_on > day)
            and self.enterprise.is_active_on(day)
            and self.cooperative.is_active_on(day)
        )

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.enterprise_id is not None and self.enterprise.kind != EntityKind.ENTERPRISE:
            errors["enterprise"] = _("“%(name)s”不是龙头企业") % {"name": self.enterprise.name}
        if self.cooperative_id is not None and self.cooperative.kind != EntityKind.COOPERATIVE:
            errors["cooperative"] = _("“%(name)s”不是合作社") % {"name": self.cooperative.name}
        if self.ended_on is not None and self.started_on is not None and self.ended_on < self.started_on:
            errors["ended_on"] = _("结束日期不能早于开始日期")
        if not errors and self._state.adding:
            # A binding begins while both exist, on every entry point (binding_update checks an edit again).
            for field in ("enterprise", "cooperative"):
                entity = getattr(self, field) if getattr(self, f"{field}_id") is not None else None
                if (reason := not_in_force(entity, self.started_on)) is not None:
                    errors[field] = reason
        if not errors and self.enterprise_id is not None and self.cooperative_id is not None and self.started_on:
            overlapping = Binding.objects.filter(enterprise_id=self.enterprise_id, cooperative_id=self.cooperative_id)
            overlapping = overlapping.exclude(pk=self.pk).filter(started_on__lt=self.ended_on or date.max)
            overlapping = overlapping.filter(Q(ended_on__isnull=True) | Q(ended_on__gt=self.started_on))
            if overlapping.exists():
                errors["started_on"] = _("该企业与该合作社在此期间已有绑定")
        if errors:
            raise ValidationError(errors)


class MembershipQuerySet(ScopedQuerySet):
    region_field = "household__village"

    def active_on(self, day: date) -> MembershipQuerySet:
        return self.filter(active_on(day, start="joined_on", end="left_on"))


class Membership(VersionedModel):
    """合作社绑定农户: a household's membership of a cooperative."""

    cooperative = models.ForeignKey(
        Entity, verbose_name=_("合作社"), on_delete=models.PROTECT, related_name="memberships"
    )
    household = models.ForeignKey(
        Household, verbose_name=_("农户"), on_delete=models.PROTECT, related_name="cooperative_memberships"
    )
    joining_method = models.ForeignKey(JoiningMethod, verbose_name=_("入社方式"), on_delete=models.PROTECT)
    shares = models.DecimalField(
        _("入股金额（元）"), max_digits=14, decimal_places=2, default=Decimal("0.00"), validators=NON_NEGATIVE
    )
    joined_on = models.DateField(_("入社日期"))
    left_on = models.DateField(_("退社日期"), null=True, blank=True)

    history = HistoricalRecords(**HISTORY_OPTIONS)
    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("合作社成员户")
        verbose_name_plural = _("合作社成员户")
        ordering = ["cooperative", "household", "-joined_on"]
        constraints = [
            models.UniqueConstraint(fields=["cooperative", "household", "joined_on"], name="membership_unique_join"),
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(left_on__gte=models.F("joined_on")),
                name="membership_leaves_after_joining",
            ),
            models.CheckConstraint(condition=Q(shares__gte=0), name="membership_shares_not_negative"),
        ]
        indexes = [models.Index(fields=["household", "cooperative"], name="membership_household")]

    def __str__(self) -> str:
        return f"{self.cooperative} — {self.household}"

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.cooperative_id is not None and self.cooperative.kind != EntityKind.COOPERATIVE:
            errors["cooperative"] = _("“%(name)s”不是合作社") % {"name": self.cooperative.name}
        if self.left_on is not None and self.joined_on is not None and self.left_on < self.joined_on:
            errors["left_on"] = _("退社日期不能早于入社日期")
        today = timezone.localdate()
        if self.joined_on is not None and self.joined_on > today:
            errors["joined_on"] = _("入社日期不能晚于今天（%(today)s）") % {"today": today.isoformat()}
        if self.left_on is not None and self.left_on > today:
            errors["left_on"] = _("退社日期不能晚于今天（%(today)s）") % {"today": today.isoformat()}
        if not errors and self._state.adding:
            # Joining, on every entry point (membership_update checks a changed 入社日期 again).
            if self.household_id is not None and not self.household.is_active:
                errors["household"] = _("已注销农户不能加入合作社")
            elif self.cooperative_id is not None and (reason := not_in_force(self.cooperative, self.joined_on)):
                errors["joined_on"] = reason
        if not errors and self.cooperative_id is not None and self.household_id is not None and self.joined_on:
            overlapping = Membership.objects.filter(cooperative_id=self.cooperative_id, household_id=self.household_id)
            overlapping = overlapping.exclude(pk=self.pk).filter(joined_on__lt=self.left_on or date.max)
            overlapping = overlapping.filter(Q(left_on__isnull=True) | Q(left_on__gt=self.joined_on))
            if overlapping.exists():
                errors["joined_on"] = _("该户在此期间已是该合作社成员")
        if errors:
            raise ValidationError(errors)


class EarningQuerySet(ScopedQuerySet):
    region_field = "household__village"


class Earning(VersionedModel):
    """What a household earned from a cooperative in a year, by kind (分红, 土地流转租金…)."""

    household = models.ForeignKey(
        Household, verbose_name=_("农户"), on_delete=models.PROTECT, related_name="cooperative_earnings"
    )
    cooperative = models.ForeignKey(Entity, verbose_name=_("合作社"), on_delete=models.PROTECT, related_name="earnings")
    year = models.PositiveSmallIntegerField(_("年度"), validators=YEAR_VALIDATORS)
    kind = models.ForeignKey(EarningKind, verbose_name=_("收益类型"), on_delete=models.PROTECT)
    amount = models.DecimalField(_("金额（元）"), max_digits=14, decimal_places=2, validators=NON_NEGATIVE)

    history = HistoricalRecords(**HISTORY_OPTIONS)
    objects = EarningQuerySet.as_manager()

    class Meta:
        verbose_name = _("合作社收益")
        verbose_name_plural = _("合作社收益")
        ordering = ["household", "-year", "cooperative", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["household", "cooperative", "year", "kind"], name="earning_unique"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="earning_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.household} {self.year} {self.kind} {self.amount}"

    def clean(self) -> None:
        if self.cooperative_id is not None and self.cooperative.kind != EntityKind.COOPERATIVE:
            raise ValidationError({"cooperative": _("“%(name)s”不是合作社") % {"name": self.cooperative.name}})
        if self.household_id is not None and self.cooperative_id is not None and self.year:
            was_member = Membership.objects.filter(
                household_id=self.household_id, cooperative_id=self.cooperative_id, joined_on__year__lte=self.year
            ).filter(Q(left_on__isnull=True) | Q(left_on__year__gte=self.year))
            if not was_member.exists():
                raise ValidationError({"cooperative": _("该户在%(year)s年不是该合作社成员") % {"year": self.year}})
