"""Deterministic demo data for 大姚县: plain rows from a seed, kept apart from writing them."""

from __future__ import annotations

import math
import random
import uuid
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from households.demo_income import (
    LAST_QUARTER,
    QUARTERS,
    REFERENCE_YEAR,
    EarnerFacts,
    IncomeProfile,
    IncomeRow,
    income_rows,
    trailing_facts,
)
from households.demo_names import (
    GIVEN_NAME_PARTS,
    GROUP_NUMERALS,
    HELPER_UNITS,
    HOUSEHOLD_SIZES,
    ID_AREA_CODE,
    LIFTED_YEARS,
    MEASURE_FOR_RISK,
    MEASURE_WEIGHTS,
    PHONE_PREFIXES,
    RELOCATION_SITE,
    RISK_WEIGHTS,
    SUDDEN_RISKS,
    SURNAMES,
    TOWNSHIPS,
    WORK_PLACES,
    TownshipSpec,
)
from households.demo_people import Person, family_plan, member_traits, weighted
from households.id_numbers import id_number_with_check_digit
from households.models import (
    LABOUR_CAPABLE,
    EliminationMethod,
    HouseholdType,
    MonitoringCategory,
    months_between,
)

# (amount, source) per year; only 2025 follows the province's practice, the others are invented.
THRESHOLDS = {
    2024: (Decimal("8300"), "演示数据（非官方）：云南省2024年防返贫监测范围"),
    2025: (Decimal("8700"), "云南省2025年防返贫监测范围（实践口径）"),
    2026: (Decimal("9000"), "演示数据（非官方）：云南省2026年防返贫监测范围"),
}
LOW_INCOME_SHARE = 0.035
SHARP_FALL_SHARE = 0.05
MONTHLY_WAGES = {place: wage for place, _, wage in WORK_PLACES}
FIRST_CASE_MONTH = date(2023, 1, 1)
LAST_MONTH = LAST_QUARTER.first_day.replace(month=LAST_QUARTER.first_day.month + 2)


@dataclass(frozen=True, slots=True)
class MemberRow:
    name: str
    id_number: str
    sex: str
    birth_date: date
    relation: str
    labour: str
    health: str
    schooling: str
    work_place: str
    work_months: int
    medical_insurance: bool


@dataclass(frozen=True, slots=True)
class CaseRow:
    category: str
    identified_month: date
    risk_type_codes: tuple[str, ...]
    measure_codes: tuple[str, ...]
    eliminated_month: date | None = None
    elimination_method: str = ""


@dataclass(frozen=True, slots=True)
class HouseholdRow:
    uuid: uuid.UUID
    number: str
    village_code: str
    household_type: str
    lifted_year: int | None
    relocated: bool
    phone: str
    address: str
    helper_name: str
    helper_unit: str
    helper_phone: str
    members: tuple[MemberRow, ...]
    incomes: tuple[IncomeRow, ...]
    case: CaseRow | None
    latest_income_year: int
    latest_income_quarter: int
    trailing_per_capita: Decimal | None


def add_months(month: date, count: int) -> date:
    """The first day of the month `count` months after `month`."""
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


class DemoGenerator:
    """One seeded stream of households; ID numbers stay unique across everything it yields."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.villages: list[tuple[TownshipSpec, str, str]] = [
            (township, township.village_code(index), name)
            for township in TOWNSHIPS
            for index, name in enumerate(township.villages)
        ]
        self.village_weights = [self.rng.uniform(0.6, 1.4) for _ in self.villages]
        self.next_number: dict[str, int] = defaultdict(int)
        self.taken_sequences: dict[tuple[date, str], int] = defaultdict(int)
        self.helpers: dict[str, list[tuple[str, str, str]]] = {}
        self.surnames = [surname for surname, _ in SURNAMES]
        self.surname_weights = [weight for _, weight in SURNAMES]

    def households(self, count: int) -> Iterator[HouseholdRow]:
        """The next `count` households, one at a time."""
        for _ in range(count):
            yield self.household()

    def _sample(self, weights: Mapping[str, float], count: int) -> list[str]:
        """`count` distinct keys drawn by weight."""
        pool = dict(weights)
        picked: list[str] = []
        while pool and len(picked) < count:
            key = weighted(self.rng, pool)
            picked.append(key)
            del pool[key]
        return picked

    def _phone(self) -> str:
        return self.rng.choice(PHONE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"

    def _surname(self) -> str:
        return self.rng.choices(self.surnames, weights=self.surname_weights)[0]

    def _given_name(self, sex: str, young: bool) -> str:
        first, second = GIVEN_NAME_PARTS[(sex, young)]
        if self.rng.random() < 0.15:
            return self.rng.choice(second)
        return self.rng.choice(first) + self.rng.choice(second)

    def id_number(self, birth_date: date, sex: str) -> str:
        """A valid 身份证号 never handed out before by this generator; may move the birth day."""
        while self.taken_sequences[(birth_date, sex)] >= 499:
            birth_date += timedelta(days=1)
        taken = self.taken_sequences[(birth_date, sex)]
        self.taken_sequences[(birth_date, sex)] = taken + 1
        sequence = 2 * taken + (1 if sex == "M" else 2)
        return id_number_with_check_digit(f"{ID_AREA_CODE}{birth_date:%Y%m%d}{sequence:03d}")

    def _member(self, person: Person, surname: str) -> MemberRow:
        """A member with ID, name and the labour, health and schooling their age suggests."""
        rng, age = self.rng, person.age
        birth_date = date(REFERENCE_YEAR - age - 1, 1, 1) + timedelta(days=rng.randrange(365))
        id_number = self.id_number(birth_date, person.sex)
        birth_date = date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
        name = (surname if person.family_surname else self._surname()) + self._given_name(person.sex, age <= 25)
        schooling, health, labour, work_place, work_months = member_traits(rng, age)
        return MemberRow(
            name=name,
            id_number=id_number,
            sex=person.sex,
            birth_date=birth_date,
            relation=person.relation,
            labour=labour,
            health=health,
            schooling=schooling,
            work_place=work_place,
            work_months=work_months,
            medical_insurance=rng.random() < 0.985,
        )

    def _helper(self, township: TownshipSpec, village_code: str) -> tuple[str, str, str]:
        """One of the village's few 帮扶责任人 (name, unit, phone)."""
        if village_code not in self.helpers:
            self.helpers[village_code] = [
                (
                    self._surname() + self._given_name(self.rng.choice("MF"), False),
                    f"{township.name}人民政府" if self.rng.random() < 0.4 else self.rng.choice(HELPER_UNITS),
                    self._phone(),
                )
                for _ in range(self.rng.randint(4, 8))
            ]
        return self.rng.choice(self.helpers[village_code])

    def _case_plan(self, *, lifted: bool, low: bool, fall_from: int | None) -> CaseRow | None:
        """An open monitoring case, or None; low and falling incomes are likelier to be caught."""
        rng = self.rng
        chance = 0.4 if low or fall_from is not None else 0.03
        if rng.random() >= chance:
            return None
        ordinary_category = MonitoringCategory.UNSTABLE if lifted else MonitoringCategory.MARGINAL
        if fall_from is not None:
            category = MonitoringCategory.SUDDEN if rng.random() < 0.5 else ordinary_category
            identified = add_months(QUARTERS[fall_from].first_day, rng.randint(0, 2))
            risks = [weighted(rng, SUDDEN_RISKS)]
        else:
            category = MonitoringCategory.SUDDEN if rng.random() < 0.15 else ordinary_category
            identified = add_months(FIRST_CASE_MONTH, rng.randint(0, months_between(FIRST_CASE_MONTH, LAST_MONTH)))
            risks = []
        risks += self._sample(
            {k: v for k, v in RISK_WEIGHTS.items() if k not in risks}, rng.choice((1, 1, 1, 2, 2, 3)) - len(risks)
        )
        measures = [MEASURE_FOR_RISK[risks[0]]] if risks[0] in MEASURE_FOR_RISK else []
        extra = self._sample(
            {k: v for k, v in MEASURE_WEIGHTS.items() if k not in measures}, rng.randint(1, 3) - len(measures)
        )
        return CaseRow(category, identified, tuple(risks), tuple(measures + extra))

    def _eliminated(
        self, case: CaseRow, *, members: Sequence[MemberRow], year: int, trailing: Decimal | None
    ) -> CaseRow:
        """The case, eliminated most times the rules allow it (about a third of all cases)."""
        available = months_between(case.identified_month, LAST_MONTH)
        allowed = (
            available >= 6
            and trailing is not None
            and trailing > THRESHOLDS[year][0]
            and any(member.labour in LABOUR_CAPABLE for member in members)
        )
        if not allowed or self.rng.random() >= 0.85:
            return case
        month = add_months(case.identified_month, self.rng.randint(6, min(available, 24)))
        method = EliminationMethod.ASSISTED if self.rng.random() < 0.8 else EliminationMethod.NATURAL
        return CaseRow(case.category, case.identified_month, case.risk_type_codes, case.measure_codes, month, method)

    def _profile(self, low: bool, fall: bool) -> IncomeProfile:
        """Annual per-capita net income in 2025 and how it moves afterwards."""
        rng = self.rng
        if low:
            return IncomeProfile(per_capita=rng.uniform(6400, 8000), growth=rng.uniform(0.0, 0.06))
        per_capita = 0.0
        while per_capita < 9000:
            per_capita = math.exp(rng.gauss(math.log(13800), 0.30))
        growth = min(max(rng.gauss(0.13, 0.04), 0.0), 0.3)
        if not fall:
            return IncomeProfile(per_capita=per_capita, growth=growth)
        return IncomeProfile(per_capita, growth, fall_from=rng.randint(3, 7), fall_factor=rng.uniform(0.3, 0.6))

    def household(self) -> HouseholdRow:
        """The next household with its members, monitoring case and eight quarters of income."""
        rng = self.rng
        township, village_code, village_name = rng.choices(self.villages, weights=self.village_weights)[0]
        self.next_number[village_code] += 1
        lifted = rng.random() < 0.7
        relocated = rng.random() < (0.10 if lifted else 0.035)
        surname = self._surname()
        people = family_plan(rng, weighted(rng, HOUSEHOLD_SIZES))
        members = tuple(self._member(person, surname) for person in people)
        low = rng.random() < LOW_INCOME_SHARE
        profile = self._profile(low, fall=not low and rng.random() < SHARP_FALL_SHARE)
        case = self._case_plan(lifted=lifted, low=low, fall_from=profile.fall_from)
        earners = [
            EarnerFacts(
                age=REFERENCE_YEAR - member.birth_date.year,
                capable=member.labour in LABOUR_CAPABLE,
                work_months=member.work_months,
                monthly_wage=MONTHLY_WAGES.get(member.work_place, 0),
            )
            for member in members
        ]
        incomes = income_rows(
            rng,
            profile=profile,
            earners=earners,
            lifted=lifted,
            industry_weights=township.industry_weights,
            monitored_from=case.identified_month if case else None,
            medical_risk=case is not None and bool({"illness", "accident", "disability"} & set(case.risk_type_codes)),
        )
        year, quarter, trailing = trailing_facts(incomes)
        if case is not None:
            case = self._eliminated(case, members=members, year=year, trailing=trailing)
        helper_name, helper_unit, helper_phone = self._helper(township, village_code)
        if relocated:
            flat = f"{rng.randint(1, 24)}栋{rng.randint(1, 4)}单元{rng.randint(1, 18)}0{rng.randint(1, 4)}室"
            address = f"{RELOCATION_SITE}{flat}"
        else:
            address = f"{township.name}{village_name}{rng.choice(GROUP_NUMERALS)}组{rng.randint(1, 120)}号"
        return HouseholdRow(
            uuid=uuid.UUID(int=rng.getrandbits(128), version=4),
            number=f"{village_code}{self.next_number[village_code]:05d}",
            village_code=village_code,
            household_type=HouseholdType.LIFTED if lifted else HouseholdType.ORDINARY,
            lifted_year=weighted(rng, LIFTED_YEARS) if lifted else None,
            relocated=relocated,
            phone=self._phone() if rng.random() < 0.92 else "",
            address=address,
            helper_name=helper_name,
            helper_unit=helper_unit,
            helper_phone=helper_phone,
            members=members,
            incomes=tuple(incomes),
            case=case,
            latest_income_year=year,
            latest_income_quarter=quarter,
            trailing_per_capita=trailing,
        )


def generate_households(*, count: int, seed: int) -> Iterator[HouseholdRow]:
    """`count` demo households, the same ones for the same seed."""
    return DemoGenerator(seed).households(count)
