"""The API's one request parser: DRF's JSON parser, with a body nested too deep refused like any other bad JSON."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class JsonParser(JSONParser):
    """JSONParser turns a ValueError into 400; Python's decoder raises RecursionError (a 500) past ~1,000 levels."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise ParseError("请求内容嵌套层数过多") from error
