from django.apps import AppConfig


class FundsConfig(AppConfig):
    """衔接资金, the projects they pay for and their beneficiaries, and village collective income."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "funds"
    verbose_name = "衔接资金与集体经济"

    def ready(self) -> None:
        # The Excel registers this app declares, known to the import pipeline from here on.
        from funds import sheets  # noqa: F401
        from funds.demo import demo_funds_seed
        from households.demo_writer import register_demo_step

        register_demo_step(demo_funds_seed)
