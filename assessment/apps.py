from django.apps import AppConfig


class AssessmentConfig(AppConfig):
    """Targets as data, quarterly indicators, scoring, alerts and the dashboards that show them."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "assessment"
    verbose_name = "考核评估"

    def ready(self) -> None:
        # Every app's indicators.py and alert_rules.py register themselves on import, as admin.py does.
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("indicators")
        autodiscover_modules("alert_rules")
        autodiscover_modules("dashboards")

        from django.db.models.signals import post_delete, post_save

        from assessment.target_words import year_end_targets
        from figures.targets import register_target_reader

        register_target_reader(year_end_targets)

        from assessment.models import ParameterValue
        from assessment.services import data_changed_received, parameter_changed_received
        from regions.signals import data_changed

        data_changed.connect(data_changed_received, dispatch_uid="assessment-recompute")
        post_save.connect(parameter_changed_received, sender=ParameterValue, dispatch_uid="parameter-saved")
        post_delete.connect(parameter_changed_received, sender=ParameterValue, dispatch_uid="parameter-deleted")
