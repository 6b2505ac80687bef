"""One error shape for every API error: {"code", "message" (Chinese), "errors": [{"field"/"row", "message"}]}."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

NOT_FOUND = "记录不存在或不在您的管辖范围内"

# The message for each kind of error; validation and authentication carry their own details.
MESSAGES: dict[type[exceptions.APIException], tuple[str, str]] = {
    exceptions.NotFound: ("not_found", NOT_FOUND),
    exceptions.NotAuthenticated: (
        "not_authenticated",
        "未提供访问令牌，请在请求头中携带“Authorization: Bearer <令牌>”",
    ),
    exceptions.PermissionDenied: ("permission_denied", "无权执行此操作"),
    exceptions.MethodNotAllowed: ("method_not_allowed", "不支持该请求方法"),
    exceptions.ValidationError: ("invalid", "提交的数据有误"),
    exceptions.ParseError: ("parse_error", "请求内容无法解析"),
    exceptions.UnsupportedMediaType: ("unsupported_media_type", "不支持该请求内容类型"),
    exceptions.NotAcceptable: ("not_acceptable", "无法按请求的格式返回"),
}


def _flatten(detail: Any, *, field: str | None = None, row: int | None = None) -> list[dict[str, Any]]:
    """DRF's nested error details as a flat list of {"row"?, "field"?, "message"}."""
    if isinstance(detail, dict):
        return [item for key, value in detail.items() for item in _flatten(value, field=_join(field, key), row=row)]
    if isinstance(detail, list):
        if detail and all(isinstance(item, dict) for item in detail) and field is None and row is None:
            # A batch: one error dict per row (empty for rows without errors).
            return [item for index, value in enumerate(detail) for item in _flatten(value, row=index + 1)]
        return [item for value in detail for item in _flatten(value, field=field, row=row)]
    entry: dict[str, Any] = {"message": str(detail)}
    if row is not None:
        entry["row"] = row
    if field is not None and field != "non_field_errors":
        entry["field"] = field
    return [entry]


def _join(parent: str | None, key: Any) -> str:
    return str(key) if parent is None else f"{parent}.{key}"


def error_body(code: str, message: str, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "errors": errors or []}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler (status, Retry-After, WWW-Authenticate) with the body rewritten to the one shape."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    response.data = error_body(*_code_and_message(exc), _details(exc))
    return response


def _code_and_message(exc: exceptions.APIException) -> tuple[str, str]:
    if isinstance(exc, exceptions.Throttled):
        seconds = getattr(exc, "wait", None)
        wait = f"，请在 {seconds:.0f} 秒后重试" if seconds is not None else "，请稍后重试"
        return "throttled", f"请求过于频繁{wait}"
    if isinstance(exc, exceptions.AuthenticationFailed):
        return "authentication_failed", str(exc.detail)
    if isinstance(exc, exceptions.PermissionDenied) and str(exc.detail) != str(
        exceptions.PermissionDenied.default_detail
    ):
        return "permission_denied", str(exc.detail)
    for kind, (code, message) in MESSAGES.items():
        if isinstance(exc, kind):
            return code, message
    return str(exc.default_code), str(exc.detail)


def _details(exc: exceptions.APIException) -> list[dict[str, Any]]:
    return _flatten(exc.detail) if isinstance(exc, exceptions.ValidationError) else []
