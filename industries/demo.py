"""The demo county's 特色产业 (000 §(三)): catalogue, lead industries, planned and reported scale, 产业到户.

Deterministic per seed. Some villages report less than they planned and about a quarter of the
脱贫户/监测户 take part in no industry, so the figures show misses as well as hits.
"""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

from django.db.models import Exists, OuterRef, Q

from households.models import Household, HouseholdType, MonitoringCase
from industries.models import (
    Designation,
    Industry,
    IndustryCategory,
    Participation,
    ScalePlan,
    ScaleReport,
    ScaleUnit,
)
from regions.models import Level, Region

# name, category code, unit code, a typical household scale (low, high) in the unit
CATALOGUE = (
    ("烤烟", "planting", "mu", (2, 12)),
    ("核桃", "forestry_fruit", "mu", (3, 20)),
    ("花椒", "forestry_fruit", "mu", (2, 10)),
    ("芒果", "forestry_fruit", "mu", (2, 8)),
    ("特色水果", "forestry_fruit", "mu", (1, 6)),
    ("黑山羊", "breeding", "animal", (5, 40)),
)
COUNTY_SIGNATURE = "核桃"
COUNTY_DESIGNATED = ("核桃", "烤烟", "花椒", "黑山羊")
# The township's 一乡一特 and its other lead industries, by township name (the rest: by position).
TOWNSHIP_INDUSTRIES = {
    "湾碧傣族傈僳族乡": ("核桃", "烤烟", "芒果", "特色水果", "黑山羊", "花椒"),
    "铁锁乡": ("黑山羊", "核桃", "花椒"),
    "金碧镇": ("烤烟", "核桃", "特色水果"),
    "石羊镇": ("烤烟", "核桃", "黑山羊"),
    "龙街镇": ("花椒", "烤烟", "核桃"),
    "赵家店镇": ("烤烟", "花椒", "核桃"),
    "桂花镇": ("核桃", "特色水果", "烤烟"),
}
# 湾碧乡's own plan for 2026, as 000 §(三) states it.
WANBI_PLANS = (
    ("烤烟", Decimal("2700"), "000 §(三)2：烤烟种植面积稳定在2700亩以上"),
    ("芒果", Decimal("60000"), "000 §(三)5：6万亩金沙江沿岸芒果金色走廊"),
    ("特色水果", Decimal("80000"), "000 §(三)5：8万亩特色水果生产基地"),
    ("黑山羊", Decimal("100000"), "000 §(三)6：黑山羊养殖“10万+”"),
)
YEARS = (2025, 2026)
PARTICIPATION_SHARE = 0.75


def demo_industries_seed(*, county: Region, seed: int) -> None:
    """Catalogue, designations, plans, reports and participations of the demo county."""
    if Industry.objects.filter(county=county).exists():
        return
    rng = random.Random(seed * 7919 + 10)
    categories = {c.code: c for c in IndustryCategory.objects.all()}
    units = {u.code: u for u in ScaleUnit.objects.all()}
    industries = {
        name: Industry.objects.create(county=county, name=name, category=categories[category], unit=units[unit])
        for name, category, unit, _ in CATALOGUE
    }
    household_scale = {name: scale for name, _, _, scale in CATALOGUE}
    townships = list(Region.objects.filter(parent=county, level=Level.TOWNSHIP).order_by("code"))
    villages_of = {t.pk: list(Region.objects.filter(parent=t).order_by("code")) for t in townships}
    designations: list[Designation] = []
    plans: list[ScalePlan] = []
    reports: list[ScaleReport] = []
    products_of: dict[int, tuple[str, ...]] = {}  # village id → its lead industries, 一村一品 first
    for year in YEARS:
        designations += [
            Designation(region=county, year=year, industry=industries[name], is_signature=name == COUNTY_SIGNATURE)
            for name in COUNTY_DESIGNATED
        ]
    for township in townships:
        names = TOWNSHIP_INDUSTRIES.get(township.name, COUNTY_DESIGNATED)
        for year in YEARS:
            designations += [
                Designation(region=township, year=year, industry=industries[name], is_signature=index == 0)
                for index, name in enumerate(names[:3])
            ]
        for village in villages_of[township.pk]:
            picked = rng.sample(names, k=min(len(names), rng.choice((1, 2, 2, 3))))
            products_of[village.pk] = tuple(picked)
            for year in YEARS:
                designations += [
                    Designation(region=village, year=year, industry=industries[name], is_signature=index == 0)
                    for index, name in enumerate(picked)
                ]
    Designation.objects.bulk_create(designations)
    planned: dict[tuple[int, str], Decimal] = {}  # (village id, industry) → 2026 plan
    for township in townships:
        township_total: dict[str, Decimal] = {}
        for village in villages_of[township.pk]:
            for name in products_of[village.pk]:
                low, high = household_scale[name]
                plan = Decimal(rng.randrange(40, 160) * (low + high) * 5)
                planned[village.pk, name] = plan
                township_total[name] = township_total.get(name, Decimal(0)) + plan
                plans.append(ScalePlan(region=village, year=2026, industry=industries[name], scale=plan))
                for year in YEARS:
                    # Most villages reach their plan; about one in five falls short.
                    reached = rng.uniform(0.55, 0.9) if rng.random() < 0.2 else rng.uniform(0.95, 1.2)
                    scale = (plan * Decimal(str(round(reached if year == 2026 else reached * 0.92, 2)))).quantize(
                        Decimal("1")
                    )
                    reports.append(ScaleReport(village=village, year=year, industry=industries[name], scale=scale))
        if township.name == "湾碧傣族傈僳族乡":
            plans += [
                ScalePlan(region=township, year=2026, industry=industries[name], scale=scale, source_document=source)
                for name, scale, source in WANBI_PLANS
            ]
        else:
            plans += [
                ScalePlan(region=township, year=2026, industry=industries[name], scale=total)
                for name, total in sorted(township_total.items())
            ]
    ScalePlan.objects.bulk_create(plans)
    ScaleReport.objects.bulk_create(reports)
    _participations_seed(county=county, rng=rng, industries=industries, products_of=products_of, scales=household_scale)


def _participations_seed(
    *,
    county: Region,
    rng: random.Random,
    industries: dict[str, Industry],
    products_of: dict[int, tuple[str, ...]],
    scales: dict[str, tuple[int, int]],
) -> None:
    """产业到户 for about three in four 脱贫户 and 监测户, in their village's lead industries."""
    cutoff = date(2026, 9, 30)
    open_case = MonitoringCase.objects.filter(household=OuterRef("pk")).filter(
        Q(eliminated_month__isnull=True) | Q(eliminated_month__gt=cutoff)
    )
    targets = (
        Household.objects.in_region(county)
        .active()
        .filter(Q(household_type=HouseholdType.LIFTED) | Exists(open_case))
        .order_by("number")
        .values_list("pk", "village_id")
    )
    rows: list[Participation] = []
    for household_id, village_id in targets.iterator(chunk_size=5000):
        products = products_of.get(village_id)
        if not products or rng.random() >= PARTICIPATION_SHARE:
            continue
        taken = products[:1] if len(products) == 1 or rng.random() < 0.7 else products[:2]
        for name in taken:
            low, high = scales[name]
            scale = Decimal(rng.randint(low, high))
            for year in YEARS:
                grown = scale if year == 2025 else scale + rng.choice((0, 0, 1))
                rows.append(Participation(household_id=household_id, year=year, industry=industries[name], scale=grown))
        if len(rows) >= 10000:
            Participation.objects.bulk_create(rows)
            rows = []
    Participation.objects.bulk_create(rows)
