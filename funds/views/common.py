"""The shape every funds page shares: a filtered list, a detail page with its history, a form whose
save is one service call, a confirmation for removing, and a POST that moves a row on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Model, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from funds.selectors.history import row_history
from industries.filters import ScopedFilterSet, sees_several_counties
from industries.forms import DeleteForm, RowForm

PAGE_SIZE = 50


def require_permission(user: Any, codename: str) -> None:
    """403 for a role without the permission; pages call it after looking the row up, so that an id
    outside the user's subtree is 404 whatever the role."""
    if not user.has_perm(codename):
        raise PermissionDenied("您的角色没有此操作权限")


def apply_errors(form: RowForm, error: ValidationError) -> None:
    """Show a service's refusal on the fields it names, the rest above the form."""
    if hasattr(error, "error_dict"):
        for name, errors in error.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def register_list(
    request: HttpRequest,
    *,
    tab: str,
    filterset_class: type[ScopedFilterSet],
    rows: Any,
    template: str,
    sums: str | None = None,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    """A filtered, paged list; with `sums`, the total of that amount over every row the filter matches."""
    filterset = filterset_class(request.GET or None, queryset=rows, request=request)
    matched = filterset.qs
    page = Paginator(matched, PAGE_SIZE).get_page(request.GET.get("page"))
    total = matched.order_by().aggregate(total=Sum(sums))["total"] if sums else None
    return render(
        request,
        template,
        {
            "tab": tab,
            "filter": filterset,
            "page": page,
            "query": query_without_page(request),
            "show_county": sees_several_counties(request.user),
            "total": total,
            **(extra or {}),
        },
    )


def register_detail(
    request: HttpRequest, *, tab: str, row: Model, title: str, template: str, context: dict[str, Any]
) -> HttpResponse:
    return render(
        request,
        template,
        {"tab": tab, "row": row, "title": title, "history": row_history(instance=row, user=request.user), **context},
    )


def register_form(
    request: HttpRequest,
    *,
    tab: str,
    form: RowForm,
    title: str,
    save: Callable[[dict[str, Any]], Any],
    done: Callable[[Any], str],
    cancel_url: str,
    context: dict[str, Any] | None = None,
    saved: str = "已保存",
) -> HttpResponse:
    """Show the form; on a valid post call `save(cleaned_data)` (a service) and go to `done(result)`."""
    if request.method == "POST" and form.is_valid():
        try:
            result = save(form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"{saved}：{title}")
            return redirect(done(result))
    return render(
        request,
        "funds/form.html",
        {"tab": tab, "form": form, "title": title, "cancel_url": cancel_url, **(context or {})},
    )


def register_delete(
    request: HttpRequest,
    *,
    tab: str,
    row: Model,
    title: str,
    delete: Callable[[int], None],
    done_url: str,
    cancel_url: str,
) -> HttpResponse:
    """GET asks to confirm; POST (with the version the page showed) removes through the service."""
    form = DeleteForm(request.POST or None, initial={"version": getattr(row, "version", None)})
    if request.method == "POST" and form.is_valid():
        try:
            delete(form.cleaned_data["version"])
        except ValidationError as error:
            messages.error(request, "；".join(error.messages))
            return redirect(cancel_url)
        messages.success(request, f"已删除：{title}")
        return redirect(done_url)
    return render(
        request,
        "funds/delete.html",
        {"tab": tab, "row": row, "title": title, "form": form, "cancel_url": cancel_url},
    )


def post_action(
    request: HttpRequest, *, form: forms.Form, act: Callable[[dict[str, Any]], Any], done_url: str, success: str
) -> HttpResponse:
    """A button that moves a row on (submit, approve, advance …): the outcome is told on the row's page."""
    if not form.is_valid():
        for name, errors in form.errors.items():
            label = form.fields[name].label if name in form.fields and not form.fields[name].widget.is_hidden else ""
            messages.error(request, "；".join(f"{label}：{error}" if label else str(error) for error in errors))
        return redirect(done_url)
    try:
        act(form.cleaned_data)
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
    else:
        messages.success(request, success)
    return redirect(done_url)
