"""The cooperatives' alert rule (疑点) for the engine: a household's recorded 财产性收入 of a year below
what its cooperatives say they paid it that year as 分红 and 土地流转租金 (issue 10 §3).

The assessment app discovers this module and raises the alerts; this module knows nothing of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from functools import reduce
from operator import add

from django.db.models import BigIntegerField, Exists, F, OuterRef, Subquery, Sum
from django.db.models.functions import Cast, Round

from cooperatives.models import Earning
from figures.alerts import register_rule
from figures.periods import Quarter
from households.alert_rules import DataQualityRule, Figures, registered_at_end, yuan_text
from households.models import PROPERTY_FIELDS, Household, IncomeRecord


def _fen(expression: F | Cast) -> Cast:
    return Cast(Round(expression * 100), BigIntegerField())


class PropertyIncomeBelowEarnings(DataQualityRule):
    """疑点：本年已录入的财产性收入低于合作社的分红和土地流转租金：本年第一季度至本季度收入记录的
    资产收益分红、土地流转和其他财产性收入之和，低于合作社登记的本年度付给该户的分红和土地流转租金之和。
    多为收入漏记或合作社收益登记有误；本年尚无收入记录的户由“季度收入未录入”提示。"""

    code = "property_income_below_earnings"
    name = "疑点：财产性收入低于合作社分红和租金"
    order = 140

    def find(self, *, period: Quarter, within: str, parameters: Mapping[str, Decimal]) -> Iterable[tuple[int, Figures]]:
        paid = Earning.objects.filter(household=OuterRef("pk"), year=period.year, kind__is_property_income=True)
        earned = paid.order_by().values("household").annotate(fen=Sum(_fen(F("amount")))).values("fen")
        property_income = reduce(add, (F(name) for name in PROPERTY_FIELDS))
        recorded = (
            IncomeRecord.objects.filter(household=OuterRef("pk"), year=period.year, quarter__lte=period.number)
            .order_by()
            .values("household")
            .annotate(fen=Sum(_fen(property_income)))
            .values("fen")
        )
        rows = (
            Household.objects.filter(village__code__startswith=within)
            .filter(registered_at_end(period, path=""))
            .filter(Exists(paid))
            .annotate(
                earned_fen=Subquery(earned, output_field=BigIntegerField()),
                recorded_fen=Subquery(recorded, output_field=BigIntegerField()),
            )
            .filter(recorded_fen__isnull=False, recorded_fen__lt=F("earned_fen"))
            .order_by()
            .values_list("pk", "recorded_fen", "earned_fen")
        )
        quarters = f"{period.year}年第1季度" if period.number == 1 else f"{period.year}年第1–{period.number}季度"
        return [
            (
                household,
                {
                    "已录入财产性收入": yuan_text(recorded),
                    "合作社分红和租金": yuan_text(earned),
                    "比较期间": quarters,
                },
            )
            for household, recorded, earned in rows
        ]


RULES = [PropertyIncomeBelowEarnings()]
for _rule in RULES:
    register_rule(_rule)
