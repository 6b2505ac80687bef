"""The shape every funds page shares: a filtered list, a detail page with its history, a form whose
save is one service call, a confirmation for removing, and a POST that moves a row on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Model, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from funds.selectors.history import row_history
from industries.filters import ScopedFilterSet, sees_several_counties
from industries.views.registers import apply_errors as apply_errors
from industries.views.registers import query_without_page
from industries.views.registers import register_delete as _register_delete
from industries.views.registers import register_form as _register_form
from industries.views.registers import require_permission as require_permission

PAGE_SIZE = 50


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


def register_form(request: HttpRequest, **options: Any) -> HttpResponse:
    """industries' register form (one service call per save) on the funds template."""
    return _register_form(request, template="funds/form.html", **options)


def register_delete(request: HttpRequest, **options: Any) -> HttpResponse:
    """industries' removal confirmation on the funds template."""
    return _register_delete(request, template="funds/delete.html", **options)
