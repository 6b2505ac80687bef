from django.apps import AppConfig


class IndustriesConfig(AppConfig):
    """Characteristic industries (特色产业) and their scale per village and township."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "industries"
    verbose_name = "特色产业"

    def ready(self) -> None:
        from households.demo_writer import register_demo_step
        from industries.demo import demo_industries_seed
        from industries.sections import register

        # The household page shows each household's 产业到户 without being edited for it.
        register()
        register_demo_step(demo_industries_seed)
