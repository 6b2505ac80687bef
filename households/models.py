from __future__ import annotations

import re
import time
import unicodedata
import uuid
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from households import formulas
from households.id_numbers import (
    birth_date_of,
    known_birth_date,
    normalise_id_number,
    normalised_id_number_error,
    sex_of,
)
from households.quarter import Quarter
from regions.models import PREFIX_LENGTH, Level, Region, ScopedQuerySet, county_code_of
from workbooks.models import ImportedHistory
from workbooks.rules import validate_visible_text

# History tables grow by a row per change of every household and member: a province's imports
# write millions. Their user column keeps no database foreign key (each inserted row would fire a
# constraint trigger; Django's on_delete still applies), and the copied unique fields keep no index
# of their own (history is read by object id and by date, never by 身份证号 or 户编号).
HISTORY_OPTIONS: dict[str, Any] = {"user_db_constraint": False, "bases": [ImportedHistory]}


NON_NEGATIVE = [MinValueValidator(Decimal("0"), message=_("金额不能为负数"))]


_PHONE = re.compile(r"[\d-]+")


def validate_phone(value: str) -> None:
    """A phone number holds digits and "-" only; forms, the admin and imports all apply this."""
    if value and not _PHONE.fullmatch(value):
        shown = value if len(value) <= 30 else value[:30] + "…"
        raise ValidationError(_("电话号码“%(value)s”只能包含数字和“-”"), code="invalid_phone", params={"value": shown})


def validate_quarter_has_begun(quarter: Quarter, today: date | None = None) -> None:
    """Refuse income for a quarter that has not begun (today in Asia/Shanghai unless given)."""
    if not quarter.has_begun(today or timezone.localdate()):
        raise ValidationError(
            {"quarter": _("%(quarter)s尚未开始，不能录入收入") % {"quarter": quarter.label}}, code="future_quarter"
        )


def amount_field(label: Any) -> models.DecimalField[Decimal, Decimal]:
    """A non-negative yuan amount with two decimals, zero when left blank."""
    return models.DecimalField(label, max_digits=14, decimal_places=2, default=Decimal("0.00"), validators=NON_NEGATIVE)


class HouseholdType(models.TextChoices):
    LIFTED = "lifted", _("脱贫户")
    ORDINARY = "ordinary", _("一般农户")


class HouseholdStatus(models.TextChoices):
    ACTIVE = "active", _("正常")
    CANCELLED = "cancelled", _("已注销")


class Relation(models.TextChoices):
    HEAD = "head", _("户主")
    SPOUSE = "spouse", _("配偶")
    SON = "son", _("之子")
    DAUGHTER = "daughter", _("之女")
    DAUGHTER_IN_LAW = "daughter_in_law", _("之儿媳")
    SON_IN_LAW = "son_in_law", _("之女婿")
    GRANDSON = "grandson", _("之孙子")
    GRANDDAUGHTER = "granddaughter", _("之孙女")
    GREAT_GRANDCHILD = "great_grandchild", _("之曾孙子女")
    FATHER = "father", _("之父")
    MOTHER = "mother", _("之母")
    GRANDPARENT = "grandparent", _("之祖父母")
    SIBLING = "sibling", _("之兄弟姐妹")
    OTHER = "other", _("其他")


class Labour(models.TextChoices):
    SKILLED = "skilled", _("技能劳动力")
    ORDINARY = "ordinary", _("普通劳动力")
    WEAK = "weak", _("弱劳动力或半劳动力")
    LOST = "lost", _("丧失劳动力")
    NONE = "none", _("无劳动力")


# Members who count as labour for the "no labour at all" rule.
LABOUR_CAPABLE = [Labour.SKILLED, Labour.ORDINARY, Labour.WEAK]


class Health(models.TextChoices):
    HEALTHY = "healthy", _("健康")
    CHRONIC = "chronic", _("长期慢性病")
    SERIOUS = "serious", _("患有大病")
    DISABLED = "disabled", _("残疾")


class Schooling(models.TextChoices):
    NOT_IN_SCHOOL = "none", _("非在校生")
    PRESCHOOL = "preschool", _("学前教育")
    PRIMARY = "primary", _("小学")
    JUNIOR = "junior", _("七年级至九年级")
    SENIOR = "senior", _("普通高中")
    VOCATIONAL = "vocational", _("中职")
    COLLEGE = "college", _("高职高专")
    UNIVERSITY = "university", _("本科及以上")


class Sex(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")


class MonitoringCategory(models.TextChoices):
    UNSTABLE = "unstable", _("脱贫不稳定户")
    MARGINAL = "marginal", _("边缘易致贫户")
    SUDDEN = "sudden", _("突发严重困难户")


class EliminationMethod(models.TextChoices):
    ASSISTED = "assisted", _("帮扶消除")
    NATURAL = "natural", _("自然消除")


class VersionedModel(models.Model):
    """Optimistic locking: every save through a service bumps `version`; stale saves are refused."""

    version = models.PositiveIntegerField(_("版本"), default=1, editable=False)

    class Meta:
        abstract = True


class HouseholdQuerySet(ScopedQuerySet):
    region_field = "village"

    def active(self) -> HouseholdQuerySet:
        return self.filter(status=HouseholdStatus.ACTIVE)

    def monitored(self) -> HouseholdQuerySet:
        """Households with an open (not eliminated) monitoring case."""
        return self.filter(Exists(MonitoringCase.objects.open().filter(household=OuterRef("pk"))))

    def not_monitored(self) -> HouseholdQuerySet:
        return self.exclude(Exists(MonitoringCase.objects.open().filter(household=OuterRef("pk"))))


class Household(VersionedModel):
    uuid = models.UUIDField(_("唯一标识"), default=uuid.uuid4, unique=True, editable=False)
    number = models.CharField(
        _("户编号"),
        max_length=32,
        unique=True,
        validators=[validate_visible_text],
        help_text=_("全国防返贫监测信息系统户编号；未知时可填本地编号"),
    )
    village = models.ForeignKey(Region, verbose_name=_("所属村"), on_delete=models.PROTECT, related_name="households")
    household_type = models.CharField(_("户类型"), max_length=16, choices=HouseholdType.choices)
    lifted_year = models.PositiveSmallIntegerField(
        _("脱贫年度"), null=True, blank=True, validators=[MinValueValidator(2013), MaxValueValidator(2020)]
    )
    relocated = models.BooleanField(_("易地搬迁户"), default=False)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True, validators=[validate_phone])
    address = models.CharField(_("住址"), max_length=200, blank=True, validators=[validate_visible_text])
    helper_name = models.CharField(_("帮扶责任人"), max_length=32, blank=True, validators=[validate_visible_text])
    helper_unit = models.CharField(_("帮扶责任人单位"), max_length=100, blank=True, validators=[validate_visible_text])
    helper_phone = models.CharField(_("帮扶责任人电话"), max_length=20, blank=True, validators=[validate_phone])
    status = models.CharField(_("状态"), max_length=16, choices=HouseholdStatus.choices, default=HouseholdStatus.ACTIVE)
    cancelled_reason = models.CharField(_("注销原因"), max_length=200, blank=True, validators=[validate_visible_text])
    cancelled_on = models.DateField(_("注销日期"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True, db_index=True)
    # Precomputed income facts, refreshed by the income services: the latest recorded quarter
    # and the per-capita net income of the four quarters ending there (None if any is missing).
    latest_income_year = models.PositiveSmallIntegerField(_("最近填报年度"), null=True, editable=False)
    latest_income_quarter = models.PositiveSmallIntegerField(_("最近填报季度"), null=True, editable=False)
    trailing_per_capita = models.DecimalField(
        _("近四季度人均纯收入"), max_digits=14, decimal_places=2, null=True, editable=False
    )

    history = HistoricalRecords(
        **HISTORY_OPTIONS,
        no_db_index=["uuid", "number", "village"],
        excluded_fields=[
            "updated_at",
            "created_at",
            "latest_income_year",
            "latest_income_quarter",
            "trailing_per_capita",
        ],
    )
    objects = HouseholdQuerySet.as_manager()

    class Meta:
        verbose_name = _("农户")
        verbose_name_plural = _("农户")
        ordering = ["number"]
        permissions = [("view_personal_data", _("查看完整身份证号和电话"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(household_type=HouseholdType.LIFTED) | Q(lifted_year__isnull=True),
                name="household_lifted_year_only_for_lifted",
            ),
            models.CheckConstraint(
                condition=Q(status=HouseholdStatus.ACTIVE) | ~Q(cancelled_reason=""),
                name="household_cancellation_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["number"], name="household_number_prefix", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["village", "number"]),
            models.Index(fields=["village", "trailing_per_capita"]),
            # The list's default filter is status=active: its count and income sort read these.
            models.Index(fields=["village"], condition=Q(status="active"), name="household_active_village"),
            models.Index(
                models.F("trailing_per_capita").desc(),
                "number",
                condition=Q(status="active"),
                name="household_income_order",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    # The fields clean() reads: an import judges a county's households once per distinct combination
    # of them (tests/households/test_rules.py holds clean() to this list).
    CLEAN_READS = ("village", "household_type", "lifted_year", "status", "cancelled_reason")

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.village_id is not None and self.village.level != Level.VILLAGE:
            errors["village"] = _("农户必须归属到村（社区）")
        if self.household_type == HouseholdType.LIFTED and self.lifted_year is None:
            errors["lifted_year"] = _("脱贫户须填写脱贫年度")
        if self.household_type == HouseholdType.ORDINARY and self.lifted_year is not None:
            errors["lifted_year"] = _("一般农户不应填写脱贫年度")
        if self.status == HouseholdStatus.CANCELLED and not self.cancelled_reason:
            errors["cancelled_reason"] = _("注销须填写原因")
        if errors:
            raise ValidationError(errors)

    @property
    def is_active(self) -> bool:
        return self.status == HouseholdStatus.ACTIVE

    def active_members(self) -> models.QuerySet[Member]:
        return self.members.filter(is_active=True)

    def size(self) -> int:
        """家庭人口数: the household's active members."""
        return self.active_members().count()

    def has_labour(self) -> bool:
        return self.active_members().filter(labour__in=LABOUR_CAPABLE).exists()

    def open_case(self) -> MonitoringCase | None:
        return self.monitoring_cases.open().first()


_today_cache: tuple[float, date] = (0.0, date.min)


def _today() -> date:
    """date.today(), read again at most once a second: an import cleans 200,000 members."""
    global _today_cache
    now = time.monotonic()
    if now - _today_cache[0] >= 1.0:
        _today_cache = (now, timezone.localdate())
    return _today_cache[1]


def member_identity(id_number: str) -> tuple[str, date, str]:
    """The normalised 身份证号 with the birth date and sex it encodes; ValidationError when it is not valid."""
    number = normalise_id_number(id_number)
    birth_date = known_birth_date(number)
    if birth_date is None:
        message = normalised_id_number_error(number)
        if message:
            raise ValidationError({"id_number": message})
        birth_date = birth_date_of(number)
    if birth_date > _today():
        raise ValidationError({"id_number": _("身份证号中的出生日期晚于今天")})
    return number, birth_date, sex_of(number)


class MemberQuerySet(ScopedQuerySet):
    region_field = "household__village"

    def in_family_order(self) -> MemberQuerySet:
        """Active members first, then 户主, 配偶, children… in the national list's order, oldest first."""
        rank = models.Case(
            *[models.When(relation=value, then=index) for index, value in enumerate(Relation.values)],
            default=len(Relation.values),
            output_field=models.IntegerField(),
        )
        return self.alias(relation_rank=rank).order_by("-is_active", "relation_rank", "birth_date")


class Member(models.Model):
    household = models.ForeignKey(Household, verbose_name=_("农户"), on_delete=models.PROTECT, related_name="members")
    name = models.CharField(_("姓名"), max_length=32, validators=[validate_visible_text])
    # Unique by the constraint below, whose index also serves prefix search.
    id_number = models.CharField(_("身份证号"), max_length=18)
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices, editable=False)
    birth_date = models.DateField(_("出生日期"), editable=False)
    relation = models.CharField(_("与户主关系"), max_length=24, choices=Relation.choices)
    labour = models.CharField(_("劳动技能"), max_length=16, choices=Labour.choices)
    health = models.CharField(_("健康状况"), max_length=16, choices=Health.choices, default=Health.HEALTHY)
    schooling = models.CharField(
        _("在校生状况"), max_length=16, choices=Schooling.choices, default=Schooling.NOT_IN_SCHOOL
    )
    work_place = models.CharField(_("务工地点"), max_length=100, blank=True, validators=[validate_visible_text])
    work_months = models.PositiveSmallIntegerField(
        _("务工月数"), default=0, validators=[MaxValueValidator(12, message=_("务工月数不能超过12"))]
    )
    medical_insurance = models.BooleanField(_("参加基本医疗保险"), default=True)
    is_active = models.BooleanField(_("在户"), default=True)
    left_reason = models.CharField(_("减员原因"), max_length=100, blank=True, validators=[validate_visible_text])
    left_on = models.DateField(_("减员日期"), null=True, blank=True)

    history = HistoricalRecords(**HISTORY_OPTIONS, no_db_index=["id_number"])
    objects = MemberQuerySet.as_manager()

    class Meta:
        verbose_name = _("家庭成员")
        verbose_name_plural = _("家庭成员")
        ordering = ["household", "-is_active", "birth_date"]
        constraints = [
            # One index for equality, uniqueness and LIKE 'x%' (the pattern operator class does all
            # three on PostgreSQL): an import inserts 200,000 random keys into each index.
            models.UniqueConstraint(
                fields=["id_number"],
                name="member_id_number_unique",
                opclasses=["varchar_pattern_ops"],
                violation_error_message=_("该身份证号已登记在其他成员名下"),
            ),
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(relation=Relation.HEAD, is_active=True),
                name="member_one_active_head_per_household",
                violation_error_message=_("一户只能有一名户主"),
            ),
            models.CheckConstraint(condition=Q(work_months__lte=12), name="member_work_months_at_most_12"),
        ]
        # Search is by prefix (LIKE 'x%'); PostgreSQL needs the pattern operator class for that.
        indexes = [
            models.Index(fields=["name"], name="member_name_prefix", opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        self.id_number, self.birth_date, self.sex = member_identity(self.id_number or "")

    def validate_unique(self, exclude: Any = None) -> None:
        # Django's message names the field in English ("具有 身份证号 的 家庭成员 已存在"); say it plainly.
        if self.id_number and Member.objects.filter(id_number=self.id_number).exclude(pk=self.pk).exists():
            raise ValidationError({"id_number": _("该身份证号已登记在其他成员名下")})
        super().validate_unique(exclude=exclude)


class MonitoringThreshold(models.Model):
    """监测范围: yuan per person per year, set per region and year (usually by the province)."""

    region = models.ForeignKey(Region, verbose_name=_("区划"), on_delete=models.PROTECT)
    year = models.PositiveSmallIntegerField(_("年度"))
    amount = models.DecimalField(_("监测标准（元/人·年）"), max_digits=10, decimal_places=2)
    source = models.CharField(_("依据文件"), max_length=200)

    class Meta:
        verbose_name = _("防返贫监测标准")
        verbose_name_plural = _("防返贫监测标准")
        ordering = ["region__code", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["region", "year"], name="threshold_one_per_region_year"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="threshold_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.region} {self.year}年 {self.amount}元"


class ReferenceItem(models.Model):
    """An entry of a list that provinces may extend, so it is data rather than choices."""

    code = models.CharField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=32, unique=True)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        abstract = True
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name


def county_prefix_of(prefix: str) -> str:
    """The leading digits that a county's own reference entries share with a user's or region's scope:
    the county's six for a county and anything below it, the scope itself above a county."""
    return prefix[: PREFIX_LENGTH[Level.COUNTY]]


class CountyReferenceQuerySet(models.QuerySet[Any]):
    """Entries of a list a county may extend: the province's (no region) and each county's own."""

    def for_county(self, code: str) -> Any:
        """Province-wide entries and those of the county the region `code` lies in."""
        return self.filter(Q(region__isnull=True) | Q(region__code=county_code_of(code)))

    def within(self, prefix: str) -> Any:
        """Province-wide entries and those of the counties a scope's code prefix covers ('' for all)."""
        if prefix == "":
            return self.all()
        return self.filter(Q(region__isnull=True) | Q(region__code__startswith=county_prefix_of(prefix)))

    def visible_to(self, user: Any) -> Any:
        """What the user may see and choose from: province-wide entries and their counties' own."""
        prefix = user.scope_prefix() if user.is_authenticated else None
        return self.none() if prefix is None else self.within(prefix)

    def active(self) -> Any:
        return self.filter(is_active=True)


def reference_name_key(name: str) -> str:
    """What two entry names that read alike share: width (全角/半角), letter case and spaces do not count."""
    return "".join(unicodedata.normalize("NFKC", name).casefold().split())


class CountyReferenceItem(ReferenceItem):
    """An entry of a list that is province-wide (no region, seeded by migrations) or one county's own.

    A county's entries are chosen only for its households; its administrator adds, renames and
    停用/启用 them (households.reference_lists), never deletes one. A name is unique among the
    province's entries and the county's together, so a county cannot shadow a province-wide name.
    The code is unique everywhere: dashboards and the API name an entry by it.
    """

    name = models.CharField(_("名称"), max_length=32)
    region = models.ForeignKey(
        Region,
        verbose_name=_("所属县"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("留空为全省统一"),
    )
    is_active = models.BooleanField(_("启用"), default=True, help_text=_("停用后不能再新选，已有记录照常显示"))
    version = models.PositiveIntegerField(_("版本"), default=1, editable=False)

    objects = CountyReferenceQuerySet.as_manager()

    class Meta(ReferenceItem.Meta):
        abstract = True

    @property
    def is_province_wide(self) -> bool:
        return self.region_id is None

    def clean(self) -> None:
        super().clean()
        if self.region is not None and self.region.level != Level.COUNTY:
            raise ValidationError({"region": _("只能属于县级区划，或留空为全省统一")})
        self.name = " ".join(self.name.split())
        if not self.name:
            return
        # The same name among the entries this one is chosen beside: the province's, and its county's
        # (for a province-wide entry, any county's: it would shadow theirs). Names are compared as a clerk
        # reads them, so "因 病" or "ＩＬＬ" cannot stand beside 因病 or ILL; a county's list is a few dozen
        # entries, read whole.
        others = type(self)._default_manager.exclude(pk=self.pk)
        if self.region is not None:
            others = others.filter(Q(region__isnull=True) | Q(region=self.region))
        key = reference_name_key(self.name)
        same = next((name for name in others.values_list("name", flat=True) if reference_name_key(name) == key), None)
        if same is not None:
            label = self._meta.verbose_name
            raise ValidationError({"name": _("%(label)s名称“%(name)s”已存在") % {"label": label, "name": same}})


class RiskType(CountyReferenceItem):
    """风险类型."""

    history = HistoricalRecords(user_db_constraint=False)

    class Meta(CountyReferenceItem.Meta):
        verbose_name = _("风险类型")
        verbose_name_plural = _("风险类型")
        constraints = [
            models.UniqueConstraint(
                fields=["name"], condition=Q(region__isnull=True), name="risk_type_province_name_unique"
            ),
            models.UniqueConstraint(
                fields=["region", "name"], condition=Q(region__isnull=False), name="risk_type_county_name_unique"
            ),
        ]


class AssistanceMeasure(CountyReferenceItem):
    """帮扶措施."""

    history = HistoricalRecords(user_db_constraint=False)

    class Meta(CountyReferenceItem.Meta):
        verbose_name = _("帮扶措施")
        verbose_name_plural = _("帮扶措施")
        constraints = [
            models.UniqueConstraint(
                fields=["name"], condition=Q(region__isnull=True), name="measure_province_name_unique"
            ),
            models.UniqueConstraint(
                fields=["region", "name"], condition=Q(region__isnull=False), name="measure_county_name_unique"
            ),
        ]


MAX_RISK_TYPES = 5
MIN_MONTHS_BEFORE_ELIMINATION = 6


def months_between(start: date, end: date) -> int:
    """Whole calendar months from start's month to end's month."""
    return (end.year - start.year) * 12 + end.month - start.month


class MonitoringCaseQuerySet(ScopedQuerySet):
    region_field = "household__village"

    def open(self) -> MonitoringCaseQuerySet:
        return self.filter(eliminated_month__isnull=True)


class MonitoringCase(VersionedModel):
    household = models.ForeignKey(
        Household, verbose_name=_("农户"), on_delete=models.PROTECT, related_name="monitoring_cases"
    )
    category = models.CharField(_("监测对象类别"), max_length=16, choices=MonitoringCategory.choices)
    identified_month = models.DateField(_("识别时间"), help_text=_("识别为监测对象的月份"))
    risk_types = models.ManyToManyField(RiskType, verbose_name=_("风险类型"), related_name="+")
    measures = models.ManyToManyField(AssistanceMeasure, verbose_name=_("帮扶措施"), blank=True, related_name="+")
    eliminated_month = models.DateField(_("风险消除时间"), null=True, blank=True)
    elimination_method = models.CharField(_("消除方式"), max_length=16, choices=EliminationMethod.choices, blank=True)
    note = models.CharField(_("备注"), max_length=500, blank=True, validators=[validate_visible_text])
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    history = HistoricalRecords(**HISTORY_OPTIONS, m2m_fields=[risk_types, measures], excluded_fields=["created_at"])
    objects = MonitoringCaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("监测对象")
        verbose_name_plural = _("监测对象")
        ordering = ["-identified_month"]
        constraints = [
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(eliminated_month__isnull=True),
                name="monitoring_case_one_open_per_household",
                violation_error_message=_("该户已有未消除风险的监测记录"),
            ),
            models.CheckConstraint(
                condition=Q(eliminated_month__isnull=True, elimination_method="")
                | Q(eliminated_month__isnull=False, elimination_method__in=EliminationMethod.values),
                name="monitoring_case_elimination_complete",
            ),
            models.CheckConstraint(
                condition=Q(eliminated_month__isnull=True) | Q(eliminated_month__gte=models.F("identified_month")),
                name="monitoring_case_eliminated_after_identified",
            ),
        ]

    # Set by an importer that validates a household's members and its case together (the members
    # are not written yet); None asks the database.
    household_has_labour: bool | None = None
    # Set by an importer that holds the household's cases already: (id, identified_month, eliminated_month)
    # of each; None asks the database.
    household_cases: list[tuple[int, date, date | None]] | None = None

    def __str__(self) -> str:
        return f"{self.household} {self.get_category_display()}"

    @property
    def is_open(self) -> bool:
        return self.eliminated_month is None

    def _identification_moved(self) -> bool:
        if self.pk is None:
            return True
        stored = MonitoringCase.objects.filter(pk=self.pk).values_list("identified_month", flat=True).first()
        return stored != self.identified_month

    def _refuse_overlap(self) -> None:
        """A household is monitored by one case at a time: a case's months (identification up to its
        elimination, open-ended while open) may not overlap another case of the household, or the household
        is counted twice for those months."""
        if not self.identified_month or self.household_id is None or self.household.pk is None:
            return
        cases = self.household_cases
        if cases is None:
            cases = list(
                MonitoringCase.objects.filter(household_id=self.household_id).values_list(
                    "pk", "identified_month", "eliminated_month"
                )
            )
        overlapping = sorted(
            (start, end)
            for pk, start, end in cases
            if pk != self.pk
            and (end is None or end > self.identified_month)
            and (self.eliminated_month is None or start < self.eliminated_month)
        )
        if not overlapping:
            return
        start, end = overlapping[0]
        until = end.strftime("%Y年%m月") if end else "今（风险未消除）"
        raise ValidationError(
            {
                "identified_month": _(
                    "与该户另一条监测记录的时段重叠（识别于%(start)s，至%(until)s），同一时间只能有一条"
                )
                % {"start": start.strftime("%Y年%m月"), "until": until}
            }
        )

    def _elimination_is_new(self) -> bool:
        if self.pk is None:
            return True
        stored = MonitoringCase.objects.filter(pk=self.pk).values_list("eliminated_month", flat=True).first()
        return stored != self.eliminated_month

    def clean(self) -> None:
        if self.identified_month:
            self.identified_month = self.identified_month.replace(day=1)
        if self.eliminated_month:
            self.eliminated_month = self.eliminated_month.replace(day=1)
        this_month = _today().replace(day=1)
        if self.identified_month and self.identified_month > this_month:
            raise ValidationError({"identified_month": _("识别时间不能晚于当前月份")})
        if self.eliminated_month and self.eliminated_month > this_month:
            raise ValidationError({"eliminated_month": _("消除时间不能晚于当前月份")})
        household = self.household
        expected_type = (
            {
                MonitoringCategory.UNSTABLE: HouseholdType.LIFTED,
                MonitoringCategory.MARGINAL: HouseholdType.ORDINARY,
            }.get(MonitoringCategory(self.category))
            if self.category
            else None
        )
        if expected_type and household.household_type != expected_type:
            raise ValidationError(
                {
                    "category": _("“%(category)s”须为%(type)s")
                    % {"category": self.get_category_display(), "type": HouseholdType(expected_type).label}
                }
            )
        self._refuse_overlap()
        if self.eliminated_month is None:
            if self.elimination_method:
                raise ValidationError({"eliminated_month": _("填写了消除方式，请同时填写风险消除时间")})
            return
        if not self.elimination_method:
            raise ValidationError({"elimination_method": _("请选择消除方式")})
        elimination_is_new = self._elimination_is_new()
        if elimination_is_new or self._identification_moved():
            # The months between identification and elimination: whichever of the two is changed.
            months = months_between(self.identified_month, self.eliminated_month)
            if months < MIN_MONTHS_BEFORE_ELIMINATION:
                raise ValidationError(
                    {
                        "eliminated_month": _("识别后不满6个月不能标注风险消除（识别于%(month)s）")
                        % {"month": self.identified_month.strftime("%Y年%m月")}
                    }
                )
        if not elimination_is_new:
            # The rules below judge the moment of elimination; later income changes do not undo it.
            return
        if self.pk is None and self.eliminated_month < _today().replace(day=1):
            # A case entered as already eliminated in an earlier month is a record of the past (an
            # exported roster read back): the rules below judge an elimination made now, against
            # today's members and income, which say nothing about that moment.
            return
        has_labour = self.household_has_labour if self.household_has_labour is not None else household.has_labour()
        if not has_labour:
            raise ValidationError({"eliminated_month": _("无劳动力家庭不能标注风险消除")})
        from households.selectors import threshold_for

        amount = household.trailing_per_capita
        if amount is None or household.latest_income_year is None:
            raise ValidationError({"eliminated_month": _("该户尚无连续四个季度的收入记录，不能标注风险消除")})
        year = household.latest_income_year
        threshold = threshold_for(region=household.village, year=year)
        if threshold is None:
            raise ValidationError({"eliminated_month": _("%(year)d年尚未设置防返贫监测标准") % {"year": year}})
        if amount <= threshold.amount:
            raise ValidationError(
                {
                    "eliminated_month": _(
                        "近四个季度人均纯收入%(amount)s元未高于%(year)d年监测标准%(threshold)s元，不能标注风险消除"
                    )
                    % {"year": year, "amount": amount, "threshold": threshold.amount}
                }
            )


WAGE_FIELDS = ["wages_migrant_work", "wages_public_welfare_job", "wages_other"]
OPERATING_FIELDS = ["operating_planting", "operating_breeding", "operating_forestry_fruit", "operating_other"]
PROPERTY_FIELDS = ["property_dividends", "property_land_transfer", "property_other"]
TRANSFER_FIELDS = [
    "transfer_family_planning",
    "transfer_minimum_living",
    "transfer_extreme_poverty",
    "transfer_pension",
    "transfer_ecological",
    "transfer_other",
]
INCOME_GROUPS = {
    "wages": WAGE_FIELDS,
    "operating": OPERATING_FIELDS,
    "property": PROPERTY_FIELDS,
    "transfers": TRANSFER_FIELDS,
}
AMOUNT_FIELDS = [
    *WAGE_FIELDS,
    *OPERATING_FIELDS,
    *PROPERTY_FIELDS,
    *TRANSFER_FIELDS,
    "operating_costs",
    "insurance_claims",
    "compliant_out_of_pocket",
]


class IncomeRecordQuerySet(ScopedQuerySet):
    region_field = "household__village"

    def for_quarter(self, quarter: Quarter) -> IncomeRecordQuerySet:
        return self.filter(year=quarter.year, quarter=quarter.number)


class IncomeRecord(VersionedModel):
    """One household's income for one quarter (一户一本记账本)."""

    household = models.ForeignKey(
        Household, verbose_name=_("农户"), on_delete=models.PROTECT, related_name="income_records"
    )
    year = models.PositiveSmallIntegerField(_("年度"), validators=[MinValueValidator(2016), MaxValueValidator(2100)])
    quarter = models.PositiveSmallIntegerField(_("季度"), choices=[(n, f"第{n}季度") for n in range(1, 5)])
    household_size = models.PositiveSmallIntegerField(
        _("家庭人口数"), validators=[MinValueValidator(1)], help_text=_("填报时在户人数")
    )

    wages_migrant_work = amount_field(_("务工收入"))
    wages_public_welfare_job = amount_field(_("公益性岗位收入"))
    wages_other = amount_field(_("其他工资性收入"))
    operating_planting = amount_field(_("种植业收入"))
    operating_breeding = amount_field(_("养殖业收入"))
    operating_forestry_fruit = amount_field(_("林果业收入"))
    operating_other = amount_field(_("其他生产经营性收入"))
    property_dividends = amount_field(_("资产收益分红"))
    property_land_transfer = amount_field(_("土地流转收入"))
    property_other = amount_field(_("其他财产性收入"))
    transfer_family_planning = amount_field(_("计划生育金"))
    transfer_minimum_living = amount_field(_("低保金"))
    transfer_extreme_poverty = amount_field(_("特困供养金"))
    transfer_pension = amount_field(_("养老保险金"))
    transfer_ecological = amount_field(_("生态补偿金"))
    transfer_other = amount_field(_("其他转移性收入"))
    operating_costs = amount_field(_("生产经营性支出"))
    insurance_claims = amount_field(_("理赔收入"))
    compliant_out_of_pocket = amount_field(_("合规自付支出"))

    # Stored so that reports aggregate in SQL; always set from the formulas in save().
    net_income = models.DecimalField(_("家庭纯收入"), max_digits=14, decimal_places=2, editable=False)
    per_capita_net_income = models.DecimalField(_("人均纯收入"), max_digits=14, decimal_places=2, editable=False)
    entered_at = models.DateTimeField(_("填报时间"), auto_now=True)

    history = HistoricalRecords(**HISTORY_OPTIONS, excluded_fields=["entered_at"])
    objects = IncomeRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("季度收入")
        verbose_name_plural = _("季度收入")
        ordering = ["household", "-year", "-quarter"]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "year", "quarter"],
                name="income_record_one_per_household_quarter",
                violation_error_message=_("该户本季度收入已录入，请修改原记录"),
            ),
            models.CheckConstraint(condition=Q(quarter__gte=1, quarter__lte=4), name="income_record_quarter_1_to_4"),
            models.CheckConstraint(condition=Q(household_size__gte=1), name="income_record_size_positive"),
            *[
                models.CheckConstraint(condition=Q(**{f"{name}__gte": 0}), name=f"income_record_{name}_not_negative")
                for name in AMOUNT_FIELDS
            ],
        ]
        indexes = [models.Index(fields=["year", "quarter"])]

    def __str__(self) -> str:
        return f"{self.household} {self.period}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.compute()
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if self.year and self.quarter in (1, 2, 3, 4):
            validate_quarter_has_begun(self.period)

    @property
    def period(self) -> Quarter:
        return Quarter(self.year, self.quarter)

    def totals(self) -> formulas.IncomeTotals:
        def amounts(names: list[str]) -> list[Decimal]:
            return [Decimal(getattr(self, name) or 0) for name in names]

        return formulas.income_totals(
            wages=amounts(WAGE_FIELDS),
            operating=amounts(OPERATING_FIELDS),
            property_income=amounts(PROPERTY_FIELDS),
            transfers=amounts(TRANSFER_FIELDS),
            operating_costs=Decimal(self.operating_costs or 0),
        )

    def compute(self) -> None:
        """Set the stored totals from the sub-items; bulk writers call this before saving."""
        amounts = {name: Decimal(getattr(self, name) or 0) for name in AMOUNT_FIELDS}
        self.net_income, self.per_capita_net_income = income_figures(amounts, self.household_size or 0)


def income_figures(amounts: Mapping[str, Decimal], household_size: int) -> tuple[Decimal, Decimal]:
    """家庭纯收入 and 人均纯收入 (0.00 for a household of nobody) from a quarter's sub-items, as stored."""
    net = formulas.money(
        formulas.income_totals(
            wages=[amounts[name] for name in WAGE_FIELDS],
            operating=[amounts[name] for name in OPERATING_FIELDS],
            property_income=[amounts[name] for name in PROPERTY_FIELDS],
            transfers=[amounts[name] for name in TRANSFER_FIELDS],
            operating_costs=amounts["operating_costs"],
        ).net
    )
    return net, formulas.per_capita(net_income=net, household_size=household_size) or Decimal("0.00")


# Export records and jobs live in the excel package; Django finds them through here.
from households.closing import ClosedQuarter  # noqa: E402, F401
from households.excel.models import ExportJob, ExportRecord  # noqa: E402, F401
from households.facts import FactsBuild, HouseholdQuarterFact  # noqa: E402, F401
from households.plausibility import IncomeCheckBound  # noqa: E402, F401
from households.population import VillagePopulation  # noqa: E402, F401
