"""收入: per-capita net income over windows, its growth, and the share of households whose 生产经营 fell."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from django.db.models import F, Q

from figures.periods import PeriodKind
from households.indicators.base import INCOME, LIFTED, MONITORED, GrowthIndicator, PerCapitaIndicator, ShareIndicator

# --- 收入 -------------------------------------------------------------------------------------


class LiftedPerCapita(PerCapitaIndicator):
    """脱贫户人均纯收入（近四季度）：
    本季度及前三个季度均有收入记录的脱贫户，家庭纯收入之和 ÷ 家庭人口之和（家庭人口取本季度记录），
    最后一步四舍五入到分。"""

    code = "income_per_capita_lifted"
    name = "脱贫户人均纯收入（近四季度）"
    period_kind = PeriodKind.TRAILING
    who = LIFTED
    formula = "Σ 近四季度家庭纯收入 ÷ Σ 家庭人口（脱贫户）"
    order = 10


class MonitoredPerCapita(PerCapitaIndicator):
    """监测对象人均纯收入（近四季度）：
    期末未消除风险的监测户中，近四季度均有记录者的家庭纯收入之和 ÷ 家庭人口之和。"""

    code = "income_per_capita_monitored"
    name = "监测对象人均纯收入（近四季度）"
    period_kind = PeriodKind.TRAILING
    who = MONITORED
    formula = "Σ 近四季度家庭纯收入 ÷ Σ 家庭人口（监测对象）"
    order = 11


class AllPerCapita(PerCapitaIndicator):
    """全部农户人均纯收入（近四季度）：
    台账内近四季度均有记录的全部农户，家庭纯收入之和 ÷ 家庭人口之和。"""

    code = "income_per_capita_all"
    name = "全部农户人均纯收入（近四季度）"
    period_kind = PeriodKind.TRAILING
    formula = "Σ 近四季度家庭纯收入 ÷ Σ 家庭人口（全部农户）"
    order = 12


class LiftedPerCapitaYearToDate(PerCapitaIndicator):
    """脱贫户人均纯收入（年内累计）：
    本年第一季度至本季度均有记录的脱贫户，家庭纯收入之和 ÷ 家庭人口之和。年度目标在第四季度考核。
    """

    code = "income_per_capita_lifted_ytd"
    name = "脱贫户人均纯收入（年内累计）"
    period_kind = PeriodKind.YEAR_TO_DATE
    who = LIFTED
    complete_field = "ytd_complete"
    amount_field = "ytd_net_fen"
    formula = "Σ 年内累计家庭纯收入 ÷ Σ 家庭人口（脱贫户）"
    order = 13


class MonitoredPerCapitaYearToDate(PerCapitaIndicator):
    """监测对象人均纯收入（年内累计）：
    本年第一季度至本季度均有记录的监测户，家庭纯收入之和 ÷ 家庭人口之和。"""

    code = "income_per_capita_monitored_ytd"
    name = "监测对象人均纯收入（年内累计）"
    period_kind = PeriodKind.YEAR_TO_DATE
    who = MONITORED
    complete_field = "ytd_complete"
    amount_field = "ytd_net_fen"
    formula = "Σ 年内累计家庭纯收入 ÷ Σ 家庭人口（监测对象）"
    order = 14


class AllPerCapitaYearToDate(PerCapitaIndicator):
    """全部农户人均纯收入（年内累计）：
    本年第一季度至本季度均有记录的全部农户，家庭纯收入之和 ÷ 家庭人口之和。"""

    code = "income_per_capita_all_ytd"
    name = "全部农户人均纯收入（年内累计）"
    period_kind = PeriodKind.YEAR_TO_DATE
    complete_field = "ytd_complete"
    amount_field = "ytd_net_fen"
    formula = "Σ 年内累计家庭纯收入 ÷ Σ 家庭人口（全部农户）"
    order = 15


class LiftedIncomeGrowth(GrowthIndicator):
    """脱贫户人均纯收入同比增长：
    近四季度人均纯收入 ÷ 上年同期四个季度人均纯收入 − 1，只计八个季度均有记录的脱贫户。"""

    code = "income_growth_lifted"
    name = "脱贫户人均纯收入增长"
    formula = "本期人均纯收入 ÷ 上年同期人均纯收入 − 1"
    order = 20


class OperatingIncomeGrowth(GrowthIndicator):
    """脱贫户人均生产经营性收入同比增长（种植、养殖、林果、其他经营收入，未扣经营性支出）。"""

    code = "operating_income_growth_lifted"
    name = "脱贫户生产经营性收入增长"
    current_field = "trailing_operating_fen"
    prior_field = "prior_operating_fen"
    formula = "本期人均生产经营性收入 ÷ 上年同期 − 1"
    order = 21


class PropertyIncomeGrowth(GrowthIndicator):
    """脱贫户人均财产性收入同比增长（资产收益分红、土地流转、其他财产性收入）。"""

    code = "property_income_growth_lifted"
    name = "脱贫户财产性收入增长"
    current_field = "trailing_property_fen"
    prior_field = "prior_property_fen"
    formula = "本期人均财产性收入 ÷ 上年同期 − 1"
    order = 22


class OperatingFallShare(ShareIndicator):
    """生产经营收入同比下降户占比：
    本季度与上年同季度都有记录的农户中，本季度生产经营性收入低于上年同季度的户数 ÷ 户数。
    001：每高于上级 1 个百分点扣 0.5 分。"""

    code = "operating_fall_share"
    name = "生产经营收入下降户占比"
    group = INCOME
    period_kind = PeriodKind.QUARTER
    numerator_label = "下降户数"
    denominator_label = "两期均有记录户数"
    formula = "本季度生产经营性收入 < 上年同季度的户数 ÷ 两期均有记录的户数"
    order = 23

    def base(self, parameters: Mapping[str, Decimal]) -> Q:
        return Q(quarter_operating_fen__isnull=False, prior_quarter_operating_fen__isnull=False)

    def hit(self, parameters: Mapping[str, Decimal]) -> Q:
        return Q(quarter_operating_fen__lt=F("prior_quarter_operating_fen"))
