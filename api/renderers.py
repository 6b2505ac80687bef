"""The API's JSON renderer: what DRF's JSONRenderer writes, written by orjson (about ten times faster on a page of
5,000 records, where the standard library's encoder was a fifth of the worker's time).

The output keeps DRF's choices: compact, UTF-8 rather than \\u escapes, U+2028 and U+2029 escaped. Every value
orjson does not write natively the way DRF does (datetimes, dates, times, decimals, lazy translations,
querysets, dataclasses, …) goes to DRF's own encoder, so it comes out as before; anything orjson refuses
(keys that are not text, integers beyond 64 bits, nesting deeper than 254) and pretty-printing (`Accept:
application/json; indent=4`) are left to DRF's renderer itself. One difference remains: a float NaN would be
written as null where DRF refuses it, and no model here holds a float. drf-orjson-renderer is not used: its fallback
writes null for a type it does not know and it lets orjson write datetimes its own way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

_DRF_DEFAULT = JSONEncoder().default
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class FastJSONRenderer(JSONRenderer):
    """DRF's JSONRenderer, byte for byte, through orjson."""

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Mapping[str, Any] | None = None
    ) -> bytes:
        if data is None:
            return b""
        if not self.compact or self.ensure_ascii or self.get_indent(accepted_media_type or "", renderer_context or {}):
            return super().render(data, accepted_media_type, renderer_context)
        try:
            body = orjson.dumps(data, default=_DRF_DEFAULT, option=_OPTIONS)
        except orjson.JSONEncodeError:
            return super().render(data, accepted_media_type, renderer_context)
        # As DRF does, so that the JSON is also valid JavaScript.
        return body.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")
