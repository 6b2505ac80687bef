from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Level(models.IntegerChoices):
    PROVINCE = 1, _("省")
    PREFECTURE = 2, _("市/州")
    COUNTY = 3, _("县/区")
    TOWNSHIP = 4, _("乡/镇")
    VILLAGE = 5, _("村/社区")
    GROUP = 6, _("组")


# How many leading digits of the code identify a unit at each level (2+2+2+3+3, groups +3).
PREFIX_LENGTH = {
    Level.PROVINCE: 2,
    Level.PREFECTURE: 4,
    Level.COUNTY: 6,
    Level.TOWNSHIP: 9,
    Level.VILLAGE: 12,
    Level.GROUP: 15,
}


def code_prefix(code: str, level: int) -> str:
    """The leading digits that every code in this unit's subtree shares."""
    return code[: PREFIX_LENGTH[Level(level)]]


def county_code_of(code: str) -> str:
    """The 12-digit code of the county a region code lies in."""
    return code[:6].ljust(12, "0")


def validate_region_code(code: str, level: int) -> None:
    """Raise ValidationError unless the code fits the 统计用区划代码 shape for its level."""
    expected_length = 15 if level == Level.GROUP else 12
    if len(code) != expected_length or not code.isdigit():
        raise ValidationError({"code": _("区划代码应为%(n)d位数字") % {"n": expected_length}}, code="invalid")
    own_end = PREFIX_LENGTH[Level(level)]
    own_start = PREFIX_LENGTH.get(Level(level - 1), 0) if level > Level.PROVINCE else 0
    if code[own_end:].strip("0"):
        raise ValidationError({"code": _("该级别区划代码第%(n)d位之后应全部为0") % {"n": own_end}}, code="invalid")
    if not code[own_start:own_end].strip("0"):
        raise ValidationError({"code": _("区划代码本级部分不能全为0")}, code="invalid")


class RegionQuerySet(models.QuerySet["Region"]):
    def subtree(self, region: Region) -> RegionQuerySet:
        """The region itself and everything below it."""
        return self.filter(code__startswith=region.prefix)

    def villages(self) -> RegionQuerySet:
        return self.filter(level=Level.VILLAGE)

    def ancestors_of(self, region: Region) -> RegionQuerySet:
        """The region and every unit above it, nearest first."""
        codes = [
            code_prefix(region.code, level).ljust(12, "0")
            for level in PREFIX_LENGTH
            if level <= region.level and level != Level.GROUP
        ]
        if region.level == Level.GROUP:
            codes.append(region.code)
        return self.filter(code__in=codes).order_by("-level")


class Region(models.Model):
    code = models.CharField(_("区划代码"), max_length=15, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    level = models.PositiveSmallIntegerField(_("级别"), choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )

    objects = RegionQuerySet.as_manager()

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(level=Level.PROVINCE, parent__isnull=True)
                | Q(level__gt=Level.PROVINCE, parent__isnull=False),
                name="region_parent_matches_level",
            ),
        ]
        indexes = [
            # Prefix (LIKE 'abc%') lookups on PostgreSQL need the pattern operator class.
            models.Index(fields=["code"], name="region_code_prefix", opclasses=["varchar_pattern_ops"])
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def prefix(self) -> str:
        return code_prefix(self.code, self.level)

    def clean(self) -> None:
        validate_region_code(self.code, self.level)
        if self.parent is None:
            if self.level != Level.PROVINCE:
                raise ValidationError({"parent": _("只有省级区划可以没有上级")})
            return
        if self.parent.level >= self.level:
            raise ValidationError({"parent": _("上级区划的级别必须高于本级")})
        if not self.code.startswith(self.parent.prefix):
            raise ValidationError({"code": _("区划代码必须以上级区划代码 %(p)s 开头") % {"p": self.parent.prefix}})

    def contains(self, other: Region) -> bool:
        return other.code.startswith(self.prefix)

    def full_name(self) -> str:
        """Names from the county down, e.g. 大姚县湾碧乡大村村 (from the reference cache)."""
        from regions.reference import reference_get

        def build() -> str:
            chain = list(Region.objects.ancestors_of(self).filter(level__gte=Level.COUNTY))
            return "".join(region.name for region in reversed(chain))

        return reference_get("regions", f"full_name:{self.code}", build)


class Role(models.TextChoices):
    VILLAGE_CLERK = "village_clerk", _("村级填报员")
    TOWNSHIP_ADMIN = "township_admin", _("乡镇管理员")
    COUNTY_VIEWER = "county_viewer", _("县级查看")
    COUNTY_ADMIN = "county_admin", _("县级管理员")
    CITY_VIEWER = "city_viewer", _("市/州查看")
    PROVINCE_VIEWER = "province_viewer", _("省级查看")
    SYSTEM_ADMIN = "system_admin", _("系统管理员")


# The level of region each role is placed at; system admins may sit anywhere.
ROLE_LEVEL: dict[str, int | None] = {
    Role.VILLAGE_CLERK: Level.VILLAGE,
    Role.TOWNSHIP_ADMIN: Level.TOWNSHIP,
    Role.COUNTY_VIEWER: Level.COUNTY,
    Role.COUNTY_ADMIN: Level.COUNTY,
    Role.CITY_VIEWER: Level.PREFECTURE,
    Role.PROVINCE_VIEWER: Level.PROVINCE,
    Role.SYSTEM_ADMIN: None,
}


# Whose accounts each administrating role keeps, inside its own subtree: never a role above its own,
# and never its own role (a county administrator's account is kept by the province's system administrator).
MANAGED_ROLES: dict[str, tuple[str, ...]] = {
    Role.TOWNSHIP_ADMIN: (Role.VILLAGE_CLERK,),
    Role.COUNTY_ADMIN: (Role.VILLAGE_CLERK, Role.TOWNSHIP_ADMIN, Role.COUNTY_VIEWER),
    Role.SYSTEM_ADMIN: tuple(role for role in Role if role != Role.SYSTEM_ADMIN),
}


class User(AbstractUser):
    """A staff account: one region, one role; the role's group carries the permissions."""

    region = models.ForeignKey(
        Region,
        verbose_name=_("所属区划"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    role = models.CharField(_("角色"), max_length=32, choices=Role.choices, blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    # Set when an administrator gives the account a one-time password: every page then leads to
    # the change-password page until the user has chosen their own (regions.middleware).
    must_change_password = models.BooleanField(_("须修改密码"), default=False)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def clean(self) -> None:
        super().clean()
        if self.is_superuser:
            return
        if not self.role:
            raise ValidationError({"role": _("请选择角色")})
        if self.region is None:
            raise ValidationError({"region": _("请选择所属区划")})
        expected = ROLE_LEVEL[self.role]
        if expected is not None and self.region.level != expected:
            raise ValidationError(
                {
                    "region": _("角色“%(role)s”应属于%(level)s级区划")
                    % {"role": self.get_role_display(), "level": Level(expected).label}
                }
            )

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        from regions.services import user_sync_role_group

        user_sync_role_group(user=self)

    def managed_roles(self) -> list[str]:
        """The roles of the accounts this user administers, lowest first (none for most roles)."""
        if self.is_superuser:
            return list(Role)
        if self.scope_prefix() is None:
            return []
        return list(MANAGED_ROLES.get(self.role, ()))

    def may_manage_accounts(self) -> bool:
        return bool(self.managed_roles())

    def may_edit_thresholds(self) -> bool:
        """County administrators set their county's 监测标准; system administrators anyone's."""
        return self.is_superuser or (self.is_active and self.role in (Role.COUNTY_ADMIN, Role.SYSTEM_ADMIN))

    def may_keep_reference_lists(self) -> bool:
        """County administrators keep their county's own 风险类型 and 帮扶措施."""
        return self.may_edit_thresholds() and self.region is not None and self.region.level == Level.COUNTY

    def scope_prefix(self) -> str | None:
        """Code prefix of the subtree this user may see; '' for everything, None for nothing."""
        if self.is_superuser or (self.role == Role.SYSTEM_ADMIN and self.region is None):
            return ""
        if self.region is None or not self.is_active:
            return None
        return self.region.prefix


class ScopedQuerySet(models.QuerySet[Any]):
    """Base for QuerySets of region-owned rows: `region_field` names the path to the Region."""

    region_field: str = "region"

    def in_region(self, region: Region) -> Any:
        return self.filter(**{f"{self.region_field}__code__startswith": region.prefix})

    def visible_to(self, user: Any) -> Any:
        """Only rows inside the user's subtree; nothing for anonymous or unplaced users."""
        prefix = user.scope_prefix() if user.is_authenticated else None
        if prefix is None:
            return self.none()
        if prefix == "":
            return self.all()
        return self.filter(**{f"{self.region_field}__code__startswith": prefix})


def regions_visible_to(user: Any) -> RegionQuerySet:
    """Regions inside the user's subtree."""
    prefix = user.scope_prefix() if user.is_authenticated else None
    if prefix is None:
        return RegionQuerySet(Region).none()
    return RegionQuerySet(Region).filter(code__startswith=prefix)


class DataVersion(models.Model):
    """How many times a county's data has changed: a figure computed from an older version is stale.

    Every write to a county's registers bumps it in the same transaction (`data_changed`).
    """

    county = models.OneToOneField(
        Region, verbose_name=_("县"), on_delete=models.CASCADE, primary_key=True, related_name="data_version"
    )
    version = models.BigIntegerField(_("数据版本"), default=0)
    changed_at = models.DateTimeField(_("最近修改时间"), null=True)

    class Meta:
        verbose_name = _("数据版本")
        verbose_name_plural = _("数据版本")

    def __str__(self) -> str:
        return f"{self.county_id} v{self.version}"


class DataChange(models.Model):
    """Which part of a county a change touched (a village's code prefix, or wider), by data version:
    precomputed facts are rebuilt for those parts only."""

    county = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+")
    version = models.BigIntegerField()
    prefix = models.CharField(max_length=12)
    changed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("数据变动")
        verbose_name_plural = _("数据变动")
        indexes = [models.Index(fields=["county", "version"])]

    def __str__(self) -> str:
        return f"{self.county_id} v{self.version} {self.prefix}"


class PasswordHistory(models.Model):
    """The hash of a password an account has had: a new password may not repeat the last few."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_history")
    password = models.CharField(_("密码"), max_length=128)
    set_at = models.DateTimeField(_("设置时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("历史密码")
        verbose_name_plural = _("历史密码")
        ordering = ["-set_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.user_id} {self.set_at:%Y-%m-%d %H:%M}"


class AuditKind(models.TextChoices):
    LOGIN = "login", _("登录")
    LOGIN_FAILED = "login_failed", _("登录失败")
    LOGOUT = "logout", _("退出")
    PASSWORD_CHANGED = "password_changed", _("修改密码")
    PASSWORD_RESET = "password_reset", _("重置密码")
    ACCOUNT_CREATED = "account_created", _("新建账号")
    ACCOUNT_CHANGED = "account_changed", _("修改账号")
    ACCOUNT_DEACTIVATED = "account_deactivated", _("停用账号")
    ACCOUNT_REACTIVATED = "account_reactivated", _("启用账号")
    ACCOUNT_UNLOCKED = "account_unlocked", _("解除登录锁定")
    THRESHOLD_CHANGED = "threshold_changed", _("修改监测标准")
    REFERENCE_CHANGED = "reference_changed", _("修改参考列表")
    PERSONAL_DATA_VIEWED = "personal_data_viewed", _("查看个人信息")


class AuditEventQuerySet(ScopedQuerySet):
    """Scoped by the acting account's region: attempts on unknown usernames are seen by system-wide roles only."""

    region_field = "region"


class AuditEvent(models.Model):
    """Something a reviewer asks about later: who signed in (or failed to), changed an account or a
    policy value, or opened a page with full 身份证号. Exports and imports keep their own records."""

    kind = models.CharField(_("事件"), max_length=32, choices=AuditKind.choices)
    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    # The account that acted; null for a login attempt on a username that does not exist.
    user = models.ForeignKey(
        User, verbose_name=_("用户"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    username = models.CharField(_("用户名"), max_length=150)
    # The acting account's region when it acted: what scopes the audit page.
    region = models.ForeignKey(
        Region, verbose_name=_("所属区划"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ip_address = models.GenericIPAddressField(_("IP地址"), null=True, blank=True)
    subject = models.CharField(_("对象"), max_length=200, blank=True)
    detail = models.CharField(_("说明"), max_length=500, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("审计事件")
        verbose_name_plural = _("审计事件")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.username} {self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"
