"""{% session_timer %}: the data the session-expiry warning and the form drafts read (static/js/session.js)."""

from __future__ import annotations

import time
from typing import Any

from django import template
from django.conf import settings

from regions.session_expiry import session_left

register = template.Library()


@register.inclusion_tag("regions/_session_timer.html", takes_context=True)
def session_timer(context: dict[str, Any]) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    session = getattr(request, "session", None)
    # A page rendered outside the middleware (a request built by hand) has no session to time.
    if session is None or user is None or not user.is_authenticated:
        return {"signed_in": False}
    left = session_left(session=session, now=time.time())
    return {
        "signed_in": True,
        "user_id": user.pk,
        "seconds_left": "" if left is None else left.seconds,
        "limit": "" if left is None else left.limit,
        "warn_seconds": settings.SESSION_EXPIRY_WARNING_SECONDS,
    }
