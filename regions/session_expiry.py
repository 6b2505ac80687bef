"""How long a signed-in session has left, so pages can warn before it expires and renew it on request.

Django's database session expires SESSION_COOKIE_AGE after its last save, and it is saved only when
changed; the time of the last renewal is kept in the session so a page can tell how much is left.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase

RENEWED_AT_KEY = "session_renewed_at"


def session_renew(*, session: SessionBase) -> None:
    """Record the renewal; changing the session makes Django save it, which restarts its age."""
    session[RENEWED_AT_KEY] = time.time()


def session_seconds_left(*, session: SessionBase) -> int | None:
    """Seconds until the session expires; None for a session that began before renewals were recorded."""
    renewed_at = session.get(RENEWED_AT_KEY)
    if not isinstance(renewed_at, (int, float)):
        return None
    return max(0, int(renewed_at + settings.SESSION_COOKIE_AGE - time.time()))


def record_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """user_logged_in receiver: a new session starts its age now."""
    session_renew(session=request.session)
