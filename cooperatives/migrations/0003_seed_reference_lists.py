"""利益联结方式 (004 §八), 入社方式 and the kinds of earnings from a cooperative (DOMAIN §4, issue 10 §3)."""

from typing import Any

from django.db import migrations

LINKAGE_TYPES = [
    ("asset_income", "资产收益"),
    ("land_transfer", "土地流转"),
    ("equity", "资金入股"),
    ("housing_joint", "房屋联营"),
    ("employment", "务工就业"),
    ("consignment", "产品代销"),
    ("production_trusteeship", "生产托管"),
    ("lease", "租赁经营"),
]

JOINING_METHODS = [
    ("money", "资金入股"),
    ("land_rights", "土地经营权入股"),
    ("labour", "劳动力入股"),
    ("produce", "产品交售"),
    ("other", "其他"),
]

# (code, name, counted as 财产性收入 in the household's income record)
EARNING_KINDS = [
    ("dividend", "分红", True),
    ("land_rent", "土地流转租金", True),
    ("wages", "务工工资", False),
    ("purchase", "订单收购款", False),
]


def seed(apps: Any, schema_editor: Any) -> None:
    for model, rows in (("LinkageType", LINKAGE_TYPES), ("JoiningMethod", JOINING_METHODS)):
        manager = apps.get_model("cooperatives", model).objects
        for order, (code, name) in enumerate(rows, start=1):
            manager.update_or_create(code=code, defaults={"name": name, "sort_order": order})
    kinds = apps.get_model("cooperatives", "EarningKind").objects
    for order, (code, name, is_property) in enumerate(EARNING_KINDS, start=1):
        kinds.update_or_create(
            code=code, defaults={"name": name, "sort_order": order, "is_property_income": is_property}
        )


class Migration(migrations.Migration):
    dependencies = [("cooperatives", "0002_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
