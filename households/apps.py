from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class HouseholdsConfig(AppConfig):
    """Households, their members, monitoring cases, quarterly income and monitoring thresholds."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "households"
    verbose_name = "农户与收入"

    def ready(self) -> None:
        # The Excel registers this app declares, known to the import pipeline from here on.
        from households import sheets  # noqa: F401
        from households.models import MonitoringThreshold, VillagePopulation
        from households.signals import reference_data_changed

        for model in (MonitoringThreshold, VillagePopulation):
            post_save.connect(reference_data_changed, sender=model, dispatch_uid=f"changed-{model.__name__}")
            post_delete.connect(reference_data_changed, sender=model, dispatch_uid=f"deleted-{model.__name__}")
        # The list page's risk types come from the reference cache (regions/reference.py).
        from households.models import RiskType
        from regions.reference import changed_receiver

        risk_types_changed = changed_receiver("risk_types")
        for signal in (post_save, post_delete):
            signal.connect(risk_types_changed, sender=RiskType, weak=False, dispatch_uid=f"reference-{signal}-risk")
