from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """What operators need and users never see: health, the worker's heartbeat, backups, database outages."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "operations"
    verbose_name = "运行维护"
