"""Who lives in a demo household: relations and ages that fit together, and traits by age."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from households.demo_names import WORK_PLACES
from households.models import Health, Labour, Relation, Schooling

Choice = TypeVar("Choice")


@dataclass(frozen=True, slots=True)
class Person:
    """A member before they have a name or 身份证号."""

    relation: str
    sex: str
    age: int
    family_surname: bool


def weighted(rng: random.Random, weights: Mapping[Choice, float]) -> Choice:
    """One key drawn with probability proportional to its weight."""
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def other_sex(sex: str) -> str:
    return "F" if sex == "M" else "M"


def family_plan(rng: random.Random, size: int) -> list[Person]:
    """Relations, sexes and ages (in 2025) that fit together, head first."""
    head_age = int(rng.triangular(24, 86, 50))
    head_sex = "M" if rng.random() < 0.84 else "F"
    people = [Person(Relation.HEAD, head_sex, head_age, True)]
    if size > 1 and rng.random() < (0.9 if head_sex == "M" else 0.25):
        spouse_age = max(20, head_age + rng.randint(-7, 3) * (1 if head_sex == "M" else -1))
        people.append(Person(Relation.SPOUSE, other_sex(head_sex), spouse_age, False))
    if size - len(people) > 0 and head_age <= 58 and rng.random() < 0.3:
        for relation, sex in [(Relation.FATHER, "M"), (Relation.MOTHER, "F")][: min(2, size - len(people))]:
            age = head_age + rng.randint(20, 32)
            if age <= 95:
                people.append(Person(relation, sex, age, sex == "M"))
    child_age = head_age - rng.randint(20, 30)
    couple_age: int | None = None
    while len(people) < size:
        if couple_age is not None and rng.random() < 0.75:
            sex = rng.choice("MF")
            relation = Relation.GRANDSON if sex == "M" else Relation.GRANDDAUGHTER
            people.append(Person(relation, sex, rng.randint(0, min(couple_age - 20, 16)), True))
        elif child_age >= 0:
            sex = "M" if rng.random() < 0.53 else "F"
            people.append(Person(Relation.SON if sex == "M" else Relation.DAUGHTER, sex, child_age, True))
            marries = couple_age is None and child_age >= 22 and size - len(people) >= 2 and rng.random() < 0.6
            # Sons bring a wife home; a daughter only sometimes brings a 上门女婿.
            if marries and (sex == "M" or rng.random() < 0.3):
                relation = Relation.DAUGHTER_IN_LAW if sex == "M" else Relation.SON_IN_LAW
                partner_age = max(20, child_age + rng.randint(-4, 3))
                people.append(Person(relation, other_sex(sex), partner_age, False))
                couple_age = child_age
            child_age -= rng.randint(1, 6)
        else:
            people.append(Person(Relation.SIBLING, rng.choice("MF"), max(16, head_age + rng.randint(-12, 12)), True))
    return people


def member_traits(rng: random.Random, age: int) -> tuple[str, str, str, str, int]:
    """Schooling, health, labour, work place and work months that fit an age (in 2025)."""
    schooling = Schooling.NOT_IN_SCHOOL
    if 3 <= age < 6 and rng.random() < 0.85:
        schooling = Schooling.PRESCHOOL
    elif 6 <= age < 12:
        schooling = Schooling.PRIMARY
    elif 12 <= age < 15:
        schooling = Schooling.JUNIOR
    elif 15 <= age < 18 and rng.random() < 0.85:
        schooling = Schooling.SENIOR if rng.random() < 0.65 else Schooling.VOCATIONAL
    elif 18 <= age < 22 and rng.random() < 0.35:
        schooling = Schooling.COLLEGE if rng.random() < 0.55 else Schooling.UNIVERSITY
    if age < 18:
        health = weighted(rng, {Health.HEALTHY: 97, Health.CHRONIC: 1, Health.SERIOUS: 0.5, Health.DISABLED: 1.5})
    elif age < 60:
        health = weighted(rng, {Health.HEALTHY: 88, Health.CHRONIC: 6, Health.SERIOUS: 2, Health.DISABLED: 4})
    else:
        health = weighted(rng, {Health.HEALTHY: 55, Health.CHRONIC: 35, Health.SERIOUS: 5, Health.DISABLED: 5})
    if age < 16 or schooling != Schooling.NOT_IN_SCHOOL:
        labour = Labour.NONE
    elif health == Health.SERIOUS or (health == Health.DISABLED and rng.random() < 0.9):
        labour = Labour.WEAK if rng.random() < 0.5 else Labour.LOST
    elif age >= 70:
        labour = weighted(rng, {Labour.WEAK: 35, Labour.LOST: 25, Labour.NONE: 40})
    elif age >= 60:
        labour = weighted(rng, {Labour.ORDINARY: 35, Labour.WEAK: 55, Labour.LOST: 10})
    else:
        labour = weighted(rng, {Labour.SKILLED: 18, Labour.ORDINARY: 74, Labour.WEAK: 6, Labour.LOST: 2})
    work_place, work_months = "", 0
    if labour in (Labour.SKILLED, Labour.ORDINARY) and 18 <= age <= 55 and rng.random() < 0.45:
        work_place = rng.choices([p[0] for p in WORK_PLACES], weights=[p[1] for p in WORK_PLACES])[0]
        work_months = rng.randint(3, 12)
    return schooling, health, labour, work_place, work_months
