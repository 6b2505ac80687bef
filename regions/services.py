"""Writes for regions and staff accounts."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from regions import signals
from regions.models import (
    AuditEvent,
    AuditKind,
    DataChange,
    DataVersion,
    Level,
    Region,
    Role,
    code_prefix,
    county_code_of,
)
from regions.passwords import one_time_password

if TYPE_CHECKING:
    from regions.models import User

# Models staff enter data for; write roles may add and change them, every role may view them.
DATA_MODELS = ["household", "member", "incomerecord", "monitoringcase"]
REFERENCE_MODELS = ["monitoringthreshold", "risktype", "assistancemeasure", "region"]
WRITE_ROLES = {Role.VILLAGE_CLERK, Role.TOWNSHIP_ADMIN, Role.COUNTY_ADMIN}
PERSONAL_DATA_ROLES = WRITE_ROLES | {Role.SYSTEM_ADMIN}
# County administrators see their accounts' login records and lift lockouts (django-axes).
LOGIN_RECORD_PERMISSIONS = {
    "axes.view_accessattempt",
    "axes.delete_accessattempt",
    "axes.view_accesslog",
    "axes.view_accessfailurelog",
}
# Assessment policy every role reads, and what a county administrator sets (targets, scoring, parameters).
ASSESSMENT_POLICY_MODELS = ["target", "scoringrule", "parametervalue"]
ASSESSMENT_READ = {f"assessment.view_{model}" for model in [*ASSESSMENT_POLICY_MODELS, "indicatorvalue", "regionscore"]}
# 特色产业 (issue 10): every role reads the registers; the services limit each write to the user's subtree.
INDUSTRY_MODELS = ["industry", "designation", "scaleplan", "scalereport", "participation"]
INDUSTRY_READ = {f"industries.view_{model}" for model in [*INDUSTRY_MODELS, "industrycategory", "scaleunit"]}
INDUSTRY_WRITES: dict[str, list[str]] = {
    Role.VILLAGE_CLERK: ["participation", "scalereport"],
    Role.TOWNSHIP_ADMIN: ["participation", "scalereport", "designation", "scaleplan"],
    Role.COUNTY_ADMIN: ["participation", "scalereport", "designation", "scaleplan", "industry"],
}
# Market entities and 双绑 (issue 10): every role reads them; a village clerk keeps their village's
# memberships and earnings; a township administrator also its entities, 致富带头人 and bindings.
COOPERATIVE_VILLAGE_MODELS = ["membership", "earning"]
COOPERATIVE_TOWNSHIP_MODELS = ["entity", "richleader", "binding"]
COOPERATIVE_READ = {
    f"cooperatives.view_{model}"
    for model in [
        *COOPERATIVE_VILLAGE_MODELS,
        *COOPERATIVE_TOWNSHIP_MODELS,
        "linkagetype",
        "joiningmethod",
        "earningkind",
    ]
}
# 衔接资金 and 村级集体经济 (issue 11): every role reads; the services limit each write to the user's subtree.
# A county administrator keeps the county's allocations (and splits them to townships); county and
# township administrators keep the projects, funding lines, payments, assets and village profiles of
# their area; a village clerk enters the village's collective income, which the township reviews.
FUND_MODELS = ["allocation", "project", "funding", "payment", "asset", "villageprofile", "collectiveincome"]
FUND_READ = {f"funds.view_{model}" for model in [*FUND_MODELS, "projecttype", "projectstep", "beneficiary"]}
FUND_PROJECT_WRITES = [
    "funds.add_project",
    "funds.change_project",
    *(f"funds.{action}_{model}" for model in ["funding", "payment", "asset"] for action in ("add", "change", "delete")),
    "funds.add_villageprofile",
    "funds.change_villageprofile",
]
FUND_WRITES: dict[str, set[str]] = {
    Role.VILLAGE_CLERK: {"funds.add_collectiveincome", "funds.change_collectiveincome"},
    Role.TOWNSHIP_ADMIN: {*FUND_PROJECT_WRITES, "funds.review_collectiveincome"},
    Role.COUNTY_ADMIN: {
        *FUND_PROJECT_WRITES,
        *(f"funds.{action}_allocation" for action in ("add", "change", "delete")),
    },
}


def role_permission_codenames(role: str) -> set[str]:
    """The permission codenames (app_label.codename) that a role's group holds."""
    if role == Role.SYSTEM_ADMIN:
        return {f"{p.content_type.app_label}.{p.codename}" for p in Permission.objects.select_related("content_type")}
    codenames = {f"households.view_{model}" for model in DATA_MODELS}
    codenames |= {f"households.view_{model}" for model in REFERENCE_MODELS[:3]}
    codenames.add("regions.view_region")
    codenames |= ASSESSMENT_READ
    codenames |= COOPERATIVE_READ
    if role in WRITE_ROLES:
        codenames |= {f"households.{action}_{model}" for model in DATA_MODELS for action in ("add", "change")}
        codenames |= {
            f"cooperatives.{action}_{model}" for model in COOPERATIVE_VILLAGE_MODELS for action in ("add", "change")
        }
    if role in {Role.TOWNSHIP_ADMIN, Role.COUNTY_ADMIN}:
        codenames |= {
            f"cooperatives.{action}_{model}" for model in COOPERATIVE_TOWNSHIP_MODELS for action in ("add", "change")
        }
    if role in PERSONAL_DATA_ROLES:
        codenames.add("households.view_personal_data")
    codenames |= INDUSTRY_READ
    codenames |= {
        f"industries.{action}_{model}"
        for model in INDUSTRY_WRITES.get(role, [])
        # The catalogue is never deleted (rows refer to it): an industry is retired by 停用.
        for action in (("add", "change") if model == "industry" else ("add", "change", "delete"))
    }
    codenames |= FUND_READ
    codenames |= FUND_WRITES.get(role, set())
    if role == Role.COUNTY_ADMIN:
        codenames |= LOGIN_RECORD_PERMISSIONS
        codenames |= {
            f"assessment.{action}_{model}"
            for model in ASSESSMENT_POLICY_MODELS
            for action in ("add", "change", "delete")
        }
        codenames.add("assessment.add_computerun")
    return codenames


def role_groups_ensure() -> None:
    """Create or refresh one group per role with exactly the role's permissions."""
    permissions = {
        f"{p.content_type.app_label}.{p.codename}": p for p in Permission.objects.select_related("content_type")
    }
    for role in Role:
        group, _ = Group.objects.get_or_create(name=role.label)
        wanted = [permissions[c] for c in role_permission_codenames(role) if c in permissions]
        group.permissions.set(wanted)


def user_sync_role_group(*, user: User) -> None:
    """Keep the user in exactly the group of their role (and staff, so the admin opens)."""
    role_groups = Group.objects.filter(name__in=[role.label for role in Role])
    wanted = Group.objects.filter(name=Role(user.role).label) if user.role else Group.objects.none()
    with transaction.atomic():
        user.groups.remove(*role_groups.exclude(pk__in=wanted.values("pk")))
        user.groups.add(*wanted)


def data_changed(*, codes: Iterable[str]) -> None:
    """Bump the data version of every county these region codes lie in, in the caller's
    transaction, record which parts of it changed, and tell listeners (the assessment's debounced
    recompute) once it commits."""
    codes = {code for code in codes if len(code) >= 6}
    counties = sorted({county_code_of(code) for code in codes})
    if not counties:
        return
    levels = dict(Region.objects.filter(code__in=codes).values_list("code", "level"))
    now = timezone.now()
    for county in Region.objects.filter(code__in=counties, level=Level.COUNTY).only("pk", "code"):
        updated = DataVersion.objects.filter(county=county).update(version=F("version") + 1, changed_at=now)
        if not updated:
            DataVersion.objects.get_or_create(county=county, defaults={"version": 1, "changed_at": now})
        version = DataVersion.objects.values_list("version", flat=True).get(county=county)
        prefixes = {
            code_prefix(code, max(levels.get(code, Level.COUNTY), Level.COUNTY))
            for code in codes
            if county_code_of(code) == county.code
        }
        DataChange.objects.bulk_create(
            [DataChange(county=county, version=version, prefix=prefix, changed_at=now) for prefix in sorted(prefixes)]
        )

        def announce(county_code: str = county.code) -> None:
            signals.data_changed.send(sender=None, county_code=county_code)

        transaction.on_commit(announce)


def data_changes_prune(*, older_than_days: int = 30) -> int:
    """Forget old change records; facts older than what is left are rebuilt whole."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    return DataChange.objects.filter(changed_at__lt=cutoff).delete()[0]


def region_create(*, code: str, name: str, level: int, parent: Region | None) -> Region:
    region = Region(code=code, name=name, level=level, parent=parent)
    region.full_clean()
    region.save()
    return region


def user_create(*, username: str, password: str, role: str, region: Region | None, full_name: str = "") -> User:
    from regions.models import User

    user = User(username=username, role=role, region=region, first_name=full_name, is_staff=True)
    user.set_password(password)
    user.full_clean()
    user.save()
    return user


def audit_record(
    *,
    kind: str,
    user: User | None,
    username: str = "",
    subject: str = "",
    detail: str = "",
    ip_address: str | None = None,
) -> AuditEvent:
    """Keep one audit event; the acting account's region at this moment is what scopes it later."""
    return AuditEvent.objects.create(
        kind=kind,
        user=user,
        username=(user.username if user is not None else username)[:150],
        region_id=user.region_id if user is not None else None,
        ip_address=ip_address or None,
        subject=subject[:200],
        detail=detail[:500],
    )


def _check_managed(*, by: User, role: str, region: Region | None) -> None:
    """Refuse a role the administrator does not keep, or a region outside their subtree."""
    if role not in by.managed_roles():
        raise ValidationError({"role": "无权设置该角色"})
    prefix = by.scope_prefix()
    if prefix is None or (region is not None and not region.code.startswith(prefix)):
        raise ValidationError({"region": "只能选择本辖区内的区划"})


def _describe(account: User) -> dict[str, str]:
    return {
        "姓名": account.first_name,
        "角色": account.get_role_display(),
        "所属区划": account.region.name if account.region else "",
        "联系电话": account.phone,
    }


@transaction.atomic
def account_create(
    *,
    by: User,
    username: str,
    full_name: str,
    role: str,
    region: Region,
    phone: str = "",
    ip_address: str | None = None,
) -> tuple[User, str]:
    """A new account in the administrator's subtree, with a one-time password it must change at first login."""
    from regions.models import User

    _check_managed(by=by, role=role, region=region)
    password = one_time_password()
    account = User(
        username=username,
        first_name=full_name,
        role=role,
        region=region,
        phone=phone,
        is_staff=True,
        must_change_password=True,
    )
    account.set_password(password)
    account.full_clean()
    account.save()
    summary = "；".join(f"{label}：{value}" for label, value in _describe(account).items() if value)
    audit_record(
        kind=AuditKind.ACCOUNT_CREATED, user=by, subject=account.username, detail=summary, ip_address=ip_address
    )
    return account, password


@transaction.atomic
def account_update(
    *,
    by: User,
    account: User,
    full_name: str,
    role: str,
    region: Region,
    phone: str = "",
    ip_address: str | None = None,
) -> User:
    """Change an account's name, role, region or phone; the audit says what moved from what to what."""
    _check_managed(by=by, role=account.role, region=account.region)
    _check_managed(by=by, role=role, region=region)
    before = _describe(account)
    account.first_name, account.role, account.region, account.phone = full_name, role, region, phone
    account.full_clean()
    account.save()
    after = _describe(account)
    changes = [
        f"{label}：{before[label] or '（空）'} → {after[label] or '（空）'}"
        for label in after
        if before[label] != after[label]
    ]
    if changes:
        audit_record(
            kind=AuditKind.ACCOUNT_CHANGED,
            user=by,
            subject=account.username,
            detail="；".join(changes),
            ip_address=ip_address,
        )
    return account


@transaction.atomic
def account_set_active(*, by: User, account: User, active: bool, ip_address: str | None = None) -> User:
    """停用 or 启用 an account; a deactivated account's sessions end with its next request."""
    _check_managed(by=by, role=account.role, region=account.region)
    if account.is_active != active:
        account.is_active = active
        account.save(update_fields=["is_active"])
        kind = AuditKind.ACCOUNT_REACTIVATED if active else AuditKind.ACCOUNT_DEACTIVATED
        audit_record(kind=kind, user=by, subject=account.username, ip_address=ip_address)
    return account


@transaction.atomic
def account_unlock(*, by: User, account: User, ip_address: str | None = None) -> int:
    """Lift the login lockout (django-axes) of an account from every address; how many locks were lifted."""
    from axes.utils import reset

    _check_managed(by=by, role=account.role, region=account.region)
    lifted = reset(username=account.username)
    if lifted:
        audit_record(kind=AuditKind.ACCOUNT_UNLOCKED, user=by, subject=account.username, ip_address=ip_address)
    return lifted


@transaction.atomic
def account_password_reset(*, by: User, account: User, ip_address: str | None = None) -> str:
    """Give the account a one-time password, shown once to the administrator; it must be changed at next login.

    A login lockout is lifted with it: the failures were against the old password, and a clerk locked out
    after forgetting it would otherwise find the new one refused too."""
    _check_managed(by=by, role=account.role, region=account.region)
    password = one_time_password()
    account.set_password(password)
    account.must_change_password = True
    account.save(update_fields=["password", "must_change_password"])
    audit_record(kind=AuditKind.PASSWORD_RESET, user=by, subject=account.username, ip_address=ip_address)
    account_unlock(by=by, account=account, ip_address=ip_address)
    return password


@transaction.atomic
def password_change(*, user: User, password: str, ip_address: str | None = None) -> None:
    """The user's own new password (already validated against the policy); ends a required change."""
    user.set_password(password)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
    audit_record(kind=AuditKind.PASSWORD_CHANGED, user=user, subject=user.username, ip_address=ip_address)


__all__ = ["Level", "data_changed", "region_create", "role_groups_ensure", "user_create", "user_sync_role_group"]
