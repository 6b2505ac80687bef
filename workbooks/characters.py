"""Characters no register's text may hold because nobody can see them: one rule for forms, imports and the API.

Plain Python, no Django: the isolated child that parses uploads imports it (to explain a header).
workbooks.rules wraps it as the model validator `validate_visible_text` and applies it to every
staged text value.
"""

from __future__ import annotations

import re

# C0 controls but tab and line breaks, and DEL: PostgreSQL stores no NUL in text, SQLite cuts the
# text at it. Zero-width characters and bidirectional controls come in with text copied from web
# pages and chat apps: "张三" and "张\u200b三" look alike but are two names, and a bidi control
# can make a cell read backwards.
INVISIBLE_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200d\u2060\ufeff\u202a-\u202e\u2066-\u2069]")

_NAMES = {
    "\x00": "空字符NUL",
    "\u200b": "零宽空格",
    "\u200c": "零宽非连接符",
    "\u200d": "零宽连接符",
    "\u2060": "零宽不换行符",
    "\ufeff": "零宽不换行空格（BOM）",
}


def describe_character(character: str) -> str:
    """An invisible character as a clerk can look it up: "零宽空格 U+200B"."""
    if character in _NAMES:
        name = _NAMES[character]
    elif "\u202a" <= character <= "\u202e" or "\u2066" <= character <= "\u2069":
        name = "文字方向控制符"
    else:
        name = "控制字符"
    return f"{name} U+{ord(character):04X}"


def invisible_character(text: str) -> str | None:
    """The first invisible character of text, described ("零宽空格 U+200B"); None when there is none."""
    found = INVISIBLE_CHARACTERS.search(text)
    return None if found is None else describe_character(found.group())


def invisible_character_error(text: str) -> str | None:
    """The Chinese message refusing text with an invisible character, or None when text has none."""
    found = invisible_character(text)
    return None if found is None else f"含有不可见字符（{found}），请删除后重新填写"


def printable(text: str) -> str:
    """Text a file brought, for storing and showing: every invisible character shown as �."""
    return INVISIBLE_CHARACTERS.sub("\ufffd", text)
