"""The demo county's market entities and 双绑 (000 §(四), 001 §(三)): deterministic per seed.

Five 龙头企业 registered at the county; a cooperative or two in most villages (two villages have
none, and some cooperatives are bound to no enterprise, so the coverage targets show misses);
family farms; 致富带头人; memberships for about 60% of the eligible households; yearly earnings —
for a few households more 分红 and rent than their income records show (the 疑点 rule finds them).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

from django.db.models import Exists, OuterRef, Q, Sum
from stdnum.cn import uscc

from cooperatives.models import (
    Binding,
    EarningKind,
    Entity,
    EntityKind,
    EntityLevel,
    JoiningMethod,
    LinkageType,
    Membership,
    RichLeader,
)
from cooperatives.models import Earning as EarningRow
from households.models import (
    LABOUR_CAPABLE,
    Household,
    HouseholdType,
    IncomeRecord,
    Member,
    MonitoringCase,
    Relation,
)
from industries.models import Industry
from regions.models import Level, Region

# name, level, annual sales (yuan), industry
ENTERPRISES = (
    ("大姚县核桃产业开发有限公司", EntityLevel.PROVINCIAL, Decimal("12600000"), "核桃"),
    ("云南金沙江果业有限公司", EntityLevel.PREFECTURAL, Decimal("6850000"), "芒果"),
    ("大姚县云岭黑山羊养殖有限公司", EntityLevel.COUNTY, Decimal("3120000"), "黑山羊"),
    ("大姚县昙华花椒产业有限公司", EntityLevel.COUNTY, Decimal("1480000"), "花椒"),
    ("大姚县金叶烤烟产业服务有限公司", EntityLevel.COUNTY, Decimal("2350000"), "烤烟"),
)
# Industries the cooperatives work in → the enterprise that buys from them (特色水果 goes to the fruit company).
BUYER = {"核桃": 0, "芒果": 1, "特色水果": 1, "黑山羊": 2, "花椒": 3, "烤烟": 4}
UNBOUND_SHARE = 0.15
MEMBER_SHARE = 0.6
VILLAGES_WITHOUT = 2
TODAY = date(2026, 9, 30)


def credit_code(serial: int, *, kind: str) -> str:
    """A well-formed 统一社会信用代码 for the demo (region 532326, an invented organisation code)."""
    department_and_type = {"enterprise": "91", "cooperative": "93", "family_farm": "92"}[kind]
    body = f"{department_and_type}532326MA{serial:07d}"
    return body + uscc.calc_check_digit(body)


def demo_cooperatives_seed(*, county: Region, seed: int) -> None:
    if Entity.objects.filter(region__code__startswith=county.prefix).exists():
        return
    rng = random.Random(seed * 7919 + 20)
    industries = {i.name: i for i in Industry.objects.filter(county=county)}
    serial = iter(range(1, 10**7))
    enterprises: list[Entity] = []
    for name, level, sales, industry in ENTERPRISES:
        enterprise = Entity.objects.create(
            kind=EntityKind.ENTERPRISE,
            name=name,
            credit_code=credit_code(next(serial), kind="enterprise"),
            region=county,
            level=level,
            annual_sales=sales,
            founded_on=date(2008 + len(enterprises) * 3, 3, 1),
            legal_person=rng.choice(("李", "杨", "张", "罗")) + rng.choice(("建国", "志明", "海燕", "春华")),
            contact_phone=f"0878-62{rng.randrange(10000, 99999)}",
            address=f"大姚县金碧镇工业园区{rng.randrange(1, 60)}号",
        )
        if industry in industries:
            enterprise.industries.add(industries[industry])
        enterprises.append(enterprise)
    villages = list(Region.objects.filter(code__startswith=county.prefix, level=Level.VILLAGE).order_by("code"))
    without = {village.pk for village in rng.sample(villages, k=min(VILLAGES_WITHOUT, len(villages)))}
    signature = _village_products(villages)
    linkages = list(LinkageType.objects.all())
    cooperatives_of: dict[int, list[Entity]] = {}
    for village in villages:
        if village.pk in without:
            continue
        products = signature.get(village.pk) or ("核桃",)
        for index in range(1 if rng.random() < 0.75 else 2):
            product = products[index % len(products)]
            kind_word = "养殖" if product == "黑山羊" else "种植"
            cooperative = Entity.objects.create(
                kind=EntityKind.COOPERATIVE,
                name=f"大姚县{village.name.removesuffix('村')}{product}{kind_word}专业合作社"
                + ("" if index == 0 else "第二社"),
                credit_code=credit_code(next(serial), kind="cooperative"),
                region=village,
                level=rng.choices((EntityLevel.NONE, EntityLevel.COUNTY, EntityLevel.PREFECTURAL), weights=(80, 16, 4))[
                    0
                ],
                founded_on=date(rng.randrange(2013, 2024), rng.randrange(1, 13), 1),
                contact_name=rng.choice(("李", "杨", "罗", "起", "普")) + rng.choice(("文", "国", "秀", "春")) + "华",
                contact_phone=f"1{rng.choice((38, 39, 58, 87))}{rng.randrange(10**7, 10**8)}",
            )
            if product in industries:
                cooperative.industries.add(industries[product])
            cooperatives_of.setdefault(village.pk, []).append(cooperative)
            buyer = BUYER.get(product)
            if buyer is None or rng.random() < UNBOUND_SHARE:
                continue
            # Never before the cooperative was founded (the enterprises all were by 2020).
            started = date(rng.randrange(2021, 2025), rng.choice((1, 3, 4, 6)), 1)
            started = max(started, cooperative.founded_on or started)
            ended = date(2025, 12, 31) if rng.random() < 0.05 else None
            binding = Binding.objects.create(
                enterprise=enterprises[buyer],
                cooperative=cooperative,
                contract_number=f"DY-SB-{started.year}-{next(serial) % 1000:03d}",
                started_on=started,
                ended_on=ended,
                order_volume=f"{product} {rng.randrange(20, 300)} 吨",
                order_amount=Decimal(rng.randrange(200, 3000) * 1000),
            )
            binding.linkage_types.set(rng.sample(linkages, k=rng.randint(1, 3)))
    _family_farms_seed(villages=villages, rng=rng, serial=serial, industries=industries, signature=signature)
    _rich_leaders_seed(villages=villages, rng=rng, industries=industries, signature=signature)
    _memberships_seed(county=county, rng=rng, cooperatives_of=cooperatives_of)


def _village_products(villages: list[Region]) -> dict[int, tuple[str, ...]]:
    """Each village's lead industries of 2026, its 一村一品 first (industries/demo.py designated them)."""
    from industries.models import Designation

    products: dict[int, list[str]] = {}
    rows = Designation.objects.filter(region__in=villages, year=2026).order_by("region", "-is_signature", "pk")
    for region_id, name in rows.values_list("region_id", "industry__name"):
        products.setdefault(region_id, []).append(name)
    return {village: tuple(names) for village, names in products.items()}


def _family_farms_seed(
    *,
    villages: list[Region],
    rng: random.Random,
    serial: Iterator[int],
    industries: dict[str, Industry],
    signature: dict[int, tuple[str, ...]],
) -> None:
    for village in rng.sample(villages, k=len(villages) // 3):
        product = (signature.get(village.pk) or ("核桃",))[0]
        farm = Entity.objects.create(
            kind=EntityKind.FAMILY_FARM,
            name=f"大姚县{village.name.removesuffix('村')}{rng.choice(('兴旺', '丰源', '绿园', '福康'))}家庭农场",
            credit_code=credit_code(next(serial), kind="family_farm"),
            region=village,
            level=EntityLevel.COUNTY if rng.random() < 0.2 else EntityLevel.NONE,
            founded_on=date(rng.randrange(2016, 2025), rng.randrange(1, 13), 1),
        )
        if product in industries:
            farm.industries.add(industries[product])


def _rich_leaders_seed(
    *,
    villages: list[Region],
    rng: random.Random,
    industries: dict[str, Industry],
    signature: dict[int, tuple[str, ...]],
) -> None:
    """1–4 per village (000 asks ≥ 3 per 脱贫村), most of them a member of a registered household."""
    leaders = []
    for village in villages:
        heads = list(
            Member.objects.filter(household__village=village, relation=Relation.HEAD, is_active=True)
            .order_by("household__number")
            .values_list("pk", "name")[:40]
        )
        if not heads:
            continue
        product = (signature.get(village.pk) or ("核桃",))[0]
        for member_id, name in rng.sample(heads, k=min(len(heads), rng.choice((1, 2, 3, 3, 4)))):
            leaders.append(
                RichLeader(
                    village=village,
                    name=name,
                    member_id=member_id,
                    industry=industries.get(product),
                    recognised_year=rng.choice((2023, 2024, 2025)),
                )
            )
    RichLeader.objects.bulk_create(leaders)


def _memberships_seed(*, county: Region, rng: random.Random, cooperatives_of: dict[int, list[Entity]]) -> None:
    """About 60% of the eligible households join a cooperative of their village; their earnings by year."""
    open_case = MonitoringCase.objects.filter(household=OuterRef("pk")).filter(
        Q(eliminated_month__isnull=True) | Q(eliminated_month__gt=TODAY)
    )
    labour = Member.objects.filter(household=OuterRef("pk"), is_active=True, labour__in=LABOUR_CAPABLE)
    eligible = (
        Household.objects.in_region(county)
        .active()
        .filter(Q(household_type=HouseholdType.LIFTED) | Exists(open_case))
        .filter(Exists(labour))
        .order_by("number")
        .values_list("pk", "village_id")
    )
    methods = {m.code: m for m in JoiningMethod.objects.all()}
    kinds = {k.code: k for k in EarningKind.objects.all()}
    property_2025 = dict(
        IncomeRecord.objects.filter(household__village__code__startswith=county.prefix, year=2025)
        .values("household")
        .annotate(total=Sum("property_dividends") + Sum("property_land_transfer") + Sum("property_other"))
        .values_list("household", "total")
    )
    memberships: list[Membership] = []
    earnings: list[EarningRow] = []
    for household_id, village_id in eligible.iterator(chunk_size=5000):
        cooperatives = cooperatives_of.get(village_id)
        if not cooperatives or rng.random() >= MEMBER_SHARE:
            continue
        joined = cooperatives if len(cooperatives) > 1 and rng.random() < 0.3 else [rng.choice(cooperatives)]
        for cooperative in joined:
            method = rng.choices(("money", "land_rights", "labour", "produce"), weights=(35, 35, 15, 15))[0]
            joined_on = date(rng.randrange(2022, 2026), rng.randrange(1, 13), 1)
            joined_on = max(joined_on, cooperative.founded_on or joined_on)
            left_on = date(2026, rng.randrange(1, 9), 1) if rng.random() < 0.03 else None
            memberships.append(
                Membership(
                    cooperative=cooperative,
                    household_id=household_id,
                    joining_method=methods[method],
                    shares=Decimal(rng.randrange(1, 20) * 500) if method == "money" else Decimal("0.00"),
                    joined_on=joined_on,
                    left_on=left_on,
                )
            )
            if joined_on.year > 2025:
                continue
            recorded = property_2025.get(household_id) or Decimal(0)
            # Mostly within what the income records hold; for about 3% more (the 疑点 rule's finds).
            ceiling = recorded * Decimal("1.3") + 400 if rng.random() < 0.03 else recorded / len(joined)
            dividend = Decimal(int(ceiling * Decimal(str(rng.uniform(0.3, 0.6)))))
            rent = Decimal(int(ceiling * Decimal(str(rng.uniform(0.1, 0.35))))) if method == "land_rights" else 0
            for code, amount in (
                ("dividend", dividend),
                ("land_rent", rent),
                ("wages", Decimal(rng.randrange(0, 8) * 600)),
                ("purchase", Decimal(rng.randrange(0, 12) * 450) if method == "produce" else 0),
            ):
                if amount:
                    earnings.append(
                        EarningRow(
                            household_id=household_id,
                            cooperative=cooperative,
                            year=2025,
                            kind=kinds[code],
                            amount=amount,
                        )
                    )
        if len(memberships) >= 10000:
            Membership.objects.bulk_create(memberships)
            EarningRow.objects.bulk_create(earnings)
            memberships, earnings = [], []
    Membership.objects.bulk_create(memberships)
    EarningRow.objects.bulk_create(earnings)
