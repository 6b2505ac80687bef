from django.apps import AppConfig


class CooperativesConfig(AppConfig):
    """Cooperatives, leading enterprises, family farms, and the 双绑 bindings between them and households."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "cooperatives"
    verbose_name = "合作社与经营主体"

    def ready(self) -> None:
        # The Excel registers this app declares, known to the import pipeline from here on.
        from cooperatives import sheets  # noqa: F401
        from cooperatives.demo import demo_cooperatives_seed
        from cooperatives.sections import HOUSEHOLD_SECTION, cooperatives_card_section
        from households.cards import register_card_section
        from households.demo_writer import register_demo_step
        from households.sections import register_household_section

        register_demo_step(demo_cooperatives_seed)
        # The household page and the 明白卡 show a household's cooperatives through their registries.
        register_household_section(HOUSEHOLD_SECTION)
        register_card_section(cooperatives_card_section)
