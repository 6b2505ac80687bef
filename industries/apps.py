from django.apps import AppConfig


class IndustriesConfig(AppConfig):
    """Characteristic industries (特色产业) and their scale per village and township."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "industries"
    verbose_name = "特色产业"
