from django.apps import AppConfig


class AssessmentConfig(AppConfig):
    """Targets as data, quarterly indicators, scoring, alerts and the dashboards that show them."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "assessment"
    verbose_name = "考核评估"
