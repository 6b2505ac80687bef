from django.apps import AppConfig


class HouseholdsConfig(AppConfig):
    """Households, their members, monitoring cases, quarterly income and monitoring thresholds."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "households"
    verbose_name = "农户与收入"

    def ready(self) -> None:
        # The Excel registers this app declares, known to the import pipeline from here on.
        from households import sheets  # noqa: F401
