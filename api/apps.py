from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The REST API for the provincial platform: machine clients, their tokens and calls, and the read resources."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "api"
    verbose_name = "数据接口"

    def ready(self) -> None:
        # drf-spectacular learns how the bearer tokens work from here.
        from api import schema  # noqa: F401
