"""Reference lists that every page reads and that rarely change (a scope's villages and townships,
thresholds, enumerations, a user's permissions), kept in the cache.

Each list has a version in the cache; an entry remembers the version it was built under and is used
only while that is still the list's version. A change to the rows behind a list calls
`reference_changed` (model signals, see the apps' ready()), which gives the list a new version at
once, for the transaction that made the change, and again when it commits, so that a reader in
another process that rebuilt the list from the rows before the commit is not believed either.
Entries also expire after an hour, for a change that bypassed the models (raw SQL, QuerySet.update).
Keys carry the database's name: tests in parallel, and benches, share one Redis.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import cache
from django.db import connection, transaction

T = TypeVar("T")
logger = logging.getLogger(__name__)

ENTRY_SECONDS = 3600
# Every list kept: `reference_stale()` with no names marks all of them stale (a restored database).
ALL_LISTS = ("regions", "risk_types", "thresholds", "permissions", "api_conflicts")


def _key(name: str, part: str) -> str:
    return f"reference:{connection.settings_dict['NAME']}:{name}:{part}"


def reference_get(name: str, key: str, build: Callable[[], T]) -> T:
    """The list `name` for `key` (a scope's code prefix, a user's id…), built by `build` when missing
    or older than the list's last change."""
    version_key, entry_key = _key(name, "version"), _key(name, key)
    try:
        found = cache.get_many([version_key, entry_key])
        version = found.get(version_key)
        if version is None:
            cache.add(version_key, uuid.uuid4().hex, None)
            version = cache.get(version_key)
    except Exception:  # the cache server is away: pages still work, from the database
        logger.warning("reference cache unavailable, %s built from the database", name, exc_info=True)
        return build()
    entry = found.get(entry_key)
    if entry is not None and entry[0] == version:
        return entry[1]
    value = build()
    try:
        cache.set(entry_key, (version, value), ENTRY_SECONDS)
    except Exception:
        logger.warning("reference cache unavailable, %s not kept", name, exc_info=True)
    return value


def reference_stale(*names: str) -> None:
    """Give these lists (all of them if none are named) a new version: what is kept of them is stale."""
    try:
        cache.set_many({_key(name, "version"): uuid.uuid4().hex for name in names or ALL_LISTS}, None)
    except Exception:
        # The cache server is away; what it kept is lost or expires within ENTRY_SECONDS.
        logger.warning("reference cache unavailable, %s not marked stale", names, exc_info=True)


def reference_changed(*names: str) -> None:
    """The rows behind these lists (all of them if none are named) changed, in the current
    transaction: what is kept of them is stale now, and again once the transaction commits."""
    reference_stale(*names)
    transaction.on_commit(lambda: reference_stale(*names))


def reference_forget(name: str, key: str) -> None:
    """The rows behind one entry of a list changed (one user's permissions): drop it now and on commit."""

    def forget() -> None:
        try:
            cache.delete(_key(name, key))
        except Exception:
            logger.warning("reference cache unavailable, %s %s not dropped", name, key, exc_info=True)

    forget()
    transaction.on_commit(forget)


def changed_receiver(*names: str) -> Callable[..., None]:
    """A signal receiver that marks these lists stale, whatever the signal's arguments."""

    def receiver(**kwargs: Any) -> None:
        reference_changed(*names)

    return receiver
