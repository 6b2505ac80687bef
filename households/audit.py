"""The audit an administrator reads: logins and account changes (regions), exports and imports, and
views of full personal data, each limited to the accounts of the administrator's subtree."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import QuerySet

from households.excel.models import ExportRecord
from households.personal_data import masked_text, may_view_personal_data
from regions.models import AuditKind, User
from regions.selectors import day_range
from regions.services import audit_record
from workbooks.models import ImportBatch

# The audit page's tabs: which events each lists.
ACCESS_KINDS = [AuditKind.LOGIN, AuditKind.LOGIN_FAILED, AuditKind.LOGOUT]
ACCOUNT_KINDS = [
    AuditKind.ACCOUNT_CREATED,
    AuditKind.ACCOUNT_CHANGED,
    AuditKind.ACCOUNT_DEACTIVATED,
    AuditKind.ACCOUNT_REACTIVATED,
    AuditKind.ACCOUNT_UNLOCKED,
    AuditKind.PASSWORD_RESET,
    AuditKind.PASSWORD_CHANGED,
    AuditKind.THRESHOLD_CHANGED,
    AuditKind.REFERENCE_CHANGED,
]
PERSONAL_KINDS = [AuditKind.PERSONAL_DATA_VIEWED]


def _by_accounts_visible_to(rows: QuerySet[Any], *, user: User, account_field: str) -> QuerySet[Any]:
    """Rows made by an account inside the user's subtree (the audit's scope: who acted, not what about)."""
    prefix = user.scope_prefix() if user.is_authenticated else None
    if prefix is None:
        return rows.none()
    if prefix == "":
        return rows
    return rows.filter(**{f"{account_field}__region__code__startswith": prefix})


def export_record_list(
    *, user: User, username: str = "", since: date | None = None, until: date | None = None
) -> QuerySet[ExportRecord]:
    records = _by_accounts_visible_to(ExportRecord.objects.all(), user=user, account_field="exported_by")
    if username:
        records = records.filter(exported_by__username=username)
    records = records.filter(
        **{f"exported_at__{key}": value for key, value in day_range(since=since, until=until).items()}
    )
    return records.select_related("exported_by", "region").order_by("-exported_at", "-pk")


def import_batch_list(
    *, user: User, username: str = "", since: date | None = None, until: date | None = None
) -> QuerySet[ImportBatch]:
    batches = _by_accounts_visible_to(ImportBatch.objects.all(), user=user, account_field="uploaded_by")
    if username:
        batches = batches.filter(uploaded_by__username=username)
    batches = batches.filter(
        **{f"created_at__{key}": value for key, value in day_range(since=since, until=until).items()}
    )
    return (
        batches.select_related("uploaded_by", "region")
        .only(
            "id",
            "kind",
            "status",
            "file_name",
            "created_at",
            "applied_at",
            "row_count",
            "error_count",
            "uploaded_by__username",
            "region__name",
        )
        .order_by("-created_at", "-pk")
    )


def personal_data_viewed(*, user: Any, subject: str, ip_address: str | None = None) -> None:
    """Keep that the user opened a page showing full 身份证号 and phone numbers (nothing when they saw them masked)."""
    if may_view_personal_data(user):
        audit_record(
            kind=AuditKind.PERSONAL_DATA_VIEWED, user=user, subject=masked_text(subject), ip_address=ip_address
        )


def audit_accounts(*, user: User) -> QuerySet[User]:
    """Accounts whose events the user may read, for the filter's list: their subtree's, themselves included."""
    prefix = user.scope_prefix()
    if prefix is None:
        return User.objects.none()
    accounts = User.objects.filter(region__code__startswith=prefix) if prefix else User.objects.all()
    return accounts.order_by("username").only("username", "first_name")
