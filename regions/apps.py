from django.apps import AppConfig
from django.db.models.signals import post_migrate


class RegionsConfig(AppConfig):
    """The administrative hierarchy, staff accounts placed in it, and the scoping every query uses."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "regions"
    verbose_name = "行政区划与用户"

    def ready(self) -> None:
        from django.contrib.auth import signals as auth_signals

        from regions import session_expiry
        from regions.signals import ensure_role_groups, record_login, record_login_failure, record_logout

        # Runs after each app migrates (cheap), so the groups see every permission row.
        post_migrate.connect(ensure_role_groups, dispatch_uid="regions_ensure_role_groups")
        auth_signals.user_logged_in.connect(record_login, dispatch_uid="regions_audit_login")
        auth_signals.user_logged_out.connect(record_logout, dispatch_uid="regions_audit_logout")
        auth_signals.user_login_failed.connect(record_login_failure, dispatch_uid="regions_audit_login_failed")
        auth_signals.user_logged_in.connect(session_expiry.record_login, dispatch_uid="regions_session_record_login")
