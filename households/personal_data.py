"""Personal data (身份证号, phone numbers, birth dates): who may see it, and what everyone else sees.

This is the one place that decides; pages, the admin, history views and previews all ask it.
Roles without `households.view_personal_data` see masked numbers and an age instead of a birth
date — the birth date is exactly the digits a masked 身份证号 hides.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from households.id_numbers import mask_id_number, mask_phone

PERMISSION = "households.view_personal_data"
# contact_phone: a market entity's contact (cooperatives.Entity).
PHONE_FIELDS = frozenset({"phone", "helper_phone", "contact_phone"})
PERSONAL_FIELDS = frozenset({"id_number", "birth_date", *PHONE_FIELDS})
# The same fields under the labels that previews and history rows carry (verbose names).
PERSONAL_LABELS = {"身份证号": "id_number", "出生日期": "birth_date", "联系电话": "phone", "帮扶责任人电话": "phone"}

# The people this ledger serves live in China; their age changes at midnight in Beijing time.
CHINA = ZoneInfo("Asia/Shanghai")

# An 18-character 身份证号 (area, a plausible birth date, sequence, check character; a wrong check
# character is still someone's number) or an 11-digit mobile number inside free text.
_ID_NUMBER_IN_TEXT = re.compile(
    r"(?<![0-9])[1-9][0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx](?![0-9A-Za-z])"
)
_PHONE_IN_TEXT = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")


def may_view_personal_data(user: Any) -> bool:
    """True when the user's role may see full 身份证号, phone numbers and birth dates."""
    return bool(user is not None and user.is_authenticated and user.has_perm(PERMISSION))


def today_in_china() -> date:
    return timezone.localdate(timezone=CHINA)


def age_on(birth_date: date, today: date) -> int:
    """Completed years between birth_date and today."""
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


def shown(field: str, value: Any, *, reveal: bool, today: date | None = None) -> str:
    """A field's value as the viewer may see it: in full, masked, or (for a birth date) an age.

    `field` is a model field name or the label a preview or history row carries.
    """
    if value is None or value == "":
        return ""
    kind = PERSONAL_LABELS.get(field, field)
    text = value.isoformat() if isinstance(value, date) else str(value)
    if reveal or kind not in PERSONAL_FIELDS:
        return text
    if kind == "id_number":
        return mask_id_number(text)
    if kind == "birth_date":
        born = value if isinstance(value, date) else _parse_date(text)
        return f"{age_on(born, today or today_in_china())}岁" if born else "**"
    return mask_phone(text)


def shown_to(user: Any, field: str, value: Any) -> str:
    """`shown` for this user."""
    return shown(field, value, reveal=may_view_personal_data(user))


def masked_text(text: str) -> str:
    """Free text (messages, preview subjects, 户编号 built from a 身份证号) with every number in it masked."""
    if not text:
        return text
    text = _ID_NUMBER_IN_TEXT.sub(lambda match: mask_id_number(match.group()), text)
    return _PHONE_IN_TEXT.sub(lambda match: mask_phone(match.group()), text)


def text_shown_to(user: Any, text: str) -> str:
    """Free text in full for roles that may see personal data, with numbers masked for the rest."""
    return text if may_view_personal_data(user) else masked_text(text)


def _parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None
