"""The demo's projects in motion (funds/demo.py): money cut into lines, where a project is in its
lifecycle by the demo's date and the steps that took it there, its payments over the quarters, and
who may benefit or be supported. Deterministic given the random generator it is handed."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

from django.db.models import Exists, OuterRef, Q

from cooperatives.models import Binding, Entity, EntityKind
from funds.models import (
    IN_LIBRARY,
    LIFECYCLE,
    Allocation,
    Funding,
    FundLevel,
    Payment,
    Project,
    ProjectStatus,
    ProjectStep,
)
from households.models import Household, HouseholdType, MonitoringCase
from regions.models import Region

TODAY = date(2026, 9, 30)


def round_to(amount: float | Decimal, step: int) -> int:
    return round(float(amount) / step) * step


def carve(money: int, pieces: int, rng: random.Random, step: int = 1_000) -> list[int]:
    """`money` in up to `pieces` parts of uneven size, cut at whole `step`s, adding up exactly."""
    if pieces <= 0 or money <= 0:
        return []
    weights = [rng.uniform(0.4, 1.6) for _ in range(pieces)]
    cuts, running = [0], 0.0
    for weight in weights[:-1]:
        running += weight
        cuts.append(min(money, round_to(money * running / sum(weights), step)))
    cuts.append(money)
    return [later - earlier for earlier, later in pairwise(cuts) if later > earlier]


def weighted(options: tuple[tuple[str, int, str], ...], rng: random.Random) -> tuple[str, int, str]:
    return rng.choices(options, weights=[weight for _, weight, _ in options])[0]


def status_by_today(year: int, rng: random.Random) -> str:
    """Where a funded project of the year is by TODAY: older projects are further along."""
    weights = {
        2024: (0, 0, 5, 20, 35, 40),
        2025: (0, 0, 25, 35, 30, 10),
        2026: (0, 5, 70, 25, 0, 0),
    }[year]
    status = rng.choices(LIFECYCLE, weights=weights)[0]
    return ProjectStatus.APPROVED if status == ProjectStatus.LIBRARY else status


def status_date(year: int, status: str, rng: random.Random) -> date:
    step = LIFECYCLE.index(status)
    day = date(year, 2, 1) + timedelta(days=45 * step + rng.randrange(0, 30))
    return min(day, TODAY)


def steps_of(project: Project) -> list[ProjectStep]:
    """Every move from 储备 to the project's status, dated from its status date backwards."""
    reached = LIFECYCLE.index(project.status)
    assert project.status_on is not None
    steps = [ProjectStep(project_id=project.pk, from_status="", to_status=LIFECYCLE[0], on=date(project.year, 1, 5))]
    for position in range(1, reached + 1):
        on = project.status_on - timedelta(days=45 * (reached - position))
        steps.append(
            ProjectStep(
                project_id=project.pk,
                from_status=LIFECYCLE[position - 1],
                to_status=LIFECYCLE[position],
                on=max(on, date(project.year, 1, 5)),
            )
        )
    return steps


# How much of a line is paid by TODAY, by the project's status.
PAID_SHARE = {
    ProjectStatus.APPROVED: (0.2, 0.7),
    ProjectStatus.COMPLETED: (0.8, 0.95),
    ProjectStatus.ACCEPTED: (1.0, 1.0),
    ProjectStatus.HANDED_OVER: (1.0, 1.0),
}


def payments_of(line: Funding, project: Project, allocation: Allocation, rng: random.Random) -> list[Payment]:
    """Two to four payments spread over the quarters after the money came; a few 2024/2025 lines
    are finished early the next year."""
    low, high = PAID_SHARE.get(ProjectStatus(project.status), (0.0, 0.0))
    paid = round_to(line.amount * Decimal(str(rng.uniform(low, high))), 100)
    if paid <= 0 or project.status not in IN_LIBRARY:
        return []
    start = max(allocation.issued_on, date(project.year, 1, 1)) + timedelta(days=30)
    end = min(date(project.year + 1, 3, 31) if rng.random() < 0.15 else date(project.year, 12, 20), TODAY)
    parts = carve(paid, rng.randint(2, 4), rng, step=100)
    level = FundLevel.values.index(allocation.level) + 1
    days = sorted(start + timedelta(days=rng.randrange(0, max(1, (end - start).days))) for _ in parts)
    return [
        Payment(funding_id=line.pk, paid_on=day, amount=Decimal(part), voucher=f"ZF{project.code}-{level}{index}")
        for index, (day, part) in enumerate(zip(days, parts, strict=True), start=1)
    ]


def candidates_of(county: Region) -> dict[str, list[int]]:
    """Region code → ids of the 脱贫户 and households with an open case there, by 户编号 (each
    village's, its township's and the county's lists)."""
    open_case = MonitoringCase.objects.filter(household=OuterRef("pk"), eliminated_month__isnull=True)
    rows = (
        Household.objects.in_region(county)
        .active()
        .filter(Q(household_type=HouseholdType.LIFTED) | Exists(open_case))
        .order_by("number")
        .values_list("village__code", "pk")
    )
    found: dict[str, list[int]] = defaultdict(list)
    for village_code, household_id in rows.iterator(chunk_size=10_000):
        found[village_code].append(household_id)
        found[village_code[:9].ljust(12, "0")].append(household_id)
        found[county.code].append(household_id)
    return dict(found)


def entities_of(county: Region) -> dict[str, list[int]]:
    """Region code → the 双绑 cooperatives registered there; the county → its enterprises that bind one
    (the only entities the project form lets a project support)."""
    found: dict[str, list[int]] = defaultdict(list)
    bound = Q(pk__in=Binding.objects.values("enterprise")) | Q(pk__in=Binding.objects.values("cooperative"))
    rows = Entity.objects.filter(bound, region__code__startswith=county.prefix).order_by("credit_code")
    for kind, code, pk in rows.values_list("kind", "region__code", "pk"):
        if kind in (EntityKind.COOPERATIVE, EntityKind.ENTERPRISE):
            found[code].append(pk)
    return dict(found)
