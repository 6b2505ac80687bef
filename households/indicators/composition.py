"""收入构成 (the four wheels): each wheel's per-capita amount over the trailing four quarters, for the
stacked composition chart of the dashboards. No targets: they explain 人均纯收入, they are not judged."""

from __future__ import annotations

from figures.periods import PeriodKind
from households.indicators.base import PerCapitaIndicator

COMPOSITION = "收入构成"


class WagesPerCapita(PerCapitaIndicator):
    """人均工资性收入（近四季度）：近四季度均有记录的全部农户，工资性收入之和 ÷ 家庭人口之和。"""

    code = "composition_wages"
    name = "人均工资性收入"
    group = COMPOSITION
    period_kind = PeriodKind.TRAILING
    amount_field = "trailing_wages_fen"
    numerator_label = "工资性收入合计（元）"
    formula = "Σ 近四季度工资性收入 ÷ Σ 家庭人口"
    order = 50


class OperatingPerCapita(PerCapitaIndicator):
    """人均生产经营性收入（近四季度）：种植、养殖、林果和其他经营收入之和 ÷ 家庭人口之和（未扣经营性支出）。"""

    code = "composition_operating"
    name = "人均生产经营性收入"
    group = COMPOSITION
    period_kind = PeriodKind.TRAILING
    amount_field = "trailing_operating_fen"
    numerator_label = "生产经营性收入合计（元）"
    formula = "Σ 近四季度生产经营性收入 ÷ Σ 家庭人口"
    order = 51


class PropertyPerCapita(PerCapitaIndicator):
    """人均财产性收入（近四季度）：资产收益分红、土地流转和其他财产性收入之和 ÷ 家庭人口之和。"""

    code = "composition_property"
    name = "人均财产性收入"
    group = COMPOSITION
    period_kind = PeriodKind.TRAILING
    amount_field = "trailing_property_fen"
    numerator_label = "财产性收入合计（元）"
    formula = "Σ 近四季度财产性收入 ÷ Σ 家庭人口"
    order = 52


class TransfersPerCapita(PerCapitaIndicator):
    """人均转移性收入（近四季度）：计划生育金、低保金、特困供养金、养老保险金、生态补偿金和其他之和 ÷ 家庭人口之和。"""

    code = "composition_transfers"
    name = "人均转移性收入"
    group = COMPOSITION
    period_kind = PeriodKind.TRAILING
    amount_field = "trailing_transfers_fen"
    numerator_label = "转移性收入合计（元）"
    formula = "Σ 近四季度转移性收入 ÷ Σ 家庭人口"
    order = 53


class CostsPerCapita(PerCapitaIndicator):
    """人均生产经营性支出（近四季度）：生产经营性支出之和 ÷ 家庭人口之和；四项收入减去它即人均纯收入。"""

    code = "composition_costs"
    name = "人均生产经营性支出"
    group = COMPOSITION
    period_kind = PeriodKind.TRAILING
    amount_field = "trailing_costs_fen"
    numerator_label = "生产经营性支出合计（元）"
    formula = "Σ 近四季度生产经营性支出 ÷ Σ 家庭人口"
    order = 54


COMPOSITION_INDICATORS = [
    WagesPerCapita(),
    OperatingPerCapita(),
    PropertyPerCapita(),
    TransfersPerCapita(),
    CostsPerCapita(),
]
