"""Read shapes of the resources: English field names, Chinese descriptions, personal data masked as on pages.

Related rows are named by their natural key where they have one (区划 by code, 农户 by 户编号, market
entities by 统一社会信用代码, projects by 项目编号, reference lists by code), by id otherwise.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from rest_framework import serializers
from rest_framework.utils.model_meta import RelationInfo

from assessment.models import Alert, IndicatorValue, Target
from cooperatives.models import Binding, Entity, Membership
from funds.models import Allocation, CollectiveIncome, Funding, Payment, Project
from households.models import (
    Household,
    IncomeRecord,
    Member,
    MonitoringCase,
    MonitoringThreshold,
    ReferenceItem,
)
from households.personal_data import PERSONAL_FIELDS, may_view_personal_data, shown, text_shown_to
from industries.models import Industry
from regions.models import Region

# The field that names a row of these models to the outside; reference lists (ReferenceItem) use "code".
NATURAL_KEYS: dict[type[models.Model], tuple[str, str]] = {
    Region: ("code", "区划代码"),
    Household: ("number", "户编号"),
    Entity: ("credit_code", "统一社会信用代码"),
    Project: ("code", "项目编号"),
}


def _viewer(field: serializers.Field) -> Any:
    request = field.context.get("request")
    return getattr(request, "user", None)


class PersonalDataField(serializers.CharField):
    """身份证号, phone, birth date: in full for clients that may see personal data, masked (an age) otherwise."""

    def to_representation(self, value: Any) -> str:
        return shown(self.field_name or "", value, reveal=may_view_personal_data(_viewer(self)))


class PersonalTextField(serializers.CharField):
    """Free text that may embed a 身份证号 or phone number (a 户编号 built from one): numbers masked as on pages."""

    def to_representation(self, value: Any) -> str:
        return text_shown_to(_viewer(self), str(value))


class PersonalJSONField(serializers.JSONField):
    """JSON whose texts may hold a 身份证号 or phone number (an alert's figures): masked as on pages."""

    def to_representation(self, value: Any) -> Any:
        return _masked_json(_viewer(self), value)


def _masked_json(viewer: Any, value: Any) -> Any:
    if isinstance(value, str):
        return text_shown_to(viewer, value)
    if isinstance(value, dict):
        return {key: _masked_json(viewer, item) for key, item in value.items()}
    if isinstance(value, list):
        return [_masked_json(viewer, item) for item in value]
    return value


class HouseholdNumberField(serializers.SlugRelatedField):
    """A household named by its 户编号, masked like the 户编号 on pages."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["slug_field"] = "number"
        super().__init__(**kwargs)

    def to_representation(self, obj: Any) -> str:
        return text_shown_to(_viewer(self), obj.number)


class ResourceSerializer(serializers.ModelSerializer):
    """A model's fields, each described by its Chinese name; personal fields masked; relations by natural key."""

    def build_field(
        self, field_name: str, info: Any, model_class: Any, nested_depth: int
    ) -> tuple[type[serializers.Field], dict[str, Any]]:
        field_class, kwargs = super().build_field(field_name, info, model_class, nested_depth)
        model_field = info.fields.get(field_name) or getattr(info.relations.get(field_name), "model_field", None)
        if field_name == "id":
            kwargs.setdefault("help_text", "记录 id（分页游标）")
        elif model_field is not None and not kwargs.get("help_text"):
            kwargs["help_text"] = str(model_field.verbose_name)
        return field_class, kwargs

    def build_standard_field(self, field_name: str, model_field: Any) -> tuple[type[serializers.Field], dict[str, Any]]:
        if field_name in PERSONAL_FIELDS:
            return PersonalDataField, {
                "read_only": True,
                "help_text": f"{model_field.verbose_name}（无权查看个人信息的客户端得到脱敏值，出生日期显示为年龄）",
            }
        return super().build_standard_field(field_name, model_field)

    def build_relational_field(
        self, field_name: str, relation_info: RelationInfo
    ) -> tuple[type[serializers.Field], dict[str, Any]]:
        field_class, kwargs = super().build_relational_field(field_name, relation_info)
        related = relation_info.related_model
        label = str(relation_info.model_field.verbose_name) if relation_info.model_field is not None else field_name
        if related is Household:
            kwargs["help_text"] = f"{label}（户编号，按个人信息规则脱敏）"
            return HouseholdNumberField, kwargs
        key = NATURAL_KEYS.get(related) or (("code", "编码") if issubclass(related, ReferenceItem) else None)
        if key is None:
            kwargs["help_text"] = f"{label}（id）"
            return field_class, kwargs
        kwargs["slug_field"] = key[0]
        kwargs["help_text"] = f"{label}（{key[1]}）"
        return serializers.SlugRelatedField, kwargs


class RegionSerializer(ResourceSerializer):
    class Meta:
        model = Region
        fields = ["id", "code", "name", "level", "parent"]


class MemberSerializer(ResourceSerializer):
    class Meta:
        model = Member
        exclude = ["household"]


class HouseholdSerializer(ResourceSerializer):
    number = PersonalTextField(read_only=True, help_text="户编号（由身份证号构成时按个人信息规则脱敏）")
    members = MemberSerializer(
        many=True, read_only=True, help_text="家庭成员，按户主、配偶、子女……的顺序（含已减员成员，is_active 为否）"
    )

    class Meta:
        model = Household
        fields = "__all__"


class MonitoringCaseSerializer(ResourceSerializer):
    class Meta:
        model = MonitoringCase
        fields = "__all__"


class IncomeRecordSerializer(ResourceSerializer):
    class Meta:
        model = IncomeRecord
        fields = "__all__"


class ThresholdSerializer(ResourceSerializer):
    class Meta:
        model = MonitoringThreshold
        fields = "__all__"


class TargetSerializer(ResourceSerializer):
    class Meta:
        model = Target
        fields = "__all__"


class IndicatorValueSerializer(ResourceSerializer):
    class Meta:
        model = IndicatorValue
        fields = "__all__"


class IndustrySerializer(ResourceSerializer):
    class Meta:
        model = Industry
        fields = "__all__"


class EntitySerializer(ResourceSerializer):
    class Meta:
        model = Entity
        fields = "__all__"


class BindingSerializer(ResourceSerializer):
    class Meta:
        model = Binding
        fields = "__all__"


class MembershipSerializer(ResourceSerializer):
    class Meta:
        model = Membership
        fields = "__all__"


class AllocationSerializer(ResourceSerializer):
    class Meta:
        model = Allocation
        fields = "__all__"


class ProjectSerializer(ResourceSerializer):
    class Meta:
        model = Project
        fields = "__all__"


class FundingSerializer(ResourceSerializer):
    class Meta:
        model = Funding
        fields = "__all__"


class PaymentSerializer(ResourceSerializer):
    project: serializers.SlugRelatedField[Project] = serializers.SlugRelatedField(
        source="funding.project", slug_field="code", read_only=True, help_text="项目（项目编号）"
    )

    class Meta:
        model = Payment
        fields = "__all__"


class CollectiveIncomeSerializer(ResourceSerializer):
    class Meta:
        model = CollectiveIncome
        fields = "__all__"


class AlertSerializer(ResourceSerializer):
    figures = PersonalJSONField(read_only=True, help_text="触发数据（其中的身份证号、电话按个人信息规则脱敏）")

    class Meta:
        model = Alert
        fields = "__all__"


class ErrorItemSerializer(serializers.Serializer):
    row = serializers.IntegerField(required=False, help_text="批量提交时出错的行（从 1 起）")
    field = serializers.CharField(required=False, help_text="出错的字段")
    message = serializers.CharField(help_text="中文说明")


class ErrorSerializer(serializers.Serializer):
    """The body of every error response."""

    code = serializers.CharField(help_text="错误代码（英文，供程序判断）")
    message = serializers.CharField(help_text="中文说明")
    # A declared field, popped from the class by DRF: it does not shadow Serializer.errors at run time.
    errors = ErrorItemSerializer(many=True, help_text="逐字段或逐行的错误")  # type: ignore[assignment]
