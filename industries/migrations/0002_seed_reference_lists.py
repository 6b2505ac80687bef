"""Industry categories and scale units (issue 10 §1; units as the seeds write scales: 000, 003)."""

from typing import Any

from django.db import migrations

CATEGORIES = [
    ("planting", "种植"),
    ("breeding", "养殖"),
    ("forestry_fruit", "林果"),
    ("processing", "加工"),
    ("rural_tourism", "乡村旅游"),
    ("other", "其他"),
]

UNITS = [
    ("mu", "亩"),
    ("head", "头"),
    ("animal", "只"),
    ("bird", "羽"),
    ("box", "箱"),
    ("tonne", "吨"),
    ("household", "户"),
    ("plant", "株"),
    ("square_metre", "平方米"),
]


def seed(apps: Any, schema_editor: Any) -> None:
    for model, rows in (("IndustryCategory", CATEGORIES), ("ScaleUnit", UNITS)):
        manager = apps.get_model("industries", model).objects
        for order, (code, name) in enumerate(rows, start=1):
            manager.update_or_create(code=code, defaults={"name": name, "sort_order": order})


class Migration(migrations.Migration):
    dependencies = [("industries", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
