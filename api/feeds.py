"""The change feed over HTTP: `GET /api/v1/<resource>/changes/?since=<cursor>&limit=`.

Which rows changed comes from the change log (changes.feed: exact, in a stable order, never behind a
cursor already handed out); what is served for each is its record as the read endpoints serialize it
now, for this client (same scope, same masking), or a tombstone when the row is gone or no longer
visible to the client (deleted, or moved out of its region). A record served newer than its change is
served again with its later change, so applying the feed in order always ends at the current state.
"""

from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError

from api import fast
from api.resources import Resource
from changes import feed
from changes.models import Op
from households.personal_data import may_view_personal_data

DEFAULT_LIMIT = 500
MAX_LIMIT = 5000

UPSERT = "upsert"
DELETE = "delete"


class CursorGone(APIException):
    status_code = status.HTTP_410_GONE
    default_code = "cursor_expired"
    default_detail = "同步游标之后的变更记录已被清理，请重新全量同步（先取当前游标，再读取全部记录）"


def codes_above(prefix: str) -> list[str]:
    """The 12-digit codes of the regions above a client of region prefix `prefix` (532326 → 530000…, 532300…)."""
    return [prefix[:length].ljust(12, "0") for length in (2, 4, 6, 9) if length < len(prefix)]


def feed_page(*, resource: Resource, principal: Any, since: str | None, limit: int) -> dict[str, Any]:
    """One page of the resource's feed for the principal: changes after `since`, or the current cursor."""
    prefix = principal.scope_prefix()
    personal = may_view_personal_data(principal)
    if since is None:
        # Where a full sync starts: take this cursor, then read every record, then follow the feed from it.
        return {"cursor": feed.current_cursor(), "has_more": False, "personal_data": personal, "changes": []}
    if prefix is None:
        raise CursorGone()  # unreachable for an authenticated client; a deactivated one is refused earlier
    codes = codes_above(prefix) if resource.inherited else []
    try:
        page = feed.read(resource.feed_name, prefix, since, limit, codes)
    except feed.InvalidCursor as error:
        raise ValidationError({"since": [str(error)]}) from error
    except feed.CursorExpired as error:
        raise CursorGone() from error
    wanted = [item.row_id for item in page.items if item.op != Op.DELETE]
    found = fast.records(resource, resource.rows(principal).filter(pk__in=wanted), principal) if wanted else []
    records = {record["id"]: record for record in found}
    changes: list[dict[str, Any]] = []
    for item in page.items:
        record = records.get(item.row_id)
        if record is None:
            changes.append({"id": item.row_id, "op": DELETE})
        else:
            changes.append({"id": item.row_id, "op": UPSERT, "record": record})
    return {"cursor": page.next_cursor, "has_more": page.has_more, "personal_data": personal, "changes": changes}


def feed_response_serializer(resource: Resource, name: str) -> Any:
    """The documented shape of a page of the resource's feed."""
    from drf_spectacular.utils import inline_serializer
    from rest_framework import serializers

    change = inline_serializer(
        name=f"{name}Change",
        many=True,
        fields={
            "id": serializers.IntegerField(help_text="记录 id"),
            "op": serializers.ChoiceField(
                choices=[(UPSERT, "新增或修改"), (DELETE, "删除或移出管辖区划")],
                help_text="upsert：新增或修改，record 为记录现状（与列表、详情接口相同的字段和脱敏）；"
                "delete：墓碑——记录已删除，或已移出客户端的管辖区划，没有 record",
            ),
            "record": resource.serializer(required=False, help_text=f"{resource.title}记录（op 为 upsert 时）"),
        },
        help_text="变更，按发生顺序；同一记录在一页中只出现一次（其最新状态）",
    )
    return inline_serializer(
        name=f"{name}ChangePage",
        fields={
            "cursor": serializers.CharField(help_text="游标：下次请求以 since=此值 继续；应持久保存"),
            "has_more": serializers.BooleanField(
                help_text="true：还有已确定的变更，立即以新游标继续；false：已取完，稍后再以新游标请求"
            ),
            "personal_data": serializers.BooleanField(
                help_text="客户端是否可查看个人信息；false 时记录中的身份证号、电话、出生日期已脱敏"
            ),
            "changes": change,
        },
    )
