"""接口冲突 pages: county and township administrators see the open conflicts of their subtree and resolve each
field by field (keep ours / take theirs); personal data masked by role as on every page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from api import conflicts
from api.models import ConflictStatus
from households.personal_data import PERSONAL_FIELDS, may_view_personal_data, shown, text_shown_to

PER_PAGE = 50


def _require_resolver(request: HttpRequest) -> None:
    if not conflicts.may_resolve_conflicts(request.user):
        raise PermissionDenied("只有县级、乡镇管理员可以查看和处理接口冲突")


def _shown_value(key: str, value: Any, reveal: bool) -> str:
    if value is None or value == "":
        return "（空）"
    if isinstance(value, list):
        return "、".join(str(item) for item in value) or "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    name = key.rsplit(".", 1)[-1]
    text = str(value)
    return shown(name, text, reveal=reveal) if name in PERSONAL_FIELDS else text


@login_required
def conflict_list(request: HttpRequest) -> HttpResponse:
    _require_resolver(request)
    status = request.GET.get("status", ConflictStatus.OPEN)
    if status not in ConflictStatus.values and status != "all":
        status = ConflictStatus.OPEN
    rows = conflicts.conflict_list(user=request.user, status="" if status == "all" else status)
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    for conflict in page:
        conflict.shown_label = text_shown_to(request.user, conflict.record_label)  # type: ignore[attr-defined]
        conflict.shown_fields = "、".join(  # type: ignore[attr-defined]
            text_shown_to(request.user, field["label"]) for field in conflict.fields
        )
    return render(
        request,
        "api/conflict_list.html",
        {"page": page, "status": status, "statuses": [*ConflictStatus.choices, ("all", "全部")]},
    )


@login_required
def conflict_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_resolver(request)
    conflict = conflicts.conflict_get(user=request.user, pk=pk)
    if request.method == "POST":
        if conflict.status != ConflictStatus.OPEN:
            messages.error(request, "该冲突已处理")
            return redirect("api_conflict_detail", pk=conflict.pk)
        choices = {field["key"]: request.POST.get(f"choice-{index}", "") for index, field in enumerate(conflict.fields)}
        try:
            conflicts.conflict_resolve(
                conflict=conflict,
                user=request.user,
                choices=choices,
                conflict_version=int(request.POST.get("conflict_version") or 0),
                record_version=int(request.POST.get("record_version") or 0),
            )
        except ValidationError as error:
            messages.error(request, text_shown_to(request.user, "；".join(error.messages)))
            return redirect("api_conflict_detail", pk=conflict.pk)
        messages.success(request, f"冲突 #{conflict.pk} 已处理，结果已写入并记入修改历史")
        return redirect("api_conflict_list")
    reveal = may_view_personal_data(request.user)
    instance, rows = conflicts.conflict_rows(conflict=conflict, user=request.user)
    shown_rows = [
        {
            "index": index,
            "label": text_shown_to(request.user, row["label"]),
            "base": _shown_value(row["key"], row["base"], reveal),
            "ours": _shown_value(row["key"], row["ours"], reveal),
            "theirs": _shown_value(row["key"], row["theirs"], reveal),
            "chosen": (conflict.resolution or {}).get(row["key"], ""),
        }
        for index, row in enumerate(rows)
    ]
    return render(
        request,
        "api/conflict_detail.html",
        {
            "conflict": conflict,
            "label": text_shown_to(request.user, conflict.record_label),
            "rows": shown_rows,
            "record": instance,
            "record_version": getattr(instance, "version", 0),
        },
    )
