from django.apps import AppConfig
from django.db.models.signals import post_migrate


class RegionsConfig(AppConfig):
    """The administrative hierarchy, staff accounts placed in it, and the scoping every query uses."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "regions"
    verbose_name = "行政区划与用户"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from regions.session_expiry import record_login
        from regions.signals import ensure_role_groups

        # Runs after each app migrates (cheap), so the groups see every permission row.
        post_migrate.connect(ensure_role_groups, dispatch_uid="regions_ensure_role_groups")
        user_logged_in.connect(record_login, dispatch_uid="regions_session_record_login")
