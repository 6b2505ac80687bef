"""The shape every industries register page shares: a filtered list, a detail page with its history,
a form for adding and editing (the save is a service call), a confirmation for removing."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from industries import filters, selectors
from industries.forms import DeleteForm, RowForm

PAGE_SIZE = 50


def apply_errors(form: RowForm, error: ValidationError) -> None:
    """Show a service's refusal on the fields it names, the rest above the form."""
    if hasattr(error, "error_dict"):
        for name, errors in error.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def require_permission(user: Any, codename: str) -> None:
    """403 for a role without the permission; pages call it after looking the row up, so that an id
    outside the user's subtree is 404 whatever their role."""
    if not user.has_perm(codename):
        raise PermissionDenied("您的角色没有此操作权限")


def query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def register_list(
    request: HttpRequest,
    *,
    tab: str,
    filterset_class: type[filters.ScopedFilterSet],
    rows: Any,
    template: str,
    can_add: bool,
) -> HttpResponse:
    """A filtered, paged list; with one industry chosen, the total scale of every row it matches."""
    filterset = filterset_class(request.GET or None, queryset=rows, request=request)
    matched = filterset.qs
    page = Paginator(matched, PAGE_SIZE).get_page(request.GET.get("page"))
    industry = filterset.form.cleaned_data.get("industry") if filterset.is_bound and filterset.is_valid() else None
    sums = hasattr(rows.model, "scale")  # a scale is added up only within one industry (one unit)
    total = selectors.scale_total(matched) if industry is not None and sums else None
    return render(
        request,
        template,
        {
            "tab": tab,
            "filter": filterset,
            "page": page,
            "industry": industry,
            "sums": sums,
            "total": total,
            "query": query_without_page(request),
            "can_add": can_add,
            "show_county": filters.sees_several_counties(request.user),
        },
    )


def register_detail(
    request: HttpRequest, *, tab: str, row: Model, title: str, fields: list[tuple[Any, ...]], urls: dict[str, str]
) -> HttpResponse:
    return render(
        request,
        "industries/detail.html",
        {
            "tab": tab,
            "row": row,
            "title": title,
            "fields": fields,
            "history": selectors.row_history(instance=row, user=request.user),
            **urls,
        },
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
    template: str = "industries/form.html",
    saved: str = "已保存",
) -> HttpResponse:
    """Show the form; on a valid post call `save(cleaned_data)` (a service) and go to `done(row)`."""
    if request.method == "POST" and form.is_valid():
        try:
            row = save(form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"{saved}：{title}")
            return redirect(done(row))
    return render(
        request,
        template,
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
    template: str = "industries/delete.html",
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
        template,
        {"tab": tab, "row": row, "title": title, "form": form, "cancel_url": cancel_url},
    )


def edit_initial(row: Model, names: list[str]) -> dict[str, Any]:
    """An edit form's starting values: the row's, with the version it was read at (scales as 12, not 12.00)."""
    values = {name: getattr(row, name) for name in names}
    shown = {name: f"{value.normalize():f}" if isinstance(value, Decimal) else value for name, value in values.items()}
    return {"version": getattr(row, "version", None), **shown}
