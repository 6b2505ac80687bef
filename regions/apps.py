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
        self.connect_reference_lists()

    def connect_reference_lists(self) -> None:
        """Changes that make the cached reference lists (regions/reference.py) stale."""
        from django.contrib.auth.models import Group, Permission
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from regions.models import Region, User
        from regions.reference import changed_receiver, reference_forget

        regions_changed = changed_receiver("regions")
        permissions_changed = changed_receiver("permissions")
        for signal in (post_save, post_delete):
            signal.connect(regions_changed, sender=Region, weak=False, dispatch_uid=f"reference-{signal}-region")
            for model in (Group, Permission):
                signal.connect(
                    permissions_changed, sender=model, weak=False, dispatch_uid=f"reference-{signal}-{model}"
                )
        m2m_changed.connect(permissions_changed, sender=Group.permissions.through, weak=False, dispatch_uid="ref-gp")

        def memberships_changed(instance: object, **kwargs: object) -> None:
            # A user's groups or permissions: only that user's entry; from the group's side, everyone's.
            if isinstance(instance, User):
                reference_forget("permissions", str(instance.pk))
            else:
                permissions_changed()

        for through in (User.groups.through, User.user_permissions.through):
            m2m_changed.connect(memberships_changed, sender=through, weak=False, dispatch_uid=f"reference-{through}")

        def user_changed(instance: User, update_fields: frozenset[str] | None = None, **kwargs: object) -> None:
            # A login writes last_login: that changes no permission.
            if update_fields is None or {"is_active", "is_superuser"} & set(update_fields):
                reference_forget("permissions", str(instance.pk))

        post_save.connect(user_changed, sender=User, weak=False, dispatch_uid="reference-user-saved")
        post_delete.connect(user_changed, sender=User, weak=False, dispatch_uid="reference-user-deleted")

        def permissions_read_at_login(user: User, **kwargs: object) -> None:
            # The login pays for reading them; every page after it finds them kept.
            user.get_all_permissions()

        from django.contrib.auth import signals as auth_signals

        auth_signals.user_logged_in.connect(permissions_read_at_login, weak=False, dispatch_uid="reference-login")
