"""django-import-export resources: the admin's export buttons, and the stock path the benchmark compares.

Imports in the admin go through the project's own pipeline (households/excel), which previews,
checks scope and writes all or nothing; these resources only describe rows.
"""

from __future__ import annotations

import io
from typing import Any

from import_export import fields, resources
from import_export.formats.base_formats import XLSX
from import_export.widgets import ForeignKeyWidget
from openpyxl import Workbook

from households.excel.writer import FORMULA_TRIGGERS
from households.models import Household, IncomeRecord, Member
from households.personal_data import may_view_personal_data, shown
from regions.models import Region


class SafeXLSX(XLSX):
    """XLSX whose text cells can never be formulas (django-import-export only strips a leading '=')."""

    def export_data(self, dataset: Any, **kwargs: Any) -> bytes:
        workbook = Workbook()
        sheet = workbook.active
        assert sheet is not None
        sheet.append(list(dataset.headers or []))
        for row_index, row in enumerate(dataset, start=2):
            for column_index, value in enumerate(row, start=1):
                cell = sheet.cell(row=row_index, column=column_index)
                if isinstance(value, str):
                    cell.value = value
                    cell.data_type = "s"
                    cell.quotePrefix = value.startswith(FORMULA_TRIGGERS)
                else:
                    cell.value = value
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()


class MaskingResource(resources.ModelResource):
    """Masks 身份证号 and phone numbers unless the exporting user's role may see them."""

    masked_fields: tuple[str, ...] = ()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__()
        user = kwargs.get("user")
        self.reveal = may_view_personal_data(user)

    def export_field(self, field: Any, instance: Any, **kwargs: Any) -> Any:
        value = super().export_field(field, instance, **kwargs)
        if self.reveal or field.column_name not in self.masked_fields or not value:
            return value
        return shown(field.column_name, value, reveal=False)


class HouseholdResource(MaskingResource):
    number = fields.Field(attribute="number", column_name="户编号")
    region_code = fields.Field(attribute="village", column_name="区划代码", widget=ForeignKeyWidget(Region, "code"))
    household_type = fields.Field(attribute="get_household_type_display", column_name="户类型", readonly=True)
    lifted_year = fields.Field(attribute="lifted_year", column_name="脱贫年度")
    phone = fields.Field(attribute="phone", column_name="联系电话")
    address = fields.Field(attribute="address", column_name="住址")
    masked_fields = ("联系电话",)

    class Meta:
        model = Household
        fields = ("number", "region_code", "household_type", "lifted_year", "phone", "address")
        import_id_fields = ("number",)


class MemberResource(MaskingResource):
    household = fields.Field(attribute="household", column_name="户编号", widget=ForeignKeyWidget(Household, "number"))
    name = fields.Field(attribute="name", column_name="成员姓名")
    id_number = fields.Field(attribute="id_number", column_name="身份证号")
    relation = fields.Field(attribute="relation", column_name="与户主关系")
    labour = fields.Field(attribute="labour", column_name="劳动技能")
    masked_fields = ("身份证号",)

    class Meta:
        model = Member
        fields = ("household", "name", "id_number", "relation", "labour")
        import_id_fields = ("id_number",)


class IncomeRecordResource(MaskingResource):
    household = fields.Field(attribute="household", column_name="户编号", widget=ForeignKeyWidget(Household, "number"))
    year = fields.Field(attribute="year", column_name="年度")
    quarter = fields.Field(attribute="quarter", column_name="季度")
    net_income = fields.Field(attribute="net_income", column_name="家庭纯收入", readonly=True)
    per_capita = fields.Field(attribute="per_capita_net_income", column_name="人均纯收入", readonly=True)

    class Meta:
        model = IncomeRecord
        fields = ("household", "year", "quarter", "net_income", "per_capita")
