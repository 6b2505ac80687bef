from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ChangesConfig(AppConfig):
    """A log of every change to the registers, written by database triggers, read as an exact incremental feed."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "changes"
    verbose_name = "变更记录"

    def ready(self) -> None:
        # After every migrate: SQLite drops a table's triggers when a migration rebuilds the table.
        post_migrate.connect(reinstall_triggers, sender=self, dispatch_uid="changes_reinstall_triggers")


def reinstall_triggers(sender: AppConfig, using: str, apps: Any = None, **kwargs: Any) -> None:
    from django.db import connections

    from changes import triggers

    if apps is None:
        return  # a flush (no migration state) leaves the triggers as they are
    try:
        apps.get_model("changes", "Change")
    except LookupError:  # migrated back before the log's table: no trigger may write to it
        triggers.uninstall(connections[using])
        return
    triggers.install(connections[using], apps)
