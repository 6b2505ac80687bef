"""The cooperatives' alert rule (疑点) for the engine: a household's recorded 财产性收入 of a year below
what its cooperatives say they paid it that year as 分红 and 土地流转租金 (issue 10 §3).

The assessment app discovers this module and raises the alerts; this module knows nothing of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from django.db import connection

from cooperatives.models import Earning, EarningKind
from figures.alerts import register_rule
from figures.periods import Quarter
from households.alert_rules import DataQualityRule, Figures, yuan_text
from households.models import PROPERTY_FIELDS, Household, HouseholdStatus, IncomeRecord
from regions.models import Region


def _fen(expression: str) -> str:
    return f"CAST(ROUND(({expression}) * 100) AS BIGINT)"


def _sql() -> str:
    """One statement: the year's property earnings per household of the prefix, then the same
    households' income records of the year up to the quarter (by the household index)."""
    recorded = " + ".join(f"i.{name}" for name in PROPERTY_FIELDS)
    return f"""
        WITH earned AS (
            SELECT e.household_id, SUM({_fen("e.amount")}) AS fen
            FROM {Earning._meta.db_table} e
            JOIN {EarningKind._meta.db_table} k ON k.id = e.kind_id
            JOIN {Household._meta.db_table} h ON h.id = e.household_id
            JOIN {Region._meta.db_table} v ON v.id = h.village_id
            WHERE e.year = %(year)s AND k.is_property_income AND v.code LIKE %(within)s
              AND (h.status = %(active)s OR h.cancelled_on > %(last_day)s)
            GROUP BY e.household_id
        ),
        recorded AS (
            SELECT i.household_id, SUM({_fen(recorded)}) AS fen
            FROM {IncomeRecord._meta.db_table} i
            WHERE i.year = %(year)s AND i.quarter <= %(quarter)s AND i.household_id IN (SELECT household_id FROM earned)
            GROUP BY i.household_id
        )
        SELECT earned.household_id, recorded.fen, earned.fen
        FROM earned JOIN recorded ON recorded.household_id = earned.household_id
        WHERE recorded.fen < earned.fen
    """


class PropertyIncomeBelowEarnings(DataQualityRule):
    """疑点：本年已录入的财产性收入低于合作社的分红和土地流转租金：本年第一季度至本季度收入记录的
    资产收益分红、土地流转和其他财产性收入之和，低于合作社登记的本年度付给该户的分红和土地流转租金之和。
    多为收入漏记或合作社收益登记有误；本年尚无收入记录的户由“季度收入未录入”提示。"""

    code = "property_income_below_earnings"
    name = "疑点：财产性收入低于合作社分红和租金"
    order = 140

    def find(self, *, period: Quarter, within: str, parameters: Mapping[str, Decimal]) -> Iterable[tuple[int, Figures]]:
        with connection.cursor() as cursor:
            cursor.execute(
                _sql(),
                {
                    "year": period.year,
                    "quarter": period.number,
                    "within": f"{within}%",
                    "active": HouseholdStatus.ACTIVE,
                    "last_day": period.last_day,
                },
            )
            rows = cursor.fetchall()
        quarters = f"{period.year}年第1季度" if period.number == 1 else f"{period.year}年第1–{period.number}季度"
        return [
            (
                int(household),
                {
                    "已录入财产性收入": yuan_text(int(recorded)),
                    "合作社分红和租金": yuan_text(int(earned)),
                    "比较期间": quarters,
                },
            )
            for household, recorded, earned in rows
        ]


RULES = [PropertyIncomeBelowEarnings()]
for _rule in RULES:
    register_rule(_rule)
