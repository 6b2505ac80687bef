"""Alert rules (预警规则) on households: who to look at after a quarter, and the figures why.

Each rule's `find` is one query for one county (or any code prefix) and quarter. Its figures are
short Chinese label → text pairs the inbox shows; they never carry a 身份证号, a phone number or a
birth date (an age stands in for it), so they are safe to show to every role that sees the alert.
The assessment app discovers this module and raises the alerts; this module knows nothing of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, ClassVar

from django.db.models import BigIntegerField, Count, Exists, ExpressionWrapper, F, Max, Min, OuterRef, Q, Subquery
from django.db.models.functions import Cast, Round
from django.utils import timezone

from figures.alerts import AlertRule, register_rule
from figures.periods import Quarter
from figures.registry import Parameter
from households.facts import HouseholdQuarterFact
from households.models import (
    LABOUR_CAPABLE,
    OPERATING_FIELDS,
    PROPERTY_FIELDS,
    TRANSFER_FIELDS,
    WAGE_FIELDS,
    HouseholdStatus,
    IncomeRecord,
    Labour,
    Member,
    MonitoringCase,
)
from households.personal_data import age_on

Figures = dict[str, str]
OPEN_CASE_MONTHS = Parameter("open_case_months", "风险未消除预警月数", Decimal("12"), "实践")


# --- helpers ------------------------------------------------------------------------------------


def registered_at_end(period: Quarter, path: str = "household__") -> Q:
    """Households on the register at the quarter's end (active, or cancelled after it), as the facts count them."""
    return Q(**{f"{path}status": HouseholdStatus.ACTIVE}) | Q(**{f"{path}cancelled_on__gt": period.last_day})


def facts(period: Quarter, within: str) -> Any:
    return HouseholdQuarterFact.objects.filter(
        year=period.year, quarter=period.number, village_code__startswith=within
    ).order_by()


def yuan_text(fen: int | None) -> str:
    if fen is None:
        return "—"
    return f"{Decimal(fen) / 100:,.2f}元"


def month_text(month: date | None) -> str:
    return "—" if month is None else f"{month.year}年{month.month}月"


def years_before(day: date, years: int) -> date:
    """The same calendar day `years` earlier (quarter ends are never 29 February); the first date there
    is when that falls before year 1 (no one was born before it, every birth date is after it)."""
    return day.replace(year=day.year - years) if day.year - years >= 1 else date.min


def months_before_end(period: Quarter, months: int) -> date:
    """The first day of the month `months` before the period's last month; the first date there is when
    that falls before year 1 (no case was identified before it)."""
    last_month = period.year * 12 + period.number * 3 - 1  # months since year 0, zero-based
    due = last_month - months
    return date(due // 12, due % 12 + 1, 1) if due >= 12 else date.min


def in_fen(field: str) -> Cast:
    return Cast(Round(F(field) * 100), BigIntegerField())


# --- 收入与监测 ------------------------------------------------------------------------------------


class BelowThresholdUnmonitored(AlertRule):
    """低于监测标准未纳入监测：近四季度人均纯收入低于本年度监测范围、期末又不是监测对象的农户。
    曾经风险消除的农户由“风险消除后又低于监测标准”提示，不重复预警。核实后可一键纳入监测。"""

    code = "below_threshold_unmonitored"
    name = "低于监测标准未纳入监测"
    suggests_monitoring = True
    order = 10

    def find(self, *, period: Quarter, within: str, parameters: Mapping[str, Decimal]) -> Iterable[tuple[int, Figures]]:
        eliminated = MonitoringCase.objects.filter(
            household=OuterRef("household_id"), eliminated_month__lte=period.last_day
        )
        rows = (
            facts(period, within)
            .filter(below_threshold=True, monitored=False)
            .exclude(Exists(eliminated))
            .values_list("household_id", "per_capita_fen", "threshold_fen")
        )
        return [
            (household, {"近四季度人均纯收入": yuan_text(amount), "监测标准": yuan_text(threshold)})
            for household, amount, threshold in rows
        ]


class IncomeDrop(AlertRule):
    """人均纯收入同比大幅下降：本季度人均纯收入比上年同季度下降达到所设比例（默认 30%）的农户。
    人均纯收入取各季度记录的家庭纯收入 ÷ 家庭人口；上年同季度人均纯收入为 0 或负数的不比较。"""

    code = "income_drop"
    name = "人均纯收入同比大幅下降"
    parameters = (Parameter("income_drop_share", "人均纯收入同比下降预警比例", Decimal("0.30"), "实践"),)
    order = 20

    def find(self, *, period: Quarter, within: str, parameters: Mapping[str, Decimal]) -> Iterable[tuple[int, Figures]]:
        # Compared in whole fen and basis points, so a fall of exactly the set share trips on
        # SQLite and PostgreSQL alike.
        basis_points = int((parameters["income_drop_share"] * 10000).to_integral_value(ROUND_HALF_UP))
        last_year = period.year_earlier()
        prior = IncomeRecord.objects.filter(
            household=OuterRef("household_id"), year=last_year.year, quarter=last_year.number
        ).annotate(fen=in_fen("per_capita_net_income"))
        rows = (
            IncomeRecord.objects.filter(
                year=period.year, quarter=period.number, household__village__code__startswith=within
            )
            .filter(registered_at_end(period))
            .annotate(
                now_fen=in_fen("per_capita_net_income"),
                prior_fen=Subquery(prior.values("fen")[:1], output_field=BigIntegerField()),
            )
            .filter(prior_fen__gt=0)
            .alias(
                excess=ExpressionWrapper(
                    (F("prior_fen") - F("now_fen")) * 10000 - F("prior_fen") * basis_points,
                    output_field=BigIntegerField(),
                )
            )
            .filter(excess__gte=0)
            .order_by()
            .values_list("household_id", "now_fen", "prior_fen")
        )
        return [
            (
                household,
                {
                    "本季度人均纯收入": yuan_text(now),
                    "上年同季度人均纯收入": yuan_text(prior_fen),
                    "下降幅度": f"{Decimal(prior_fen - now) * 100 / prior_fen:.1f}%",
                },
            )
            for household, now, prior_fen in rows
        ]


class IncomeMissing(AlertRule):
    """季度收入未录入：季度结束后，期末在册却没有该季度收入记录的农户。季度尚未结束时不预警。"""

    code = "income_missing"
    name = "季度收入未录入"
    order = 30

    def find(self, *, period: Quarter, within: str, parameters: Mapping[str, Decimal]) -> Iterable[tuple[int, Figures]]:
        if period.last_day >= timezone.localdate():
            return []
        rows = facts(period, within).filter(recorded=False).values_list("household_id", "members")
        return [(household, {"未录入季度": period.label, "在户人数": f"{members}人"}) for household, members in rows]


class OpenCaseWithoutMeasures(AlertRule):
    """监测满期无帮扶措施：期末风险未消除、识别已满所设月数（默认 12 个月），却没有登记任何帮扶措施的监测对象。
    帮扶措施按当前登记的计。"""

    code = "open_case_without_measures"
    name = "监测满期无帮扶措施"
    parameters = (OPEN_CASE_MONTHS,)
    order = 40

    def find(self, *, period: Quarter, within: str, parameters: Mapping[str, Decimal]) -> Iterable[tuple[int, Figures]]:
        months = int(parameters["open_case_months"])
        measures = MonitoringCase.measures.through.objects.filter(monitoringcase_id=OuterRef("pk"))
        rows = (
            MonitoringCase.objects.filter(
                household__village__code__startswith=within, identified_month__lte=months_before_end(period, months)
            )
            .filter(Q(eliminated_month__isnull=True) | Q(eliminated_month__gt=period.last_day))
            .filter(registered_at_end(period))
            .exclude(Exists(measures))
            .order_by()
            .values_list("household_id", "identified_month")
        )
        end_month = period.year * 12 + period.number * 3
        return [
            (
                household,
                {
                    "识别时间": month_text(identified),
                    "已监测": f"{end_month - (identified.year * 12 + identified.month)}个月",
                    "帮扶措施": "无",
                },
            )
            for household, identified in rows
        ]


class EliminatedBelowThreshold(AlertRule):
    """风险消除后又低于监测标准：曾经风险消除、期末不是监测对象，近四季度人均纯收入又低于本年度监测范围的农户。
    核实后可一键重新纳入监测。"""

    code = "eliminated_below_threshold"
    name = "风险消除后又低于监测标准"
    suggests_monitoring = True
    order = 50

    def find(self, *, period: Quarter, within: str, parameters: Mapping[str, Decimal]) -> Iterable[tuple[int, Figures]]:
        eliminated = MonitoringCase.objects.filter(
            household=OuterRef("household_id"), eliminated_month__lte=period.last_day
        ).order_by()
        last_elimination = eliminated.values("household").annotate(last=Max("eliminated_month")).values("last")[:1]
        rows = (
            facts(period, within)
            .filter(below_threshold=True, monitored=False)
            .filter(Exists(eliminated))
            .annotate(eliminated_on=Subquery(last_elimination))
            .values_list("household_id", "per_capita_fen", "threshold_fen", "eliminated_on")
        )
        return [
            (
                household,
                {
                    "风险消除时间": month_text(eliminated_on),
                    "近四季度人均纯收入": yuan_text(amount),
                    "监测标准": yuan_text(threshold),
                },
            )
            for household, amount, threshold, eliminated_on in rows
        ]


# --- 数据疑点 (data quality) ------------------------------------------------------------------------


class DataQualityRule(AlertRule):
    """Base of the 疑点 rules: a record that looks wrong; the quarter is not closed while one is open."""

    data_quality: ClassVar[bool] = True


def members_in(period: Quarter, within: str) -> Any:
    return (
        Member.objects.filter(is_active=True, household__village__code__startswith=within)
        .filter(registered_at_end(period))
        .order_by()
    )


class MemberTooOld(DataQualityRule):
    """疑点：成员年龄超过所设岁数（默认 100 岁，按季度末计算）——多为身份证号录入错误。"""

    code = "member_too_old"
    name = "疑点：成员年龄超过100岁"
    parameters = (Parameter("member_age_limit", "成员年龄疑点上限（岁）", Decimal("100"), "实践"),)
    order = 100

    def find(self, *, period: Quarter, within: str, parameters: Mapping[str, Decimal]) -> Iterable[tuple[int, Figures]]:
        limit = int(parameters["member_age_limit"])
        # Older than the limit: at least limit + 1 completed years at the quarter's end.
        rows = (
            members_in(period, within)
            .filter(birth_date__lte=years_before(period.last_day, limit + 1))
            .values("household_id")
            .annotate(people=Count("pk"), oldest=Min("birth_date"))
            .values_list("household_id", "people", "oldest")
        )
        return [
            (household, {"超龄成员": f"{people}人", "最大年龄": f"{age_on(oldest, period.last_day)}岁"})
            for household, people, oldest in rows
        ]


class YoungLabour(DataQualityRule):
    """疑点：未满所设岁数（默认 16 岁，按季度末计算）的成员被登记为技能、普通或弱劳动力。"""

    code = "labour_under_age"
    name = "疑点：未满16岁登记为劳动力"
    parameters = (Parameter("labour_min_age", "劳动力最低年龄（岁）", Decimal("16"), "实践"),)
    order = 110

    def find(self, *, period: Quarter, within: str, parameters: Mapping[str, Decimal]) -> Iterable[tuple[int, Figures]]:
        minimum = int(parameters["labour_min_age"])
        rows = (
            members_in(period, within)
            .filter(labour__in=LABOUR_CAPABLE, birth_date__gt=years_before(period.last_day, minimum))
            .values("household_id")
            .annotate(people=Count("pk"), youngest=Max("birth_date"))
            .values_list("household_id", "people", "youngest")
        )
        return [
            (household, {"未成年劳动力": f"{people}人", "最小年龄": f"{age_on(youngest, period.last_day)}岁"})
            for household, people, youngest in rows
        ]


class WorkMonthsWithoutLabour(DataQualityRule):
    """疑点：登记为丧失劳动力或无劳动力的成员填了务工月数。

    Member.work_months is one number per member (务工时间, months in a year, 0–12, and the
    database refuses more than 12); there is no record of months per quarter, so "more than 3
    months in a quarter" cannot be observed. What the register can show is a record that
    contradicts itself: months of migrant work on a member who is recorded as unable to work.
    """

    code = "work_months_without_labour"
    name = "疑点：无劳动能力却有务工月数"
    order = 120

    def find(self, *, period: Quarter, within: str, parameters: Mapping[str, Decimal]) -> Iterable[tuple[int, Figures]]:
        rows = (
            members_in(period, within)
            .filter(work_months__gt=0, labour__in=[Labour.LOST, Labour.NONE])
            .values("household_id")
            .annotate(people=Count("pk"), months=Max("work_months"))
            .values_list("household_id", "people", "months")
        )
        return [
            (household, {"矛盾成员": f"{people}人", "务工月数": f"{months}个月"}) for household, people, months in rows
        ]

    @property
    def definition(self) -> str:
        return "疑点：登记为丧失劳动力或无劳动力的成员填了务工月数（务工月数为全年月数，无法按季度核对）。"


class AllIncomesZero(DataQualityRule):
    """疑点：本季度收入记录的工资性、生产经营性、财产性、转移性四项收入全部为 0。"""

    code = "incomes_all_zero"
    name = "疑点：四项收入均为0"
    order = 130

    def find(self, *, period: Quarter, within: str, parameters: Mapping[str, Decimal]) -> Iterable[tuple[int, Figures]]:
        zero = {name: 0 for name in (*WAGE_FIELDS, *OPERATING_FIELDS, *PROPERTY_FIELDS, *TRANSFER_FIELDS)}
        rows = (
            IncomeRecord.objects.filter(
                year=period.year, quarter=period.number, household__village__code__startswith=within, **zero
            )
            .filter(registered_at_end(period))
            .order_by()
            .values_list("household_id", "household_size")
        )
        return [(household, {"本季度四项收入": "均为0", "家庭人口": f"{size}人"}) for household, size in rows]


RULES: list[AlertRule] = [
    BelowThresholdUnmonitored(),
    IncomeDrop(),
    IncomeMissing(),
    OpenCaseWithoutMeasures(),
    EliminatedBelowThreshold(),
    MemberTooOld(),
    YoungLabour(),
    WorkMonthsWithoutLabour(),
    AllIncomesZero(),
]
for _rule in RULES:
    register_rule(_rule)
