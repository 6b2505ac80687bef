"""The cooperatives app's Excel registers: 经营主体, 企业绑定合作社, 合作社成员户 and 合作社收益.

Each is a declaration of workbooks.records: its key, its columns, the natural keys its foreign keys
are named by, and who may see and change which rows. The pipeline checks, stages, confirms, undoes
and exports them; nothing here runs by itself.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.urls import reverse

from cooperatives.models import (
    Binding,
    Earning,
    EarningKind,
    Entity,
    JoiningMethod,
    LinkageType,
    Membership,
    normalise_credit_code,
)
from households.excel import record_columns as cells
from households.excel.access import PersonalDataSheet
from households.excel.cell_parsers import parse_text
from households.models import Household, Member, Relation
from industries.models import Industry
from regions.models import Region, county_code_of
from workbooks.headers import CellValue
from workbooks.records import Check, Column, Lookup, Many, Period, Record, RecordSheet, Reference
from workbooks.registers import register


def parse_credit_code(value: CellValue) -> str:
    """A 统一社会信用代码 as stored (no spaces, upper case); the model's validator judges it."""
    return normalise_credit_code(parse_text(value))


def _within(user: Any, region: Region | None) -> bool:
    """Whether the region lies in the user's own subtree (what they manage)."""
    prefix = user.scope_prefix() if user.is_authenticated else None
    return prefix is not None and region is not None and region.code.startswith(prefix)


def _names(model: Any) -> Any:
    return lambda: list(model.objects.values_list("name", flat=True))


# Scopes ----------------------------------------------------------------------------------------


def entities_in_view(user: Any) -> QuerySet[Entity]:
    return Entity.objects.visible_to(user).select_related("region")


def enterprises_in_view(user: Any) -> QuerySet[Entity]:
    """The entities the user sees, and the enterprises bound to their cooperatives wherever registered."""
    seen = Entity.objects.visible_to(user).values("pk")
    bound = Binding.objects.filter(enterprise=OuterRef("pk"), cooperative__in=seen)
    return Entity.objects.filter(Q(pk__in=seen) | Exists(bound)).select_related("region")


def bindings_in_view(user: Any) -> QuerySet[Binding]:
    """The bindings of the cooperatives the user sees (those registered in their subtree they may change)."""
    return Binding.objects.filter(cooperative__in=Entity.objects.visible_to(user).values("pk"))


def entity_regions(user: Any) -> QuerySet[Region]:
    """Where an entity the user sees may be registered: their subtree, the regions above it, and
    the regions of the entities they see (a cooperative with member households in their villages)."""
    prefix = user.scope_prefix() if user.is_authenticated else None
    if prefix is None:
        return Region.objects.none()
    if prefix == "":
        return Region.objects.all()
    above = Region.objects.ancestors_of(user.region).order_by().values("pk")
    return Region.objects.filter(
        Q(code__startswith=prefix) | Q(pk__in=above) | Q(pk__in=Entity.objects.visible_to(user).values("region"))
    )


def _head(field: str, household: str = "pk") -> Subquery:
    heads = Member.objects.filter(household=OuterRef(household), relation=Relation.HEAD, is_active=True)
    return Subquery(heads.order_by("pk").values(field)[:1])


def households_in_scope(user: Any) -> QuerySet[Household]:
    """The households whose memberships and earnings the user keeps, with their 户主's name."""
    return Household.objects.visible_to(user).annotate(head_name=_head("name"))


def _everything(model: Any) -> Any:
    return lambda user: model.objects.all()


# Columns shared by the registers ---------------------------------------------------------------


def _cooperative_columns(required: bool = True) -> tuple[Column, ...]:
    return (
        cells.text(
            "cooperative_code",
            "合作社统一社会信用代码",
            parse=parse_credit_code,
            export="cooperative__credit_code",
            required=required,
            aliases=("合作社信用代码",),
            code=True,
        ),
        cells.text(
            "cooperative_name", "合作社名称", export="cooperative__name", aliases=("合作社",), help="仅供核对", width=24
        ),
    )


COOPERATIVE = Reference(
    "cooperative",
    (Lookup("cooperative_code", "credit_code"),),
    scope=entities_in_view,
    checks=(Check("cooperative_name", "name"),),
)


def household_columns() -> tuple[Column, ...]:
    """A household named by 户编号 or any active member's 身份证号, with its head's name to check (other
    registers that link households — funds' beneficiaries — use the same columns)."""
    return (
        cells.text(
            "household_number",
            "户编号",
            export="household__number",
            aliases=("户号", "农户编号"),
            help="户编号与身份证号至少填一项",
            code=True,
        ),
        cells.id_number(
            "id_number",
            "身份证号",
            export="export_head_id_number",
            aliases=("成员身份证号", "证件号码", "身份证号码"),
            help="该户任一在户成员的身份证号；导出时为户主的",
        ),
        cells.text("head_name", "户主姓名", export="export_head_name", aliases=("户主",), help="仅供核对"),
    )


def household_reference(scope: Any = households_in_scope) -> Reference:
    """The household of `household_columns`, found within `scope(user)`."""
    return Reference(
        "household",
        (
            Lookup("household_number", "number"),
            Lookup("id_number", "members__id_number", Q(members__is_active=True)),
        ),
        scope=scope,
        checks=(Check("head_name", "head_name"),),
    )


HOUSEHOLD = household_reference()


def _head_annotations() -> dict[str, Any]:
    return {"export_head_name": _head("name", "household"), "export_head_id_number": _head("id_number", "household")}


# 经营主体 ----------------------------------------------------------------------------------------


def _entity_writable(user: Any, entity: Entity) -> tuple[str, str] | None:
    if entity.region_id is not None and not _within(user, entity.region):
        return ("region", "注册地不在您的管辖范围内，不能登记或修改该主体")
    return None


def _industry_fits(entity: Any, industry: Industry) -> bool:
    region = entity.region if entity.region_id is not None else None
    return region is None or industry.county.code == county_code_of(region.code)


ENTITIES = Record(
    name="entities",
    label="经营主体",
    model=Entity,
    key=("credit_code",),
    columns=(
        cells.choice("kind", "主体类型", Entity, "kind", required=True, aliases=("类型",)),
        cells.text("name", "名称", "name", required=True, aliases=("主体名称", "企业名称"), width=28),
        cells.text(
            "credit_code",
            "统一社会信用代码",
            "credit_code",
            parse=parse_credit_code,
            required=True,
            aliases=("信用代码", "社会信用代码"),
            help="18位，末位为校验码",
            code=True,
        ),
        cells.text(
            "region_code",
            "注册地区划代码",
            export="region__code",
            aliases=("区划代码",),
            help="12位统计用区划代码，优先于注册地名称；合作社填到村",
            code=True,
        ),
        cells.text("region_name", "注册地", export="region__name", aliases=("注册地名称", "所在地")),
        cells.choice(
            "level", "级别", Entity, "level", aliases=("示范级别",), help="龙头企业级别或示范社、示范家庭农场级别"
        ),
        cells.money("annual_sales", "年销售额（元）", "annual_sales", blank_is_none=True, help="仅龙头企业填写"),
        cells.day("founded_on", "成立日期", "founded_on"),
        cells.text("industries", "经营产业", help="注册地所在县产业目录中的产业名称，多个用“、”分隔", width=24),
        cells.text("legal_person", "法定代表人", "legal_person"),
        cells.text("contact_name", "联系人", "contact_name"),
        cells.phone("contact_phone", "联系电话", "contact_phone"),
        cells.text("address", "地址", "address", width=30),
        cells.choice("status", "状态", Entity, "status"),
        cells.day("cancelled_on", "注销日期", "cancelled_on", help="已注销的主体填写，如 2024-03-01"),
    ),
    references=(
        Reference("region", (Lookup("region_code", "code"), Lookup("region_name", "name")), scope=entity_regions),
    ),
    many=(
        Many(
            "industries",
            "industries",
            scope=lambda user: Industry.objects.visible_to(user).select_related("county"),
            fits=_industry_fits,
            unknown="“{value}”不在注册地所在县的产业目录中",
        ),
    ),
    permission="cooperatives.add_entity",
    undo_permission="cooperatives.change_entity",
    visible=Entity.objects.visible_to,
    managed=Entity.objects.managed_by,
    writable=_entity_writable,
    region_code="region__code",
    subject=lambda entity: entity.name,
    who=("credit_code", "name"),
    ordering=("kind", "region__code", "name", "pk"),
    notes=(
        "每行填写一个龙头企业、农民专业合作社或家庭农场，以统一社会信用代码识别。",
        "注册地决定由谁管理：只能登记、修改注册在您管辖范围内的主体；合作社的注册地填到村。",
    ),
    taken="已登记在其他经营主体名下（不在您的管辖范围内），不能重复登记",
)


# 企业绑定合作社 -----------------------------------------------------------------------------------


def _binding_writable(user: Any, binding: Binding) -> tuple[str, str] | None:
    if binding.cooperative_id is not None and not _within(user, binding.cooperative.region):
        return ("cooperative", "该合作社不在您的管辖范围内，不能登记或修改其绑定")
    return None


BINDINGS = Record(
    name="bindings",
    label="企业绑定合作社",
    model=Binding,
    key=("enterprise", "cooperative", "started_on"),
    columns=(
        cells.text(
            "enterprise_code",
            "企业统一社会信用代码",
            parse=parse_credit_code,
            export="enterprise__credit_code",
            required=True,
            aliases=("龙头企业统一社会信用代码", "企业信用代码"),
            code=True,
        ),
        cells.text(
            "enterprise_name", "企业名称", export="enterprise__name", aliases=("龙头企业",), help="仅供核对", width=24
        ),
        *_cooperative_columns(),
        cells.day("started_on", "开始日期", "started_on", required=True, aliases=("绑定日期",)),
        cells.day("ended_on", "结束日期", "ended_on", help="仍在绑定的留空"),
        cells.text("contract_number", "合同编号", "contract_number", code=True),
        cells.listed(
            "linkage_types",
            "利益联结方式",
            _names(LinkageType),
            required=True,
            help="一种或多种，用“、”分隔",
            width=24,
        ),
        cells.text("order_volume", "年订单量", "order_volume", help="如：烤烟 300 吨"),
        cells.money("order_amount", "年订单金额（元）", "order_amount", blank_is_none=True),
    ),
    references=(
        Reference(
            "enterprise",
            (Lookup("enterprise_code", "credit_code"),),
            scope=enterprises_in_view,
            checks=(Check("enterprise_name", "name"),),
        ),
        COOPERATIVE,
    ),
    many=(Many("linkage_types", "linkage_types", scope=_everything(LinkageType)),),
    periods=(
        Period(
            ("enterprise", "cooperative"), "started_on", "ended_on", "与第{row}行的绑定期间重叠（同一企业同一合作社）"
        ),
    ),
    permission="cooperatives.add_binding",
    undo_permission="cooperatives.change_binding",
    visible=bindings_in_view,
    managed=Binding.objects.visible_to,
    writable=_binding_writable,
    region_code="cooperative__region__code",
    subject=lambda binding: f"{binding.enterprise} — {binding.cooperative}（{binding.started_on}起）",
    who=("enterprise_name", "cooperative_name"),
    ordering=("enterprise__name", "cooperative__name", "started_on", "pk"),
    notes=(
        "每行填写一个龙头企业与一个合作社的一段绑定，以企业、合作社和开始日期识别；绑定结束时填写结束日期。",
        "只能登记注册在您管辖范围内的合作社的绑定。",
    ),
)


# 合作社成员户 ------------------------------------------------------------------------------------


MEMBERSHIPS = Record(
    name="memberships",
    label="合作社成员户",
    model=Membership,
    key=("cooperative", "household", "joined_on"),
    columns=(
        *_cooperative_columns(),
        *household_columns(),
        cells.listed("joining_method", "入社方式", _names(JoiningMethod), export="joining_method__name", required=True),
        cells.money("shares", "入股金额（元）", "shares", aliases=("入股金额",)),
        cells.day("joined_on", "入社日期", "joined_on", required=True),
        cells.day("left_on", "退社日期", "left_on", help="仍是成员的留空"),
    ),
    references=(
        COOPERATIVE,
        HOUSEHOLD,
        Reference("joining_method", (Lookup("joining_method", "name"),), scope=_everything(JoiningMethod)),
    ),
    periods=(
        Period(("cooperative", "household"), "joined_on", "left_on", "与第{row}行的入社期间重叠（同一户同一合作社）"),
    ),
    permission="cooperatives.add_membership",
    undo_permission="cooperatives.change_membership",
    visible=Membership.objects.visible_to,
    managed=Membership.objects.visible_to,
    region_code="household__village__code",
    subject=lambda membership: f"{membership.household.number} {membership.cooperative}",
    who=("household_number", "head_name"),
    ordering=("cooperative__name", "household__number", "joined_on", "pk"),
    annotations=_head_annotations,
    notes=(
        "每行填写一户在一个合作社的一段成员期，以合作社、农户和入社日期识别；退社时填写退社日期。",
        "农户按户编号或该户任一在户成员的身份证号查找；只能登记您管辖范围内的农户。",
    ),
)


# 合作社收益 --------------------------------------------------------------------------------------


EARNINGS = Record(
    name="earnings",
    label="合作社收益",
    model=Earning,
    key=("household", "cooperative", "year", "kind"),
    columns=(
        *household_columns(),
        *_cooperative_columns(),
        cells.year("year", "年度", "year", required=True, aliases=("年份",)),
        cells.listed("kind", "收益类型", _names(EarningKind), export="kind__name", required=True),
        cells.money("amount", "金额（元）", "amount", required=True, aliases=("金额", "收益金额")),
    ),
    references=(
        HOUSEHOLD,
        COOPERATIVE,
        Reference("kind", (Lookup("kind", "name"),), scope=_everything(EarningKind)),
    ),
    permission="cooperatives.add_earning",
    undo_permission="cooperatives.change_earning",
    visible=Earning.objects.visible_to,
    managed=Earning.objects.visible_to,
    region_code="household__village__code",
    subject=lambda earning: f"{earning.household.number} {earning.cooperative} {earning.year}年{earning.kind}",
    who=("household_number", "head_name"),
    ordering=("household__number", "year", "cooperative__name", "kind__sort_order", "pk"),
    annotations=_head_annotations,
    notes=(
        "每行填写一户一年从一个合作社得到的一类收益（分红、土地流转租金、务工工资、订单收购款），以农户、合作社、年度和收益类型识别。",
        "该户在该年须是该合作社的成员（先导入成员户）。",
    ),
)


class CooperativeSheet(PersonalDataSheet, RecordSheet):
    """A record register of this app: previews masked like the households' own, and its pages linked."""

    def template_url(self) -> str | None:
        return reverse("cooperative_sheet_template", args=[self.name])

    def export_url(self) -> str | None:
        return reverse("cooperative_sheet_export", args=[self.name])

    def records_link(self) -> tuple[str, str] | None:
        return ("返回合作社 Excel 导入导出", reverse("cooperative_sheets"))


SHEETS: dict[str, CooperativeSheet] = {
    record.name: CooperativeSheet(record) for record in (ENTITIES, BINDINGS, MEMBERSHIPS, EARNINGS)
}
for sheet in SHEETS.values():
    register(sheet)
