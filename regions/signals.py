"""Role groups are rebuilt after every migrate; `data_changed` tells other apps a county's data moved;
every login, failed login and logout is kept for the audit."""

from typing import Any

from django.dispatch import Signal
from django.http import HttpRequest

# Sent after the commit of a write that bumped a county's DataVersion: sender=None, county_code=str.
data_changed = Signal()


def ensure_role_groups(sender: Any, **kwargs: Any) -> None:
    from regions.services import role_groups_ensure

    role_groups_ensure()


def _address(request: HttpRequest | None) -> str | None:
    from regions.backends import login_client_address

    return login_client_address(request) if request is not None else None


def record_login(sender: Any, request: HttpRequest | None = None, user: Any = None, **kwargs: Any) -> None:
    from regions.models import AuditKind
    from regions.services import audit_record

    audit_record(kind=AuditKind.LOGIN, user=user, ip_address=_address(request))


def record_logout(sender: Any, request: HttpRequest | None = None, user: Any = None, **kwargs: Any) -> None:
    from regions.models import AuditKind
    from regions.services import audit_record

    # Set by SessionTimeoutMiddleware when it is the session's limit, not the user, that ends it.
    ended_by = getattr(request, "session_ended_by", None)
    detail = {"idle": "空闲超时，自动退出", "absolute": "登录时长已满，自动退出"}.get(ended_by or "", "")
    if user is not None:
        audit_record(kind=AuditKind.LOGOUT, user=user, ip_address=_address(request), detail=detail)


def record_login_failure(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    from regions.models import AuditKind, User
    from regions.services import audit_record

    username = str(credentials.get("username") or "")
    account = User.objects.filter(username=username).first() if username else None
    audit_record(kind=AuditKind.LOGIN_FAILED, user=account, username=username, ip_address=_address(request))
