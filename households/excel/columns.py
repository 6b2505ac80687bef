"""The two workbook kinds, column by column: headers, aliases, value kinds and 说明 text.

Reader, validator and writer all use these specs, so a template, an export and an import
always agree on what a column means.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from households.models import (
    EliminationMethod,
    Health,
    HouseholdType,
    Labour,
    MonitoringCategory,
    Relation,
    Schooling,
)


class Kind(StrEnum):
    TEXT = "text"
    ID_NUMBER = "id_number"
    CHOICE = "choice"
    BOOL = "bool"
    INT = "int"
    MONTH = "month"
    MONEY = "money"
    YEAR = "year"
    QUARTER = "quarter"
    REGION_CODE = "region_code"
    PHONE = "phone"


class Level(StrEnum):
    """Which record a roster column belongs to."""

    HOUSEHOLD = "household"
    CASE = "case"
    MEMBER = "member"
    INCOME = "income"


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    kind: Kind = Kind.TEXT
    level: Level = Level.HOUSEHOLD
    aliases: tuple[str, ...] = ()
    required: bool = False
    # label → stored value, for Kind.CHOICE; the labels are what users type and pick.
    choices: dict[str, str] = field(default_factory=dict)
    help: str = ""
    # Exported for reading, ignored on import (computed by the ledger itself).
    derived: bool = False


def _labels(choices: type) -> dict[str, str]:
    return {str(label): str(value) for value, label in choices.choices}  # type: ignore[attr-defined]


YES_NO = {"是": "1", "否": "0"}

ROSTER_COLUMNS: tuple[Column, ...] = (
    Column("county", "县", aliases=("县（市、区）", "县区", "县市区"), help="县（市、区）名称，仅供核对，可不填"),
    Column("township", "乡镇", aliases=("乡（镇）", "乡镇（街道）", "乡"), help="乡镇名称，仅供核对，可不填"),
    Column("village", "村", aliases=("行政村", "村（社区）", "村名"), help="村名；与区划代码至少填一项"),
    Column(
        "region_code",
        "区划代码",
        Kind.REGION_CODE,
        aliases=("村区划代码", "统计用区划代码", "行政区划代码"),
        help="村的12位统计用区划代码，优先于村名",
    ),
    Column(
        "household_number",
        "户编号",
        aliases=("户号", "农户编号"),
        help="全国防返贫监测信息系统户编号；为空时按户主身份证号匹配已有农户",
    ),
    Column("head_name", "户主姓名", aliases=("户主",), help="仅供核对；以与户主关系为“户主”的成员为准"),
    Column(
        "household_type",
        "户类型",
        Kind.CHOICE,
        required=True,
        choices=_labels(HouseholdType),
        aliases=("农户类型",),
        help="脱贫户 / 一般农户",
    ),
    Column("lifted_year", "脱贫年度", Kind.YEAR, aliases=("脱贫年份",), help="脱贫户填写，如 2019"),
    Column("relocated", "易地搬迁", Kind.BOOL, choices=YES_NO, aliases=("是否易地搬迁", "易地搬迁户"), help="是 / 否"),
    Column("phone", "联系电话", Kind.PHONE, aliases=("电话", "户联系电话", "手机号"), help="户联系电话"),
    Column(
        "category",
        "监测对象类别",
        Kind.CHOICE,
        Level.CASE,
        choices=_labels(MonitoringCategory),
        aliases=("监测类别", "监测对象类型"),
        help="脱贫不稳定户 / 边缘易致贫户 / 突发严重困难户；非监测对象留空",
    ),
    Column(
        "identified_month", "识别时间", Kind.MONTH, Level.CASE, aliases=("识别月份", "纳入监测时间"), help="如 2023-05"
    ),
    *(
        Column(f"risk_type_{n}", f"风险类型{n}", Kind.CHOICE, Level.CASE, help="风险类型，见下拉列表")
        for n in range(1, 6)
    ),
    Column(
        "eliminated", "风险是否消除", Kind.BOOL, Level.CASE, choices=YES_NO, aliases=("是否消除风险",), help="是 / 否"
    ),
    Column("eliminated_month", "消除时间", Kind.MONTH, Level.CASE, aliases=("风险消除时间",), help="如 2024-03"),
    Column(
        "elimination_method",
        "消除方式",
        Kind.CHOICE,
        Level.CASE,
        choices=_labels(EliminationMethod),
        aliases=("风险消除方式",),
        help="帮扶消除 / 自然消除",
    ),
    Column("member_name", "成员姓名", level=Level.MEMBER, required=True, aliases=("姓名",), help="每行一名成员"),
    Column(
        "id_number",
        "身份证号",
        Kind.ID_NUMBER,
        Level.MEMBER,
        required=True,
        aliases=("证件号码", "身份证号码", "公民身份号码", "成员身份证号"),
        help="18位，请将本列设置为文本格式",
    ),
    Column(
        "relation",
        "与户主关系",
        Kind.CHOICE,
        Level.MEMBER,
        required=True,
        choices=_labels(Relation),
        help="户主、配偶、之子……",
    ),
    Column("labour", "劳动技能", Kind.CHOICE, Level.MEMBER, required=True, choices=_labels(Labour)),
    Column("health", "健康状况", Kind.CHOICE, Level.MEMBER, choices=_labels(Health), help="默认健康"),
    Column("schooling", "在校生状况", Kind.CHOICE, Level.MEMBER, choices=_labels(Schooling), help="默认非在校生"),
    Column("work_place", "务工地点", level=Level.MEMBER, aliases=("务工所在地",)),
    Column("work_months", "务工月数", Kind.INT, Level.MEMBER, aliases=("务工时间（月）", "务工时间"), help="0-12"),
    Column(
        "medical_insurance",
        "参加基本医疗保险",
        Kind.BOOL,
        Level.MEMBER,
        choices=YES_NO,
        aliases=("是否参加基本医疗保险", "参加医保", "医保"),
        help="是 / 否，默认是",
    ),
)

INCOME_COLUMNS: tuple[Column, ...] = (
    Column("household_number", "户编号", level=Level.INCOME, required=True, aliases=("户号", "农户编号")),
    Column("head_name", "户主姓名", level=Level.INCOME, aliases=("户主",), help="仅供核对"),
    Column("year", "年度", Kind.YEAR, Level.INCOME, required=True, aliases=("年份",)),
    Column("quarter", "季度", Kind.QUARTER, Level.INCOME, required=True, help="1-4，或“第3季度”“三季度”“Q3”"),
    Column(
        "household_size",
        "家庭人口数",
        Kind.INT,
        Level.INCOME,
        aliases=("家庭人口", "人口数"),
        help="该季度在户人数，人均纯收入按此计算；为空时取当前在户成员数",
    ),
    *(
        Column(name, label, Kind.MONEY, Level.INCOME, aliases=aliases, help="元，保留两位小数")
        for name, label, aliases in (
            ("wages_migrant_work", "务工收入", ("外出务工收入",)),
            ("wages_public_welfare_job", "公益性岗位收入", ("公益岗位收入",)),
            ("wages_other", "其他工资性收入", ()),
            ("operating_planting", "种植业收入", ("种植收入",)),
            ("operating_breeding", "养殖业收入", ("养殖收入",)),
            ("operating_forestry_fruit", "林果业收入", ("林业收入", "林果收入")),
            ("operating_other", "其他生产经营性收入", ()),
            ("property_dividends", "资产收益分红", ("资产收益分红收入", "分红收入")),
            ("property_land_transfer", "土地流转收入", ("土地流转租金",)),
            ("property_other", "其他财产性收入", ()),
            ("transfer_family_planning", "计划生育金", ("计划生育奖扶金",)),
            ("transfer_minimum_living", "低保金", ("低保收入",)),
            ("transfer_extreme_poverty", "特困供养金", ("特困供养收入",)),
            ("transfer_pension", "养老保险金", ("养老金",)),
            ("transfer_ecological", "生态补偿金", ("生态补偿收入",)),
            ("transfer_other", "其他转移性收入", ()),
            ("operating_costs", "生产经营性支出", ("经营性支出",)),
            ("insurance_claims", "理赔收入", ()),
            ("compliant_out_of_pocket", "合规自付支出", ()),
        )
    ),
    Column("net_income", "家庭纯收入", Kind.MONEY, Level.INCOME, derived=True, help="系统计算，导入时忽略"),
    Column(
        "per_capita_net_income",
        "人均纯收入",
        Kind.MONEY,
        Level.INCOME,
        derived=True,
        help="系统计算，导入时忽略",
    ),
)
