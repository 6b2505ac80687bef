"""Risk types and assistance measures of the national monitoring system (DOMAIN §2, practice)."""

from typing import Any

from django.db import migrations

RISK_TYPES = [
    ("illness", "因病"),
    ("disability", "因残"),
    ("schooling", "因学"),
    ("natural_disaster", "因自然灾害"),
    ("accident", "因意外事故"),
    ("industry_failure", "因产业项目失败"),
    ("unstable_employment", "因务工就业不稳"),
    ("lack_of_labour", "缺劳动力"),
    ("housing", "因安全住房"),
    ("drinking_water", "因安全饮水"),
    ("other", "其他"),
]

MEASURES = [
    ("industry", "产业帮扶"),
    ("employment", "就业帮扶"),
    ("finance", "金融帮扶（小额信贷）"),
    ("public_job", "公益岗位帮扶"),
    ("health", "健康帮扶"),
    ("education", "教育帮扶"),
    ("housing", "住房安全保障"),
    ("water", "饮水安全保障"),
    ("social_security", "综合保障（兜底）"),
    ("social", "社会帮扶"),
    ("relocation", "易地搬迁后续扶持"),
    ("other", "其他"),
]


def seed(apps: Any, schema_editor: Any) -> None:
    RiskType = apps.get_model("households", "RiskType")
    AssistanceMeasure = apps.get_model("households", "AssistanceMeasure")
    for order, (code, name) in enumerate(RISK_TYPES, start=1):
        RiskType.objects.update_or_create(code=code, defaults={"name": name, "sort_order": order})
    for order, (code, name) in enumerate(MEASURES, start=1):
        AssistanceMeasure.objects.update_or_create(code=code, defaults={"name": name, "sort_order": order})


class Migration(migrations.Migration):
    dependencies = [("households", "0002_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
