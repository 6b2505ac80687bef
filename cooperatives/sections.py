"""What this register adds to a household's page and to its 明白卡 (registered in CooperativesConfig.ready)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Sum

from cooperatives.models import Binding, Earning, EarningKind, Entity, Membership
from households.cards import CardSection
from households.models import Household, IncomeRecord
from households.quarter import Quarter
from households.sections import HouseholdSection


@dataclass
class EarningYear:
    """A year of what the household earned from its cooperatives, beside what its income ledger recorded."""

    year: int
    by_kind: list[Decimal | None]
    total: Decimal
    property_from_cooperatives: Decimal  # 分红 + 土地流转租金
    recorded_property: Decimal | None  # the ledger's 财产性收入 of the year's quarters (what the 疑点 rule reads)
    recorded_quarters: int

    @property
    def property_below(self) -> bool:
        """The ledger records less 财产性收入 than the cooperatives paid (the 疑点 of issue 10 §3)."""
        return self.recorded_property is not None and self.recorded_property < self.property_from_cooperatives


@dataclass
class MembershipLine:
    membership: Membership
    is_active: bool
    enterprises: list[str] = field(default_factory=list)


def household_cooperation(household: Household, user: Any) -> Mapping[str, Any] | None:
    """The household page's block: memberships with their 双绑 status, and earnings by year and kind."""
    today = date.today()
    memberships = list(
        Membership.objects.filter(household=household)
        .select_related("cooperative", "joining_method")
        .order_by("left_on", "-joined_on")
    )
    enterprises: dict[int, list[str]] = defaultdict(list)
    for cooperative_id, name in (
        Binding.objects.active_on(today)
        .filter(cooperative__in=[m.cooperative_id for m in memberships], enterprise__in=Entity.objects.active_on(today))
        .values_list("cooperative_id", "enterprise__name")
        .order_by("enterprise__name")
    ):
        enterprises[cooperative_id].append(name)
    lines = [
        MembershipLine(
            membership=m,
            is_active=(m.left_on is None or m.left_on > today) and m.cooperative.is_active_on(today),
            enterprises=enterprises.get(m.cooperative_id, []),
        )
        for m in memberships
    ]
    kinds = list(EarningKind.objects.all())
    years = earning_years(household=household, kinds=kinds)
    can_add = user.has_perm("cooperatives.add_membership") and household.is_active
    if not lines and not years and not can_add:
        return None
    return {
        "household": household,
        "lines": lines,
        "kinds": kinds,
        "years": years,
        "can_add_earnings": user.has_perm("cooperatives.add_earning") and bool(memberships),
        "this_year": today.year,
    }


def earning_years(*, household: Household, kinds: Sequence[EarningKind]) -> list[EarningYear]:
    """Earnings summed by year and kind, newest year first, with the ledger's property income of each year."""
    sums: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for year, kind_id, total in (
        Earning.objects.filter(household=household)
        .order_by()
        .values_list("year", "kind_id")
        .annotate(total=Sum("amount"))
    ):
        sums[year][kind_id] = total
    if not sums:
        return []
    recorded = {
        row["year"]: row
        for row in IncomeRecord.objects.filter(household=household, year__in=list(sums))
        .order_by()
        .values("year")
        .annotate(
            property=Sum(F("property_dividends") + F("property_land_transfer") + F("property_other")),
            quarters=Count("pk"),
        )
    }
    property_kinds = {kind.pk for kind in kinds if kind.is_property_income}
    years = []
    for year in sorted(sums, reverse=True):
        amounts = sums[year]
        ledger = recorded.get(year)
        years.append(
            EarningYear(
                year=year,
                by_kind=[amounts.get(kind.pk) for kind in kinds],
                total=sum(amounts.values(), Decimal("0.00")),
                property_from_cooperatives=sum(
                    (amount for kind_id, amount in amounts.items() if kind_id in property_kinds), Decimal("0.00")
                ),
                recorded_property=ledger["property"] if ledger else None,
                recorded_quarters=ledger["quarters"] if ledger else 0,
            )
        )
    return years


def cooperatives_card_section(households: Sequence[Household], period: Quarter) -> CardSection:
    """The 明白卡's lines: the cooperatives each household belonged to at the quarter's end, the
    enterprise each was bound to then, and what the household earned from each that year."""
    day = period.last_day
    ids = [household.pk for household in households]
    memberships = list(
        Membership.objects.active_on(day)
        .filter(household_id__in=ids, cooperative__in=Entity.objects.active_on(day))
        .select_related("cooperative", "joining_method")
        .order_by("household_id", "joined_on", "cooperative__name")
    )
    enterprises: dict[int, list[str]] = defaultdict(list)
    for cooperative_id, name in (
        Binding.objects.active_on(day)
        .filter(cooperative__in={m.cooperative_id for m in memberships}, enterprise__in=Entity.objects.active_on(day))
        .values_list("cooperative_id", "enterprise__name")
        .order_by("enterprise__name")
    ):
        enterprises[cooperative_id].append(name)
    earned = {
        (household_id, cooperative_id): total
        for household_id, cooperative_id, total in Earning.objects.filter(household_id__in=ids, year=period.year)
        .order_by()
        .values_list("household_id", "cooperative_id")
        .annotate(total=Sum("amount"))
    }
    rows: dict[int, list[tuple[str, ...]]] = defaultdict(list)
    for m in memberships:
        rows[m.household_id].append(
            (
                m.cooperative.name,
                m.joining_method.name,
                f"{m.joined_on:%Y-%m-%d}",
                "、".join(enterprises.get(m.cooperative_id, [])) or "未绑定龙头企业",
                f"{earned[m.household_id, m.cooperative_id]:,.2f}"
                if (m.household_id, m.cooperative_id) in earned
                else "—",
            )
        )
    return CardSection(
        title="合作社与双绑",
        columns=("合作社", "入社方式", "入社日期", "联结龙头企业", f"{period.year}年收益（元）"),
        rows=rows,
        empty="未加入合作社",
    )


HOUSEHOLD_SECTION = HouseholdSection(
    key="cooperatives",
    title="合作社与收益（双绑）",
    template="cooperatives/_household_section.html",
    context=household_cooperation,
    order=20,
)
