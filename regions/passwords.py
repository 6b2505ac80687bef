"""The password policy (等保 level 3): length, character classes, no reuse; and one-time passwords.

The validators are named in AUTH_PASSWORD_VALIDATORS, so every password chosen through a page
(change, admin) is held to them. Passwords set in code (the demo's seed, tests) are not.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth.hashers import check_password
from django.contrib.auth.password_validation import CommonPasswordValidator
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_NOT_LETTERS = "".join(chr(code) for code in range(32, 127) if not chr(code).isalpha()) + " \t"

# Character classes a password draws from; a strong one uses at least three of them.
CHARACTER_CLASSES: list[tuple[str, Any]] = [
    ("大写字母", str.isupper),
    ("小写字母", str.islower),
    ("数字", str.isdigit),
    ("符号", lambda character: not character.isalnum() and not character.isspace()),
]


class MinimumLengthValidator:
    def __init__(self, min_length: int = 10) -> None:
        self.min_length = min_length

    def validate(self, password: str, user: Any = None) -> None:
        if len(password) < self.min_length:
            raise ValidationError(
                _("密码太短：至少需要%(min_length)d位，当前%(length)d位。"),
                code="password_too_short",
                params={"min_length": self.min_length, "length": len(password)},
            )

    def get_help_text(self) -> str:
        return _("密码至少%(min_length)d位。") % {"min_length": self.min_length}


class CharacterClassesValidator:
    def __init__(self, required: int = 3) -> None:
        self.required = required

    def validate(self, password: str, user: Any = None) -> None:
        used = [name for name, test in CHARACTER_CLASSES if any(test(character) for character in password)]
        if len(used) < self.required:
            raise ValidationError(
                _("密码须包含大写字母、小写字母、数字、符号中的至少%(required)d类，当前只有%(used)d类。"),
                code="password_too_simple",
                params={"required": self.required, "used": len(used)},
            )

    def get_help_text(self) -> str:
        return _("须包含大写字母、小写字母、数字、符号中的至少%(required)d类。") % {"required": self.required}


class UsernameValidator:
    """Refuses a password that contains the username, forwards or backwards, also spelt out with symbols
    between its letters ("C.u.n-2026"): Django's similarity check lets "Cun-cun-cun1" through for the
    user cun, the name being too short a part of it."""

    def validate(self, password: str, user: Any = None) -> None:
        username = (getattr(user, "username", "") or "").lower()
        lowered = password.lower()
        letters = "".join(character for character in lowered if character.isalnum())
        if len(username) >= 3 and any(
            name in text for name in (username, username[::-1]) for text in (lowered, letters)
        ):
            raise ValidationError(_("密码不能包含用户名。"), code="password_contains_username")

    def get_help_text(self) -> str:
        return _("不能包含用户名。")


# Words a clerk of this ledger reaches for first; Django's list of common passwords has the rest.
LEDGER_WORDS = frozenset(
    {
        "zhenxing",
        "taizhang",
        "zhenxingtaizhang",
        "xiangcun",
        "fupin",
        "tuopin",
        "jiance",
        "bangfu",
        "nongcun",
        "zhengfu",
    }
)
_LEET = str.maketrans({"0": "o", "1": "l", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"})


# Symbols typed with Shift on the digit row, read back as the digits: 1qaz@WSX is 1qaz2wsx.
_SHIFTED = str.maketrans("!@#$%^&*()", "1234567890")


class CommonBaseValidator(CommonPasswordValidator):
    """Refuses a common password in the disguises leaked password lists are full of, which pass the length and
    character-class rules: digits and symbols at its ends or letters spelt as digits ("Password123!",
    "P@ssw0rd2026", "Zhenxing#2026"), symbols inside it ("Zhen-Xing-2026"), said twice ("Password!Password1"),
    a keyboard walk with shifted digits ("1qaz@WSX3edc"), a short tail ("1qaz2wsx!QAZ"), or a few letters
    before a common run of digits ("Abc@123456", "Aa123456789!"). Django's own check matches whole passwords only.
    """

    MIN_CORE = 4
    # A common password of at least this length with at most MAX_TAIL characters around it is refused.
    MIN_WHOLE = 8
    MAX_TAIL = 4

    def validate(self, password: str, user: Any = None) -> None:
        if any(self._is_common(candidate) for candidate in self._candidates(password)) or self._few_letters(password):
            raise ValidationError(
                _("密码太常见：是常见密码或常用词加上数字、符号或简单变形，请换用不易猜到的组合。"),
                code="password_too_common",
            )

    def _is_common(self, candidate: str) -> bool:
        return candidate in self.passwords or candidate in LEDGER_WORDS

    def _candidates(self, password: str) -> set[str]:
        lowered = password.lower().strip()
        spellings = {lowered, lowered.translate(_LEET), lowered.translate(_SHIFTED)}
        spellings |= {"".join(character for character in spelling if character.isalnum()) for spelling in spellings}
        candidates: set[str] = set()
        for spelling in spellings:
            core = spelling.strip(_NOT_LETTERS)
            if len(core) >= self.MIN_CORE:
                candidates.add(core)
                half = len(core) // 2
                if len(core) % 2 == 0 and core[:half] == core[half:]:
                    candidates.add(core[:half])
            for cut in range(self.MAX_TAIL + 1):
                for front in range(cut + 1):
                    part = spelling[front : len(spelling) - (cut - front)]
                    if len(part) >= self.MIN_WHOLE:
                        candidates.add(part)
        return candidates

    def _few_letters(self, password: str) -> bool:
        letters = sum(1 for character in password if character.isalpha())
        digits = "".join(character for character in password if character.isdigit())
        return letters < self.MIN_CORE and digits in self.passwords

    def get_help_text(self) -> str:
        return _("不能是常见密码加上数字或符号。")


class PasswordHistoryValidator:
    """Refuses the account's current password and the ones before it, `count` in all; remembers each new one."""

    def __init__(self, count: int = 5) -> None:
        self.count = count

    def validate(self, password: str, user: Any = None) -> None:
        if user is None or user.pk is None:
            return
        from regions.models import PasswordHistory

        hashes = list(PasswordHistory.objects.filter(user=user).values_list("password", flat=True)[: self.count])
        if user.password and user.password not in hashes:
            # A password set before its history was kept (or in code) is still the current one.
            hashes = [user.password, *hashes[: self.count - 1]]
        if any(check_password(password, encoded) for encoded in hashes):
            raise ValidationError(
                _("不能使用最近%(count)d次用过的密码。"), code="password_reused", params={"count": self.count}
            )

    def password_changed(self, password: str, user: Any = None) -> None:
        # A one-time password an administrator gave (it must be changed at first login) takes no place
        # in the history: the five remembered are the ones the user chose.
        if user is None or user.pk is None or getattr(user, "must_change_password", False):
            return
        from regions.models import PasswordHistory

        PasswordHistory.objects.create(user=user, password=user.password)
        stale = PasswordHistory.objects.filter(user=user).values_list("pk", flat=True)[self.count :]
        PasswordHistory.objects.filter(pk__in=list(stale)).delete()

    def get_help_text(self) -> str:
        return _("不能与最近%(count)d次用过的密码相同。") % {"count": self.count}


# Read aloud or over the phone to a village clerk: no 0/O, 1/l/I.
_ONE_TIME_ALPHABETS = ["ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnpqrstuvwxyz", "23456789", "#%+=?@"]


def one_time_password(length: int = 12) -> str:
    """A random password that satisfies the policy: every character class at least once."""
    characters = [secrets.choice(alphabet) for alphabet in _ONE_TIME_ALPHABETS]
    pool = "".join(_ONE_TIME_ALPHABETS[:3])
    characters += [secrets.choice(pool) for _position in range(length - len(characters))]
    secrets.SystemRandom().shuffle(characters)
    return "".join(characters)
