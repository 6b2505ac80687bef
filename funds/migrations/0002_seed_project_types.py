"""项目类型 of the project library (issue 11 §2; 004's categories of 衔接资金 use)."""

from typing import Any

from django.db import migrations

# (code, name, parent code, counts as 产业发展)
PROJECT_TYPES = [
    ("industry", "产业发展", None, True),
    ("industry_base", "种养殖基地", "industry", True),
    ("industry_processing", "加工流通", "industry", True),
    ("industry_facilities", "配套设施", "industry", True),
    ("industry_services", "产业服务支撑", "industry", True),
    ("industry_finance", "金融保险配套", "industry", True),
    ("employment", "就业项目", None, False),
    ("rural_construction", "乡村建设/基础设施", None, False),
    ("relocation_support", "易地搬迁后续扶持", None, False),
    ("three_guarantees", "巩固三保障成果", None, False),
    ("management_fee", "项目管理费", None, False),
    ("other", "其他", None, False),
]


def seed(apps: Any, schema_editor: Any) -> None:
    ProjectType = apps.get_model("funds", "ProjectType")
    for order, (code, name, parent, is_industry) in enumerate(PROJECT_TYPES, start=1):
        ProjectType.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "sort_order": order,
                "is_industry": is_industry,
                "parent": ProjectType.objects.get(code=parent) if parent else None,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("funds", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
