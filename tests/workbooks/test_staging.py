"""The staged values' JSON: what the standard encoder writes, with amounts, dates and UUIDs as apply.py reads them."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from decimal import Decimal

from workbooks.staging import _encode_json, _json_default


def test_staged_values_are_encoded_as_the_standard_encoder_writes_them() -> None:
    values = {
        "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "amount": Decimal("1234.50"),
        "birth_date": date(1990, 1, 31),
        "at": datetime(2026, 11, 30, 8, 5),
        "name": '张"三\\\n\t',
        "none": None,
        "flag": True,
        "count": 3,
        "_risk_type_ids": [1, 2],
    }
    standard = json.dumps(values, ensure_ascii=False, separators=(",", ":"), default=_json_default)
    assert _encode_json(values) == standard
    assert json.loads(standard)["amount"] == "1234.50" and json.loads(standard)["uuid"] == "1234567812345678" * 2
