"""What every cooperatives page does the same way: service errors onto forms, paging."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.http import HttpRequest

PAGE_SIZE = 50


def apply_errors(form: Any, error: ValidationError) -> None:
    """Show a service's ValidationError on the form's fields where it names them."""
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def paginate(request: HttpRequest, rows: Any, *, per_page: int = PAGE_SIZE) -> tuple[Page, str]:
    """The page of rows asked for, and the query string of the filters without the page number."""
    page = Paginator(rows, per_page).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()
