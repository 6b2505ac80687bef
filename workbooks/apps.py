from django.apps import AppConfig


class WorkbooksConfig(AppConfig):
    """The one Excel import pipeline: parse in isolation, stage, preview, apply set-based, undo; knows no register."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "workbooks"
    verbose_name = "Excel导入"
