"""The demo county's 衔接资金 (issue 11 §5): 2024–2026 allocations of the four levels (some split to
townships), about 150 projects of every type with their lifecycle, funding lines, beneficiaries,
双绑 entities, payments spread over the quarters and the assets they formed. Deterministic per seed;
every row is written in bulk (no history), so it scales with the households.

The industry share is near the target (65%) in 2024 and 2026 and below it in 2025, which is also
below 2024 (004's 不低于上年); one 2025 library project has no 联农带农 text (001's cleanup).
Village collective income: funds/demo_villages.py.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from funds.demo_parts import (
    candidates_of,
    carve,
    entities_of,
    payments_of,
    round_to,
    status_by_today,
    status_date,
    steps_of,
    weighted,
)
from funds.demo_villages import demo_villages_seed
from funds.models import (
    Allocation,
    Asset,
    AssetKind,
    Beneficiary,
    Funding,
    FundLevel,
    Payment,
    Project,
    ProjectStatus,
    ProjectStep,
    ProjectType,
)
from regions.models import Level, Region

YEARS = (2024, 2025, 2026)
PROJECTS = 150
MONEY_PER_PROJECT = 900_000
# Share of each level in a year's money, and its documents: (month issued, part); month 11 is the
# year before (提前下达).
LEVELS = {
    FundLevel.CENTRAL: (Decimal("0.60"), ((11, Decimal("0.6")), (4, Decimal("0.4")))),
    FundLevel.PROVINCIAL: (Decimal("0.24"), ((11, Decimal("0.5")), (5, Decimal("0.5")))),
    FundLevel.PREFECTURAL: (Decimal("0.06"), ((6, Decimal("1")),)),
    FundLevel.COUNTY: (Decimal("0.10"), ((3, Decimal("1")),)),
}
DOCUMENT_PREFIX = {
    FundLevel.CENTRAL: "财农",
    FundLevel.PROVINCIAL: "云财农",
    FundLevel.PREFECTURAL: "楚财农",
    FundLevel.COUNTY: "大财农",
}
# Industry share of the year's money (÷ allocated), and how much of the money is arranged by TODAY.
INDUSTRY_SHARE = {2024: 0.67, 2025: 0.62, 2026: 0.68}
ARRANGED = {2024: 0.98, 2025: 0.97, 2026: 0.90}
# Level's industry share against the year's: central money goes to industry most (001's 60% / 52%).
LEVEL_TILT = {
    FundLevel.CENTRAL: 0.05,
    FundLevel.PROVINCIAL: -0.03,
    FundLevel.PREFECTURAL: -0.10,
    FundLevel.COUNTY: -0.2,
}
INDUSTRY_TYPES = (
    ("industry_base", 35, "种养殖基地建设项目"),
    ("industry_processing", 20, "初加工及冷链设施项目"),
    ("industry_facilities", 20, "产业配套基础设施项目"),
    ("industry_services", 15, "产业服务站建设项目"),
    ("industry_finance", 10, "产业保险及贴息项目"),
)
OTHER_TYPES = (
    ("employment", 20, "以工代赈务工项目"),
    ("rural_construction", 40, "村组道路硬化项目"),
    ("relocation_support", 12, "易地搬迁安置点后续扶持项目"),
    ("three_guarantees", 15, "饮水安全巩固提升项目"),
    ("other", 8, "人居环境整治项目"),
)
PRODUCTS = ("核桃", "烤烟", "花椒", "芒果", "黑山羊", "特色水果")
LINKAGES = (
    "吸纳脱贫户、监测户务工，土地流转租金按年支付",
    "合作社订单收购，保底价收购脱贫户产品",
    "资产折股量化到村集体，收益按比例分配给脱贫户和监测户",
    "提供种苗、技术服务，带动农户发展产业",
)


@dataclass
class Pot:
    """An allocation's money not split further: what projects of this year may draw on."""

    allocation: Allocation
    available: int  # yuan
    townships: list[Region] = field(default_factory=list)  # where its projects may be (a split: one)


def demo_funds_seed(*, county: Region, seed: int, projects: int = PROJECTS) -> None:
    """Allocations, projects and their money, then the villages' profiles and collective income."""
    if Allocation.objects.filter(region=county).exists():
        return
    rng = random.Random(seed * 7919 + 31)
    townships = list(Region.objects.filter(parent=county, level=Level.TOWNSHIP).order_by("code"))
    villages = list(Region.objects.filter(code__startswith=county.prefix, level=Level.VILLAGE).order_by("code"))
    writer = _Writer(county=county, townships=townships, villages=villages, rng=rng)
    for position, year in enumerate(YEARS):
        count = projects // len(YEARS) + (1 if position < projects % len(YEARS) else 0)
        writer.year(year, count)
    writer.flush()
    demo_villages_seed(county=county, villages=villages, seed=seed, assets=writer.assets)


class _Writer:
    """Builds one year at a time in memory, then writes every table in bulk."""

    def __init__(self, *, county: Region, townships: list[Region], villages: list[Region], rng: random.Random) -> None:
        self.county, self.townships, self.villages, self.rng = county, townships, villages, rng
        self.types = {item.code: item for item in ProjectType.objects.all()}
        self.candidates = candidates_of(county)
        self.entities = entities_of(county)
        self.projects: list[Project] = []
        self.lines: list[tuple[Project, Allocation, int]] = []
        self.beneficiaries: dict[str, list[int]] = {}
        self.supported: dict[str, list[int]] = {}
        self.two_levels: set[str] = set()
        self.assets: list[Asset] = []
        self.serial = 0

    # --- allocations ------------------------------------------------------------------------

    def pots(self, year: int, money: int) -> list[Pot]:
        pots: list[Pot] = []
        for level, (part, documents) in LEVELS.items():
            for number, (month, share) in enumerate(documents, start=1):
                issued = date(year - 1, month, 15 + number) if month >= 11 else date(year, month, 10 + number)
                amount = round_to(money * part * share, 10_000)
                allocation = Allocation(
                    region=self.county,
                    year=year,
                    level=level,
                    document_number=f"{DOCUMENT_PREFIX[level]}〔{issued.year}〕{20 + number * 7 + year % 10}号",
                    issued_on=issued,
                    amount=Decimal(amount),
                    note="提前下达" if month >= 11 else "",
                )
                allocation.full_clean()
                allocation.save()
                pot = Pot(allocation, amount, list(self.townships))
                pots.append(pot)
                if level == FundLevel.CENTRAL and number == 2:
                    pots += self.splits(pot)
        return pots

    def splits(self, pot: Pot) -> list[Pot]:
        """The county splits part of its second central allocation to three townships."""
        split_pots = []
        for township in self.rng.sample(self.townships, k=min(3, len(self.townships))):
            amount = round_to(pot.available * 0.12, 10_000)
            parent = pot.allocation
            split = Allocation(
                region=township,
                year=parent.year,
                level=parent.level,
                document_number=f"{parent.document_number}（分配{township.name}）",
                issued_on=parent.issued_on + timedelta(days=20),
                amount=Decimal(amount),
                parent=parent,
            )
            split.full_clean()
            split.save()
            pot.available -= amount
            split_pots.append(Pot(split, amount, [township]))
        return split_pots

    # --- projects ---------------------------------------------------------------------------

    def year(self, year: int, count: int) -> None:
        pots = self.pots(year, count * MONEY_PER_PROJECT)
        funded = max(3, count - 4)  # and 4 without money (unfunded)
        own = next(pot for pot in pots if pot.allocation.level == FundLevel.COUNTY)
        fee = round_to(own.available * 0.05, 1_000)
        own.available -= fee
        self.project(year, "fee", own, fee)
        industry = round(funded * 0.55)
        for kind, chunks in (("industry", industry), ("other", funded - industry - 1)):
            moneys = [(pot, self.money(year, kind, pot)) for pot in pots]
            total = sum(money for _, money in moneys) or 1
            for pot, money in moneys:
                pieces = max(1, round(chunks * money / total)) if money else 0
                for amount in carve(money, pieces, self.rng):
                    self.project(year, kind, pot, amount)
        self.unfunded(year)

    def money(self, year: int, kind: str, pot: Pot) -> int:
        """What the pot arranges to industry, or to everything else, by TODAY."""
        tilt = LEVEL_TILT[FundLevel(pot.allocation.level)]
        industry = max(0.0, min(1.0, INDUSTRY_SHARE[year] / ARRANGED[year] + tilt))
        return round_to(pot.available * ARRANGED[year] * (industry if kind == "industry" else 1 - industry), 1_000)

    def project(self, year: int, kind: str, pot: Pot, amount: int) -> None:
        rng = self.rng
        industry = kind == "industry"
        if industry and rng.random() < 0.25 and self.second_line(year, pot, amount):
            return
        if kind == "fee":
            type_code, word, region = "management_fee", "衔接资金项目管理费", self.county
        else:
            type_code, _, word = weighted(INDUSTRY_TYPES if industry else OTHER_TYPES, rng)
            region = self.where(pot, industry)
        status = status_by_today(year, rng)
        self.serial += 1
        product = rng.choice(PRODUCTS)
        project = Project(
            code=f"DY{year}{self.serial:04d}",
            name=f"{region.name}{product if industry else ''}{word}",
            year=year,
            region=region,
            project_type=self.types[type_code],
            linkage_mechanism=rng.choice(LINKAGES) if industry or type_code == "employment" else "",
            status=status,
            status_on=status_date(year, status, rng),
        )
        self.projects.append(project)
        self.lines.append((project, pot.allocation, amount))
        if industry or type_code == "employment":
            per_million = rng.uniform(11, 24) if industry else rng.uniform(4, 10)
            wanted = max(3, round(amount / 1_000_000 * per_million))
            pool = self.candidates.get(region.code, [])
            self.beneficiaries[project.code] = rng.sample(pool, k=min(wanted, len(pool)))
        if industry and rng.random() < 0.3:
            near = self.entities.get(region.code) or self.entities.get(self.county.code, [])
            if near:
                self.supported[project.code] = rng.sample(near, k=min(len(near), rng.choice((1, 1, 2))))
        if status in (ProjectStatus.COMPLETED, ProjectStatus.ACCEPTED, ProjectStatus.HANDED_OVER):
            self.asset(project, type_code, Decimal(amount))

    def second_line(self, year: int, pot: Pot, amount: int) -> bool:
        """An earlier industry project of the year, funded by another level, also draws on this pot:
        a project funded by two levels."""
        prefixes = tuple(township.prefix for township in pot.townships)
        for project, allocation, _ in reversed(self.lines[-40:]):
            if (
                project.year == year
                and project.project_type.is_industry
                and project.code not in self.two_levels
                and allocation.level != pot.allocation.level
                and project.region.code.startswith(prefixes)
            ):
                self.two_levels.add(project.code)
                self.lines.append((project, pot.allocation, amount))
                return True
        return False

    def where(self, pot: Pot, industry: bool) -> Region:
        """A village of the pot's townships (with 脱贫户 or 监测户, for an industry project), at times the township."""
        prefixes = tuple(township.prefix for township in pot.townships)
        inside = [village for village in self.villages if village.code.startswith(prefixes)]
        with_households = [village for village in inside if self.candidates.get(village.code)]
        if industry and with_households:
            inside = with_households
        if not inside or self.rng.random() < 0.1:
            return self.rng.choice(pot.townships) if pot.townships else self.county
        return self.rng.choice(inside)

    def unfunded(self, year: int) -> None:
        """A few projects without money: 储备 ones, and (2026) library ones awaiting funds; one 2025
        library project kept from before the rule, with no 联农带农 text."""
        for number in range(4):
            self.serial += 1
            village = self.rng.choice(self.villages)
            status = ProjectStatus.LIBRARY if year == 2026 and number < 2 else ProjectStatus.RESERVE
            linkage = "" if status == ProjectStatus.RESERVE and number == 3 else self.rng.choice(LINKAGES)
            if year == 2025 and number == 0:
                status, linkage = ProjectStatus.LIBRARY, ""
            project = Project(
                code=f"DY{year}{self.serial:04d}",
                name=f"{village.name}{self.rng.choice(PRODUCTS)}产业发展储备项目",
                year=year,
                region=village,
                project_type=self.types["industry"],
                linkage_mechanism=linkage,
                status=status,
                status_on=date(year, 3, 1),
            )
            self.projects.append(project)
            pool = self.candidates.get(village.code, [])
            if status == ProjectStatus.LIBRARY and pool:
                self.beneficiaries[project.code] = self.rng.sample(pool, k=min(6, len(pool)))

    def asset(self, project: Project, type_code: str, amount: Decimal) -> None:
        region = project.region
        village = (
            region
            if region.level == Level.VILLAGE
            else self.rng.choice([v for v in self.villages if v.code.startswith(region.prefix)] or self.villages)
        )
        industry = self.types[type_code].is_industry
        kind = AssetKind.OPERATING if industry else AssetKind.PUBLIC
        households = self.beneficiaries.get(project.code, [])
        if type_code == "industry_finance" and households:
            kind = AssetKind.HOUSEHOLD
        self.assets.append(
            Asset(
                project=project,
                kind=kind,
                name=project.name.removesuffix("项目") + "形成资产",
                value=(amount * Decimal("0.92")).quantize(Decimal("1")),
                owner_village=None if kind == AssetKind.HOUSEHOLD else village,
                owner_household_id=households[0] if kind == AssetKind.HOUSEHOLD else None,
                custodian="受益农户" if kind == AssetKind.HOUSEHOLD else f"{village.name}村民委员会",
            )
        )

    # --- writing ----------------------------------------------------------------------------

    def flush(self) -> None:
        Project.objects.bulk_create(self.projects, batch_size=1000)
        if any(project.pk is None for project in self.projects):
            ids = dict(Project.objects.filter(code__in=[p.code for p in self.projects]).values_list("code", "pk"))
            for project in self.projects:
                project.pk = ids[project.code]
        merged: dict[tuple[int, int], int] = defaultdict(int)
        for project, allocation, amount in self.lines:
            merged[(project.pk, allocation.pk)] += amount
        fundings = [
            Funding(project_id=project_id, allocation_id=allocation_id, amount=Decimal(amount))
            for (project_id, allocation_id), amount in merged.items()
        ]
        Funding.objects.bulk_create(fundings, batch_size=1000)
        by_id = {project.pk: project for project in self.projects}
        allocations = {a.pk: a for a in Allocation.objects.filter(region__code__startswith=self.county.prefix)}
        Payment.objects.bulk_create(
            [
                payment
                for line in Funding.objects.filter(project__in=self.projects).order_by("project__code", "allocation_id")
                for payment in payments_of(line, by_id[line.project_id], allocations[line.allocation_id], self.rng)
            ],
            batch_size=2000,
        )
        Beneficiary.objects.bulk_create(
            [
                Beneficiary(project_id=project.pk, household_id=household_id)
                for project in self.projects
                for household_id in self.beneficiaries.get(project.code, [])
            ],
            batch_size=5000,
        )
        through = Project.supported_entities.through
        through.objects.bulk_create(
            [
                through(project_id=project.pk, entity_id=entity_id)
                for project in self.projects
                for entity_id in self.supported.get(project.code, [])
            ]
        )
        ProjectStep.objects.bulk_create([step for project in self.projects for step in steps_of(project)])
        for asset in self.assets:
            asset.project_id = asset.project.pk
        Asset.objects.bulk_create(self.assets, batch_size=1000)
