"""监测帮扶: the households behind each monitoring shortfall, and 填报进度."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet

from figures.periods import PeriodKind, Quarter
from figures.registry import (
    Direction,
    Parameter,
)
from households.indicators.base import FEN, LIFTED, MONITORED, MONITORING, CountIndicator, ShareIndicator
from regions.models import Region

# --- 监测帮扶 -----------------------------------------------------------------------------------


class LiftedBelowThresholdUnmonitored(CountIndicator):
    """低于监测标准未纳入监测的脱贫户：
    近四季度人均纯收入低于本年度监测范围、期末不是监测对象的脱贫户数，应为 0。"""

    code = "lifted_below_threshold_unmonitored"
    name = "低于监测标准未纳入监测的脱贫户"
    group = MONITORING
    period_kind = PeriodKind.TRAILING
    numerator_label = "低于标准未监测户数"
    denominator_label = "近四季度有完整记录的脱贫户数"
    formula = "近四季度人均纯收入 < 监测范围 且 未纳入监测的脱贫户数"
    order = 30

    def base(self, parameters: Mapping[str, Decimal]) -> Q:
        return LIFTED & Q(trailing_complete=True)

    def hit(self, parameters: Mapping[str, Decimal]) -> Q:
        return Q(below_threshold=True, monitored=False)


class BelowKeyLine(CountIndicator):
    """人均纯收入低于 1 万元的农户（重点户，002：
    一对一帮扶）：近四季度人均纯收入低于所设线（默认 10,000 元）的户数。"""

    code = "below_key_line"
    name = "人均纯收入低于1万元的农户"
    group = MONITORING
    period_kind = PeriodKind.TRAILING
    numerator_label = "低于该线户数"
    denominator_label = "近四季度有完整记录的户数"
    formula = "近四季度人均纯收入 < 重点户收入线 的户数"
    parameters = (Parameter("key_household_line", "重点户收入线（元/人·年）", Decimal("10000"), "002"),)
    order = 31

    def base(self, parameters: Mapping[str, Decimal]) -> Q:
        return Q(trailing_complete=True, per_capita_fen__isnull=False)

    def hit(self, parameters: Mapping[str, Decimal]) -> Q:
        return Q(per_capita_fen__lt=int(parameters["key_household_line"] * FEN))


class ZeroEmployment(CountIndicator):
    """零就业家庭（有劳动力）：
    有劳动能力成员、但无成员务工且本季度工资性收入为 0 的脱贫户和监测户数，应为 0（002）。"""

    code = "zero_employment_with_labour"
    name = "有劳动力的零就业家庭"
    group = MONITORING
    period_kind = PeriodKind.QUARTER
    numerator_label = "零就业户数"
    denominator_label = "有劳动力的脱贫户和监测户数"
    formula = "有劳动力、无务工成员、本季度工资性收入为 0 的户数"
    order = 32

    def base(self, parameters: Mapping[str, Decimal]) -> Q:
        return (LIFTED | MONITORED) & Q(labour=True, recorded=True)

    def hit(self, parameters: Mapping[str, Decimal]) -> Q:
        return Q(employed=False, quarter_wages_fen=0)


class LongOpenCases(CountIndicator):
    """识别满 12 个月仍未消除风险的监测对象：
    期末未消除风险、识别时间距期末已满所设月数（默认 12）的户数。"""

    code = "monitoring_open_twelve_months"
    name = "识别满12个月未消除风险的监测对象"
    group = MONITORING
    period_kind = PeriodKind.QUARTER
    numerator_label = "满期未消除户数"
    denominator_label = "期末监测对象户数"
    formula = "识别时间 ≤ 期末 − 所设月数 的未消除监测户数"
    parameters = (Parameter("open_case_months", "风险未消除预警月数", Decimal("12"), "实践"),)
    order = 33

    def base(self, parameters: Mapping[str, Decimal]) -> Q:
        return MONITORED

    def hit(self, parameters: Mapping[str, Decimal]) -> Q:
        # identified_month is a month's first day; "due" is that day of the period's last month minus N months.
        due = parameters["_open_case_due"]
        return Q(identified_month__lte=due) if due is not None else Q(pk__in=[])

    def aggregates(self, *, period: Quarter, parameters: Mapping[str, Decimal]) -> dict[str, Any]:
        return super().aggregates(period=period, parameters=_with_due(period, parameters))

    def numerator_records(self, *, period: Quarter, region: Region, parameters: Mapping[str, Decimal]) -> QuerySet[Any]:
        return super().numerator_records(period=period, region=region, parameters=_with_due(period, parameters))


def _with_due(period: Quarter, parameters: Mapping[str, Decimal]) -> dict[str, Any]:
    months = int(parameters["open_case_months"])
    last_month = period.year * 12 + period.number * 3 - 1  # months since year 0, zero-based
    due = last_month - months
    # Before year 1 there are no dates, and no case can have been identified: nothing is due yet.
    return {**parameters, "_open_case_due": date(due // 12, due % 12 + 1, 1) if due >= 12 else None}


class EntryProgress(ShareIndicator):
    """填报进度：本季度已录入收入的户数 ÷ 期末在册户数（乡镇在关账前催报的依据）。"""

    code = "entry_progress"
    name = "收入填报进度"
    group = MONITORING
    period_kind = PeriodKind.QUARTER
    direction = Direction.HIGHER
    numerator_label = "已录入户数"
    denominator_label = "在册户数"
    formula = "本季度已录入收入的户数 ÷ 在册户数"
    order = 40

    def hit(self, parameters: Mapping[str, Decimal]) -> Q:
        return Q(recorded=True)
