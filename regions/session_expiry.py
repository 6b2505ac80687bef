"""The two limits on a signed-in session, and how long it has left, so pages can warn before it ends.

- Absolute: SESSION_COOKIE_AGE (8 h) from the login. Nothing extends it — not activity, not the
  warning's 继续 — so a stolen or forgotten session ends at the latest that long after the password was typed.
- Idle: SESSION_IDLE_SECONDS (30 min) since the user's last request. Requests a page makes by itself do
  not count: htmx progress polling (it sends BACKGROUND_HEADER) and the warning's look at the time left
  (GET on the keep-alive). The warning's 继续 (POST on the keep-alive) does.

regions.middleware.SessionTimeoutMiddleware logs a session past either limit out on its next request, so
the login page can say which one ended it. Activity is written at most once a minute (ACTIVITY_WRITE_SECONDS,
or a thirtieth of a shorter idle limit), so that a busy user's pages do not each save the session; the idle
limit then ends a session up to that much early, never late. Django's own expiry of the stored session and
its cookie (SESSION_COOKIE_AGE after the last save) never comes before either limit.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Literal

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest
from django.urls import reverse

STARTED_AT_KEY = "session_started_at"
ACTIVE_AT_KEY = "session_active_at"
# Sessions signed in before the idle limit existed kept only this one (the last renewal).
LEGACY_RENEWED_AT_KEY = "session_renewed_at"
ACTIVITY_WRITE_SECONDS = 60
# Sent by requests that a page makes by itself (hx-headers on the polling progress fragments).
BACKGROUND_HEADER = "X-Background-Request"

Limit = Literal["idle", "absolute"]


@dataclass(frozen=True)
class SessionLeft:
    """Seconds until the session ends, and which limit ends it."""

    seconds: int
    limit: Limit


def session_start(*, session: SessionBase, now: float) -> None:
    """A login: both limits count from now."""
    session[STARTED_AT_KEY] = now
    session[ACTIVE_AT_KEY] = now


def session_adopt(*, session: SessionBase, now: float) -> None:
    """A session from before these limits: its absolute limit counts from its last renewal, if known."""
    if not isinstance(session.get(STARTED_AT_KEY), (int, float)):
        legacy = session.get(LEGACY_RENEWED_AT_KEY)
        session[STARTED_AT_KEY] = legacy if isinstance(legacy, (int, float)) else now
        session[ACTIVE_AT_KEY] = now
        session.pop(LEGACY_RENEWED_AT_KEY, None)


def session_touch(*, session: SessionBase, now: float) -> None:
    """The user did something: the idle limit counts from now (written at most every minute)."""
    active_at = session.get(ACTIVE_AT_KEY)
    every = min(ACTIVITY_WRITE_SECONDS, settings.SESSION_IDLE_SECONDS // 30)
    if not isinstance(active_at, (int, float)) or now - active_at >= every:
        session[ACTIVE_AT_KEY] = now


def session_renew(*, session: SessionBase, now: float) -> None:
    """The warning's 继续: the idle limit counts from now; the absolute limit stays where it is."""
    session[ACTIVE_AT_KEY] = now


def session_left(*, session: SessionBase, now: float) -> SessionLeft | None:
    """What the session has left, by the limit that comes first; None for a session not yet timed."""
    started_at = session.get(STARTED_AT_KEY)
    active_at = session.get(ACTIVE_AT_KEY)
    if not isinstance(started_at, (int, float)) or not isinstance(active_at, (int, float)):
        return None
    absolute = started_at + settings.SESSION_COOKIE_AGE - now
    idle = active_at + settings.SESSION_IDLE_SECONDS - now
    # Rounded up: a session with part of a second left has not ended.
    if idle < absolute:
        return SessionLeft(seconds=max(0, math.ceil(idle)), limit="idle")
    return SessionLeft(seconds=max(0, math.ceil(absolute)), limit="absolute")


def duration_text(seconds: int) -> str:
    """8 小时, 30 分钟, 1 小时 30 分钟, 45 秒: a limit as the messages and the warning say it."""
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{hours} 小时" if hours else "", f"{minutes} 分钟" if minutes else "", f"{seconds} 秒" if seconds else ""]
    return " ".join(part for part in parts if part) or "0 秒"


def ended_message(limit: Limit) -> str:
    """Why a session was logged out, for the login page."""
    kept = "未保存的填写内容暂存在本机浏览器，重新登录后回到原页面即可恢复。"
    if limit == "idle":
        return f"已超过 {duration_text(settings.SESSION_IDLE_SECONDS)}没有操作，为保护数据已自动退出登录。{kept}"
    return f"登录已满 {duration_text(settings.SESSION_COOKIE_AGE)}，为保护数据已自动退出，请重新登录。{kept}"


def is_activity(request: HttpRequest) -> bool:
    """Whether a request was the user's doing, rather than a page's polling or its look at the time left."""
    if request.headers.get(BACKGROUND_HEADER):
        return False
    return not (request.method == "GET" and request.path == reverse("session_keep_alive"))


def record_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """user_logged_in receiver: both limits start now."""
    session_start(session=request.session, now=time.time())
