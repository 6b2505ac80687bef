"""Account pages: an administrator keeps the accounts of their subtree; everyone changes their own password."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from regions import selectors, services
from regions.backends import login_client_address
from regions.forms import AccountFilterForm, AccountForm, OwnPasswordChangeForm
from regions.models import User


def _administrator(request: HttpRequest) -> User:
    """The signed-in user if they keep accounts; 404 otherwise (the pages do not exist for them)."""
    user: User = request.user  # type: ignore[assignment]
    if not user.may_manage_accounts():
        raise Http404
    return user


def _apply_errors(form: Any, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def _one_time_password_page(request: HttpRequest, *, account: User, password: str, created: bool) -> HttpResponse:
    """The one time the password is shown: never cached, never stored in a message."""
    response = render(
        request, "regions/account_password.html", {"account": account, "password": password, "created": created}
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
def account_list(request: HttpRequest) -> HttpResponse:
    user = _administrator(request)
    form = AccountFilterForm(request.GET or None, user=user)
    accounts = selectors.account_list(user=user, **form.selector_filters())
    page = Paginator(accounts, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request, "regions/account_list.html", {"filter": {"form": form}, "page": page, "query": query.urlencode()}
    )


@login_required
@require_http_methods(["GET", "POST"])
def account_create(request: HttpRequest) -> HttpResponse:
    user = _administrator(request)
    form = AccountForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            account, password = services.account_create(
                by=user,
                username=data["username"],
                full_name=data["full_name"],
                role=data["role"],
                region=data["region"],
                phone=data["phone"],
                ip_address=login_client_address(request),
            )
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            return _one_time_password_page(request, account=account, password=password, created=True)
    return render(request, "regions/account_form.html", {"form": form, "title": "新建账号"})


@login_required
@require_http_methods(["GET", "POST"])
def account_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _administrator(request)
    account = selectors.account_get(user=user, pk=pk)
    initial = {"full_name": account.first_name, "role": account.role, "region": account.region, "phone": account.phone}
    form = AccountForm(request.POST or None, user=user, account=account, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.account_update(
                by=user,
                account=account,
                full_name=data["full_name"],
                role=data["role"],
                region=data["region"],
                phone=data["phone"],
                ip_address=login_client_address(request),
            )
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, f"账号 {account.username} 已保存")
            return redirect("account_list")
    events = selectors.audit_event_list(user=user).filter(subject=account.username)[:20]
    return render(
        request,
        "regions/account_form.html",
        {
            "form": form,
            "title": f"账号 {account.username}",
            "account": account,
            "events": events,
            "locked_out": selectors.account_locked_out(account=account),
        },
    )


@login_required
@require_POST
def account_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    user = _administrator(request)
    account = selectors.account_get(user=user, pk=pk)
    active = request.POST.get("active") == "1"
    services.account_set_active(by=user, account=account, active=active, ip_address=login_client_address(request))
    messages.success(request, f"账号 {account.username} 已{'启用' if active else '停用'}")
    return redirect("account_edit", pk=account.pk)


@login_required
@require_POST
def account_unlock(request: HttpRequest, pk: int) -> HttpResponse:
    user = _administrator(request)
    account = selectors.account_get(user=user, pk=pk)
    services.account_unlock(by=user, account=account, ip_address=login_client_address(request))
    messages.success(request, f"账号 {account.username} 的登录锁定已解除")
    return redirect("account_edit", pk=account.pk)


@login_required
@require_POST
def account_password_reset(request: HttpRequest, pk: int) -> HttpResponse:
    user = _administrator(request)
    account = selectors.account_get(user=user, pk=pk)
    password = services.account_password_reset(by=user, account=account, ip_address=login_client_address(request))
    return _one_time_password_page(request, account=account, password=password, created=False)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    """Any user's own password; the only page open to an account that must change its one-time password."""
    user: User = request.user  # type: ignore[assignment]
    form = OwnPasswordChangeForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.password_change(
            user=user, password=form.cleaned_data["new_password1"], ip_address=login_client_address(request)
        )
        update_session_auth_hash(request, user)
        messages.success(request, "密码已修改")
        return redirect("home")
    return render(request, "regions/password_change.html", {"form": form, "required": user.must_change_password})
