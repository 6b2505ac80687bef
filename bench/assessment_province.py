"""The assessment engine on a province: a full computation against a hand-written SQL floor, and
one county's recompute after an import.

Usage, from the repository root:

    scripts/with-services .venv/bin/python bench/assessment_province.py                # 2,000,000
    scripts/with-services .venv/bin/python bench/assessment_province.py --households 100000 --explain

The parent creates a fresh database on the PostgreSQL server DATABASE_URL names and runs each step
in a child process of its own; it samples the child's process tree (and the PostgreSQL backend
serving it) every 0.1 s from /proc for the peak memory:

1. build: migrate, then build the province WITH SQL (INSERT … SELECT over generate_series, no
   Python loop over households): 1 province, 2 prefectures, 16 counties, 10–14 townships per county,
   12–18 villages per township; --households spread unevenly but deterministically (the first county
   exactly --county-households); 2–5 members each (one 户主, unique 18-character 身份证号 with valid
   check digits, a labour mix by age); --quarters quarters of income ending 2026Q3 (3% of households
   miss one), net_income and per_capita_net_income as households/formulas.py computes them;
   monitoring cases for about 5% (40% of them eliminated); the 2026 threshold of 8,700 on the
   province; 农村人口 for 90% of villages; targets and scoring rules on the province (one county
   overrides one), the 重点户 line (a parameter) at 9,000. Then VACUUM ANALYZE.
2. floor: one hand-written statement that computes, from the registers, the numerators and
   denominators of the 16 household indicators for every region at every level (per household:
   window sums over the income records, members, the open case at the quarter's end, the village's
   threshold; then GROUPING SETS over the code prefixes). Timed with fetching its rows.
3. engine: assessment.engine.indicators_compute(scope=None, period=2026Q3): per county the facts
   refresh and three levels of aggregates, then the two levels above, then targets, scores and the
   stored values. Where its time goes is measured by wrapping its steps.
   The parent then compares every figure of the floor with what the engine stored.
4. county: change one village's 2026Q3 income (as an import would: wages, net and per capita, the
   record versions, the county's DataVersion), then time indicators_compute(scope=that county);
   --repeat times, then once through the ComputeRun path (assessment.services.compute_run_execute).
5. explain (--explain): EXPLAIN (ANALYZE, BUFFERS) of the county's facts INSERT … SELECT and of its
   three aggregate queries, rolled back.

Output: one table (seconds, peak memory, load average; the ratio engine/floor against 2×, the
county recompute against 1 s) and everything in bench/results/assessment_province-<N>.json.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.db import transaction

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import load_average, run_main, server_execute, verdict, with_database, write_results  # noqa: E402

RESULTS_DIR = ROOT / "bench" / "results"
DEFAULT_SETTINGS = "config.settings.test"
TARGET_RATIO = 2.0
TARGET_COUNTY_S = 1.0

# --------------------------------------------------------------------------------------------
# The data set, in SQL
# --------------------------------------------------------------------------------------------

PROVINCE_CODE = "520000000000"
YEAR = 2026
THRESHOLD = "8700.00"
PREFECTURES = 2
COUNTIES_PER_PREFECTURE = 8
CHECK_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
SURNAMES = "张王李赵刘陈杨黄周吴罗杞彭起鲁段何苏普字自毕施胡马"
GIVEN = "德明华英玉兰芳国建文志秀春云丽海军平红梅福贵成林金强永桂学荣"


def rnd(key: str, salt: int) -> str:
    """A deterministic number in [0, 1) from an integer key and a salt."""
    return f"((hashint8extended(({key})::bigint, {salt}) & 16777215)::float8 / 16777216.0)"


def pick(options: str, key: str, salt: int) -> str:
    """One character of `options`, chosen by the hash."""
    return f"substr('{options}', 1 + floor({rnd(key, salt)} * {len(options)})::int, 1)"


@dataclass(frozen=True)
class Plan:
    households: int
    county_households: int
    quarters: tuple[tuple[int, int], ...]  # (year, quarter), oldest first


def quarters_ending(year: int, quarter: int, count: int) -> tuple[tuple[int, int], ...]:
    last = year * 4 + quarter - 1
    return tuple((index // 4, index % 4 + 1) for index in range(last - count + 1, last + 1))


def regions_sql() -> list[str]:
    """1 province, 2 prefectures, 16 counties, 10–14 townships per county, 12–18 villages per township."""
    return [
        f"""INSERT INTO regions_region (code, name, level, parent_id)
            VALUES ('{PROVINCE_CODE}', '示范省', 1, NULL)""",
        f"""INSERT INTO regions_region (code, name, level, parent_id)
            SELECT '52' || lpad(p::text, 2, '0') || '00000000', (ARRAY['东州市', '西州市'])[p], 2, r.id
            FROM regions_region r, generate_series(1, {PREFECTURES}) p WHERE r.code = '{PROVINCE_CODE}'""",
        f"""INSERT INTO regions_region (code, name, level, parent_id)
            SELECT substr(r.code, 1, 4) || lpad(c::text, 2, '0') || '000000',
                   replace(r.name, '市', '') || '第' || c || '县', 3, r.id
            FROM regions_region r, generate_series(1, {COUNTIES_PER_PREFECTURE}) c WHERE r.level = 2
            ORDER BY 1""",
        """INSERT INTO regions_region (code, name, level, parent_id)
            SELECT substr(r.code, 1, 6) || lpad(t::text, 3, '0') || '000', r.name || '第' || t || '镇', 4, r.id
            FROM regions_region r
            CROSS JOIN LATERAL generate_series(1, 10 + (hashint8extended(r.id, 1) & 1023)::int % 5) t
            WHERE r.level = 3 ORDER BY 1""",
        """INSERT INTO regions_region (code, name, level, parent_id)
            SELECT substr(r.code, 1, 9) || lpad(v::text, 3, '0'), r.name || '第' || v || '村', 5, r.id
            FROM regions_region r
            CROSS JOIN LATERAL generate_series(1, 12 + (hashint8extended(r.id, 2) & 1023)::int % 7) v
            WHERE r.level = 4 ORDER BY 1""",
        """INSERT INTO regions_dataversion (county_id, version, changed_at)
            SELECT id, 1, now() FROM regions_region WHERE level = 3""",
    ]


def plan_sql(plan: Plan) -> str:
    """bench_plan(village_id, code, households): the first county exactly `county_households`, the
    rest of the households over the other counties by uneven weights, each county's over its villages
    by uneven weights (largest remainder, so the totals are exact)."""
    rest = plan.households - plan.county_households
    return f"""
        CREATE UNLOGGED TABLE bench_plan AS
        WITH village AS (
            SELECT v.id, v.code, substr(v.code, 1, 6) AS county,
                   20 + (hashint8extended(v.id, 3) & 1023)::int % 80 AS weight
            FROM regions_region v WHERE v.level = 5
        ),
        county AS (
            SELECT county, row_number() OVER (ORDER BY county) AS ordinal,
                   SUM(weight) * (1 + (row_number() OVER (ORDER BY county)) % 4 * 0.4) AS weight
            FROM village GROUP BY county
        ),
        county_share AS (
            SELECT county, ordinal,
                   CASE WHEN ordinal = 1 THEN 0
                        ELSE {rest} * weight / SUM(weight) FILTER (WHERE ordinal > 1) OVER () END AS share
            FROM county
        ),
        county_total AS (
            SELECT county,
                   CASE WHEN ordinal = 1 THEN {plan.county_households}
                   ELSE floor(share)::int + CASE WHEN row_number() OVER (
                            ORDER BY (ordinal = 1), share - floor(share) DESC, county)
                        <= {rest} - SUM(floor(share)) FILTER (WHERE ordinal > 1) OVER () THEN 1 ELSE 0 END
                   END AS total
            FROM county_share
        ),
        village_share AS (
            SELECT v.id, v.code, v.county, ct.total, ct.total * v.weight::numeric
                   / SUM(v.weight) OVER (PARTITION BY v.county) AS share
            FROM village v JOIN county_total ct ON ct.county = v.county
        )
        SELECT id AS village_id, code, county,
               floor(share)::int + CASE WHEN row_number() OVER (
                   PARTITION BY county ORDER BY share - floor(share) DESC, code)
                   <= total - SUM(floor(share)) OVER (PARTITION BY county) THEN 1 ELSE 0 END AS households
        FROM village_share
    """


def households_sql() -> str:
    """Households, in village order; 40% 脱贫户, 0.5% cancelled during 2026 (some after Q3's end)."""
    key = "p.village_id * 100000 + s"
    lifted = f"{rnd(key, 10)} < 0.4"
    cancelled = f"{rnd(key, 11)} < 0.005"
    return f"""
        INSERT INTO households_household (
            version, uuid, number, village_id, household_type, lifted_year, relocated, phone, address,
            helper_name, helper_unit, helper_phone, status, cancelled_reason, cancelled_on,
            created_at, updated_at)
        SELECT 1, md5(p.code || s)::uuid, p.code || lpad(s::text, 5, '0'), p.village_id,
            CASE WHEN {lifted} THEN 'lifted' ELSE 'ordinary' END,
            CASE WHEN {lifted} THEN 2014 + floor({rnd(key, 12)} * 7)::int END,
            {rnd(key, 13)} < 0.06,
            '13' || lpad((floor({rnd(key, 14)} * 1000000000))::bigint::text, 9, '0'),
            '第' || (1 + s % 9) || '组' || (s % 97 + 1) || '号',
            CASE WHEN {lifted} THEN {pick(SURNAMES, key, 15)} || {pick(GIVEN, key, 16)} || {pick(GIVEN, key, 17)}
                 ELSE '' END,
            CASE WHEN {lifted} THEN '县农业农村局' ELSE '' END,
            '',
            CASE WHEN {cancelled} THEN 'cancelled' ELSE 'active' END,
            CASE WHEN {cancelled} THEN '整户迁出' ELSE '' END,
            CASE WHEN {cancelled} THEN DATE '2026-01-10' + floor({rnd(key, 18)} * 320)::int END,
            TIMESTAMPTZ '2025-03-01 08:00+08' + (s || ' minutes')::interval,
            TIMESTAMPTZ '2025-03-01 08:00+08' + (s || ' minutes')::interval
        FROM bench_plan p CROSS JOIN LATERAL generate_series(1, p.households) s
        ORDER BY p.code, s
    """


def _check_digit(base: str) -> str:
    terms = " + ".join(f"substr({base}, {i + 1}, 1)::int * {w}" for i, w in enumerate(CHECK_WEIGHTS))
    return f"substr('10X98765432', ({terms}) % 11 + 1, 1)"


def members_sql() -> str:
    """2–5 members in household order (户主 first), plus a member who left (死亡) in 2% of households.

    身份证号: the county's six digits, the birth date, a sequence number unique per county, date and
    sex (odd for men), and a valid GB 11643 check digit.
    """
    h = "h.id"
    m = "(g.household_id * 8 + g.k)"
    people = f"""
        SELECT h.id AS household_id, substr(v.code, 1, 6) AS area, k,
            2 + floor({rnd(h, 1)} * 4)::int AS size,
            26 + floor({rnd(h, 3)} * 56)::int AS head_age,
            CASE WHEN {rnd(h, 2)} < 0.84 THEN 'M' ELSE 'F' END AS head_sex,
            {rnd(h, 4)} < 0.85 AS has_spouse
        FROM households_household h JOIN regions_region v ON v.id = h.village_id
        CROSS JOIN LATERAL generate_series(
            1, 2 + floor({rnd(h, 1)} * 4)::int + CASE WHEN {rnd(h, 9)} < 0.02 THEN 1 ELSE 0 END) k
    """
    roles = f"""
        SELECT g.household_id, g.area, g.k, g.k <= g.size AS is_active,
            CASE WHEN g.k > g.size THEN 'father'
                 WHEN g.k = 1 THEN 'head'
                 WHEN g.k = 2 AND g.has_spouse THEN 'spouse'
                 WHEN g.k = 2 AND g.head_age < 55 THEN 'mother'
                 WHEN g.head_age - 22 - 3 * (g.k - 3) < 0 THEN
                     CASE WHEN {rnd(m, 6)} < 0.53 THEN 'grandson' ELSE 'granddaughter' END
                 ELSE CASE WHEN {rnd(m, 6)} < 0.53 THEN 'son' ELSE 'daughter' END END AS relation,
            CASE WHEN g.k > g.size THEN 'M'
                 WHEN g.k = 1 THEN g.head_sex
                 WHEN g.k = 2 AND g.has_spouse THEN CASE g.head_sex WHEN 'M' THEN 'F' ELSE 'M' END
                 WHEN g.k = 2 AND g.head_age < 55 THEN 'F'
                 ELSE CASE WHEN {rnd(m, 6)} < 0.53 THEN 'M' ELSE 'F' END END AS sex,
            CASE WHEN g.k > g.size THEN LEAST(g.head_age + 25, 104)
                 WHEN g.k = 1 THEN g.head_age
                 WHEN g.k = 2 AND g.has_spouse THEN GREATEST(20, g.head_age + floor({rnd(m, 5)} * 7)::int - 4)
                 WHEN g.k = 2 AND g.head_age < 55 THEN g.head_age + 22 + floor({rnd(m, 5)} * 8)::int
                 WHEN g.head_age - 22 - 3 * (g.k - 3) < 0 THEN floor({rnd(m, 7)} * 10)::int
                 ELSE GREATEST(0, g.head_age - 22 - 3 * (g.k - 3) - floor({rnd(m, 7)} * 4)::int) END AS age,
            {m} AS member_key
        FROM ({people}) g
        OFFSET 0
    """
    traits = f"""
        SELECT r.*,
            MAKE_DATE(2025 - r.age, 1, 1) + floor({rnd("r.member_key", 8)} * 365)::int AS birth,
            CASE WHEN r.age BETWEEN 3 AND 5 THEN 'preschool' WHEN r.age BETWEEN 6 AND 11 THEN 'primary'
                 WHEN r.age BETWEEN 12 AND 14 THEN 'junior' WHEN r.age BETWEEN 15 AND 17 THEN 'senior'
                 ELSE 'none' END AS schooling,
            CASE WHEN {rnd("r.member_key", 10)} < 0.88 THEN 'healthy'
                 WHEN {rnd("r.member_key", 10)} < 0.96 THEN 'chronic' ELSE 'disabled' END AS health,
            CASE WHEN r.age < 18 THEN 'none'
                 WHEN r.age < 60 THEN CASE WHEN {rnd("r.member_key", 11)} < 0.18 THEN 'skilled'
                     WHEN {rnd("r.member_key", 11)} < 0.88 THEN 'ordinary'
                     WHEN {rnd("r.member_key", 11)} < 0.96 THEN 'weak' ELSE 'lost' END
                 WHEN r.age < 70 THEN CASE WHEN {rnd("r.member_key", 11)} < 0.35 THEN 'ordinary'
                     WHEN {rnd("r.member_key", 11)} < 0.90 THEN 'weak' ELSE 'lost' END
                 ELSE CASE WHEN {rnd("r.member_key", 11)} < 0.35 THEN 'weak'
                     WHEN {rnd("r.member_key", 11)} < 0.60 THEN 'lost' ELSE 'none' END END AS labour
        FROM ({roles}) r
        OFFSET 0
    """
    numbered = f"""
        SELECT t.*,
            t.area || to_char(t.birth, 'YYYYMMDD') || lpad(((row_number() OVER (
                PARTITION BY t.area, t.birth, t.sex ORDER BY t.household_id, t.k) - 1) * 2
                + CASE t.sex WHEN 'M' THEN 1 ELSE 0 END)::text, 3, '0') AS base,
            t.labour IN ('skilled', 'ordinary') AND t.age BETWEEN 18 AND 55 AND t.is_active
                AND {rnd("t.member_key", 12)} < 0.45 AS works
        FROM ({traits}) t
        OFFSET 0
    """
    return f"""
        INSERT INTO households_member (
            household_id, name, id_number, sex, birth_date, relation, labour, health, schooling,
            work_place, work_months, medical_insurance, is_active, left_reason)
        SELECT n.household_id,
            {pick(SURNAMES, "n.household_id", 20)} || {pick(GIVEN, "n.member_key", 21)}
                || CASE WHEN {rnd("n.member_key", 22)} < 0.7 THEN {pick(GIVEN, "n.member_key", 23)} ELSE '' END,
            n.base || {_check_digit("n.base")}, n.sex, n.birth, n.relation, n.labour, n.health, n.schooling,
            CASE WHEN n.works THEN (ARRAY['县内', '省内县外', '广东', '浙江', '福建'])[
                1 + floor({rnd("n.member_key", 13)} * 5)::int] ELSE '' END,
            CASE WHEN n.works THEN 3 + floor({rnd("n.member_key", 14)} * 10)::int ELSE 0 END,
            TRUE, n.is_active, CASE WHEN n.is_active THEN '' ELSE '死亡' END
        FROM ({numbered}) n
        ORDER BY n.household_id, n.k
    """


def cases_sql() -> list[str]:
    """监测对象 for 5% of households (more among 脱贫户); 40% of them eliminated (≥ 6 months later)."""
    h = "h.id"
    identified = f"(DATE '2021-01-01' + (floor({rnd(h, 41)} * 68)::int || ' months')::interval)::date"
    eliminated = f"({identified} + ((6 + floor({rnd(h, 43)} * 19)::int) || ' months')::interval)::date"
    return [
        f"""
        INSERT INTO households_monitoringcase (
            version, household_id, category, identified_month, eliminated_month, elimination_method, note,
            created_at)
        SELECT 1, h.id,
            CASE WHEN {rnd(h, 44)} < 0.1 THEN 'sudden'
                 WHEN h.household_type = 'lifted' THEN 'unstable' ELSE 'marginal' END,
            {identified},
            CASE WHEN {rnd(h, 42)} < 0.4 AND {eliminated} <= DATE '2026-10-01' THEN {eliminated} END,
            CASE WHEN {rnd(h, 42)} < 0.4 AND {eliminated} <= DATE '2026-10-01'
                 THEN CASE WHEN {rnd(h, 45)} < 0.7 THEN 'assisted' ELSE 'natural' END ELSE '' END,
            '', {identified}::timestamptz + interval '9 hours'
        FROM households_household h
        WHERE {rnd(h, 40)} < CASE WHEN h.household_type = 'lifted' THEN 0.08 ELSE 0.03 END
        ORDER BY h.id
        """,
        f"""
        INSERT INTO households_monitoringcase_risk_types (monitoringcase_id, risktype_id)
        SELECT c.id, (SELECT MIN(id) FROM households_risktype) + floor({rnd("c.id", 46)} * 8)::int
        FROM households_monitoringcase c
        """,
    ]


def _money(expression: str) -> str:
    return f"ROUND(GREATEST(0, {expression})::numeric, 2)"


def income_sql(plan: Plan) -> str:
    """One record per household and quarter of the plan, except a missing quarter for 3% of
    households and quarters after a cancellation. Amounts: a yearly per-capita level drawn around
    13,500 (脱贫户), 17,000 (一般农户) or 8,200 (监测对象), split over the four wheels with seasons;
    net_income and per_capita_net_income as households/formulas.py computes them."""
    quarters = ", ".join(f"({year}, {number}, {index})" for index, (year, number) in enumerate(plan.quarters))
    n = len(plan.quarters)
    h = "b.household_id"
    q = "(b.household_id * 16 + b.quarter)"
    season = "(ARRAY[{}])[b.quarter]"
    wages_season = season.format("0.20, 0.26, 0.27, 0.27")
    operating_season = season.format("0.15, 0.17, 0.33, 0.35")
    noise = f"(0.9 + 0.2 * {rnd(q, 30)})"
    base = f"""
        SELECT s.household_id, s.size, s.employed, s.lifted, qs.year, qs.quarter,
            s.annual * CASE WHEN s.employed THEN 0.45 + 0.2 * s.r1 ELSE 0.05 * s.r1 END AS w,
            s.annual * (0.25 + 0.15 * s.r2) AS o,
            s.annual * 0.03 AS p,
            s.annual * (0.97 - CASE WHEN s.employed THEN 0.45 + 0.2 * s.r1 ELSE 0.05 * s.r1 END
                        - 0.7 * (0.25 + 0.15 * s.r2)) AS t
        FROM (
            SELECT h.id AS household_id, m.size, m.employed, h.household_type = 'lifted' AS lifted,
                h.cancelled_on,
                m.size * CASE WHEN {rnd("h.id", 40)} < CASE WHEN h.household_type = 'lifted' THEN 0.08 ELSE 0.03 END
                              THEN 8200 WHEN h.household_type = 'lifted' THEN 13500 ELSE 17000 END
                    * exp(0.35 * 2 * ({rnd("h.id", 31)} + {rnd("h.id", 32)} + {rnd("h.id", 33)} - 1.5)) AS annual,
                {rnd("h.id", 34)} AS r1, {rnd("h.id", 35)} AS r2,
                CASE WHEN {rnd("h.id", 36)} < 0.03 THEN floor({rnd("h.id", 37)} * {n})::int END AS missing
            FROM households_household h
            JOIN (SELECT household_id, COUNT(*) FILTER (WHERE is_active) AS size,
                         BOOL_OR(work_months > 0) AS employed
                  FROM households_member GROUP BY household_id) m ON m.household_id = h.id
            OFFSET 0
        ) s
        CROSS JOIN (VALUES {quarters}) AS qs(year, quarter, position)
        WHERE s.missing IS DISTINCT FROM qs.position
          AND (s.cancelled_on IS NULL OR MAKE_DATE(qs.year, qs.quarter * 3 - 2, 1) <= s.cancelled_on)
        OFFSET 0
    """
    items = {
        "wages_migrant_work": f"CASE WHEN b.employed THEN b.w * {wages_season} * 0.85 * {noise} ELSE 0 END",
        "wages_public_welfare_job": f"CASE WHEN b.lifted AND {rnd(h, 50)} < 0.12 THEN 1500 ELSE 0 END",
        "wages_other": f"CASE WHEN b.employed OR {rnd(h, 51)} < 0.5 THEN b.w * {wages_season} "
        f"* CASE WHEN b.employed THEN 0.15 ELSE 1 END * {noise} ELSE 0 END",
        "operating_planting": f"b.o * {operating_season} * 0.5 * {noise}",
        "operating_breeding": f"b.o * {operating_season} * 0.3 * {noise}",
        "operating_forestry_fruit": f"CASE WHEN {rnd(h, 52)} < 0.5 THEN b.o * {operating_season} * 0.3 ELSE 0 END",
        "operating_other": f"b.o * {operating_season} * 0.05 * {noise}",
        "property_dividends": "CASE WHEN b.quarter = 4 AND b.lifted THEN b.p * 0.6 ELSE 0 END",
        "property_land_transfer": "CASE WHEN b.quarter = 1 THEN b.p * 0.4 ELSE 0 END",
        "property_other": "0",
        "transfer_family_planning": f"CASE WHEN b.quarter = 4 AND {rnd(h, 53)} < 0.1 THEN 600 ELSE 0 END",
        "transfer_minimum_living": f"CASE WHEN {rnd(h, 54)} < 0.15 THEN b.t * 0.25 * 0.3 ELSE 0 END",
        "transfer_extreme_poverty": f"CASE WHEN {rnd(h, 55)} < 0.01 THEN 1800 ELSE 0 END",
        "transfer_pension": "b.t * 0.25 * 0.4",
        "transfer_ecological": "CASE WHEN b.quarter >= 3 THEN b.t * 0.5 * 0.1 ELSE 0 END",
        "transfer_other": "b.t * 0.25 * 0.2",
        "operating_costs": f"b.o * {operating_season} * 0.3 * {noise}",
        "insurance_claims": f"CASE WHEN {rnd(q, 56)} < 0.02 THEN 2000 ELSE 0 END",
        "compliant_out_of_pocket": f"CASE WHEN {rnd(q, 57)} < 0.02 THEN 800 ELSE 0 END",
    }
    names = list(items)
    amounts = ",\n            ".join(f"{_money(expression)} AS {name}" for name, expression in items.items())
    wheels = " + ".join(
        f"a.{name}"
        for name in names
        if name.split("_")[0] in ("wages", "operating", "property", "transfer") and name != "operating_costs"
    )
    return f"""
        INSERT INTO households_incomerecord (
            version, household_id, year, quarter, household_size, {", ".join(names)},
            net_income, per_capita_net_income, entered_at)
        SELECT 1, a.household_id, a.year, a.quarter, a.size, {", ".join(f"a.{name}" for name in names)},
            ({wheels}) - a.operating_costs,
            ROUND((({wheels}) - a.operating_costs) / a.size, 2),
            MAKE_DATE(a.year, a.quarter * 3, 25)::timestamptz
        FROM (
            SELECT b.household_id, b.year, b.quarter, b.size,
            {amounts}
            FROM ({base}) b
            OFFSET 0
        ) a
        ORDER BY a.household_id, a.year, a.quarter
    """


def policy_sql() -> list[str]:
    """The 2026 (and 2025) threshold on the province; 农村人口 for 90% of villages."""
    return [
        f"""INSERT INTO households_monitoringthreshold (region_id, year, amount, source)
            SELECT id, y, CASE y WHEN 2026 THEN {THRESHOLD} ELSE 8500 END, '示范省' || y || '年防返贫监测标准'
            FROM regions_region, (VALUES (2025), (2026)) AS years(y) WHERE code = '{PROVINCE_CODE}'""",
        f"""INSERT INTO households_villagepopulation (village_id, year, population, source)
            SELECT p.village_id, {YEAR},
                   GREATEST(1, ROUND(p.households * 3.6 * (1.05 + 0.3 * {rnd("p.village_id", 60)}))),
                   '2026年统计年报'
            FROM bench_plan p WHERE {rnd("p.village_id", 61)} < 0.9""",
    ]


# --------------------------------------------------------------------------------------------
# The floor: the figures straight from the registers in one statement
# --------------------------------------------------------------------------------------------

LEVEL_LENGTHS = {1: 2, 2: 4, 3: 6, 4: 9, 5: 12}


def floor_sql(*, year: int, quarter: int, key_line: str) -> str:
    """For every region at every level, the sums and counts behind the 16 household indicators:
    one pass per register (income records, members, cases) per household, then GROUPING SETS."""
    now = year * 4 + quarter - 1
    first_of_year = year * 4
    ytd_length = now - first_of_year + 1
    last_day = {1: f"{year}-03-31", 2: f"{year}-06-30", 3: f"{year}-09-30", 4: f"{year}-12-31"}[quarter]
    last_month = year * 12 + quarter * 3 - 1 - 12  # open ≥ 12 months: identified on or before this month
    due = f"{last_month // 12}-{last_month % 12 + 1:02d}-01"
    idx = "(i.year * 4 + i.quarter - 1)"
    wages = "i.wages_migrant_work + i.wages_public_welfare_job + i.wages_other"
    operating = "i.operating_planting + i.operating_breeding + i.operating_forestry_fruit + i.operating_other"
    prop = "i.property_dividends + i.property_land_transfer + i.property_other"
    transfers = (
        "i.transfer_family_planning + i.transfer_minimum_living + i.transfer_extreme_poverty + i.transfer_pension"
        " + i.transfer_ecological + i.transfer_other"
    )
    # The dashboard's 人均纯收入 bands (households.indicators.breakdowns): 1,000 yuan each, below 0 and 40,000+.
    bands: list[tuple[str, int | None, int | None]] = [("below_zero", None, 0)]
    bands += [(f"b{n:02d}", n * 1000, (n + 1) * 1000) for n in range(40)]
    bands.append(("top", 40000, None))
    band_counts = ", ".join(
        "COUNT(*) FILTER (WHERE f.t_ok AND f.pc IS NOT NULL"
        + ("" if low is None else f" AND f.pc >= {low}")
        + ("" if high is None else f" AND f.pc < {high}")
        + f") AS band_{key}"
        for key, low, high in bands
    )
    sets = ", ".join(f"(SUBSTR(f.village_code, 1, {length}))" for length in LEVEL_LENGTHS.values())
    unit = "COALESCE(" + ", ".join(f"SUBSTR(f.village_code, 1, {n})" for n in reversed(LEVEL_LENGTHS.values())) + ")"
    pop_sets = ", ".join(f"(SUBSTR(v.code, 1, {length}))" for length in LEVEL_LENGTHS.values())
    pop_unit = "COALESCE(" + ", ".join(f"SUBSTR(v.code, 1, {n})" for n in reversed(LEVEL_LENGTHS.values())) + ")"

    def per_capita(label: str, who: str, complete: str, amount: str) -> str:
        where = f"{who} AND {complete} AND f.size > 0"
        return (
            f"SUM({amount}) FILTER (WHERE {where}) AS {label}_net, "
            f"SUM(f.size) FILTER (WHERE {where}) AS {label}_people, "
            f"COUNT(*) FILTER (WHERE {where}) AS {label}_n"
        )

    def growth(label: str, now_amount: str, prior_amount: str) -> str:
        where = "f.lifted AND f.t_ok AND f.p_ok AND f.size > 0 AND f.p_size > 0"
        return (
            f"SUM({now_amount}) FILTER (WHERE {where}) AS {label}_now, "
            f"SUM(f.size) FILTER (WHERE {where}) AS {label}_now_people, "
            f"SUM({prior_amount}) FILTER (WHERE {where}) AS {label}_then, "
            f"SUM(f.p_size) FILTER (WHERE {where}) AS {label}_then_people, "
            f"COUNT(*) FILTER (WHERE {where}) AS {label}_n"
        )

    def count(label: str, base: str, hit: str) -> str:
        return (
            f"COUNT(*) FILTER (WHERE {base} AND {hit}) AS {label}_hits, COUNT(*) FILTER (WHERE {base}) AS {label}_base"
        )

    aggregates = ",\n            ".join(
        [
            per_capita("pcl", "f.lifted", "f.t_ok", "f.t_net"),
            per_capita("pcm", "f.monitored", "f.t_ok", "f.t_net"),
            per_capita("pca", "TRUE", "f.t_ok", "f.t_net"),
            per_capita("ytl", "f.lifted", "f.y_ok", "f.y_net"),
            per_capita("ytm", "f.monitored", "f.y_ok", "f.y_net"),
            per_capita("yta", "TRUE", "f.y_ok", "f.y_net"),
            growth("gn", "f.t_net", "f.p_net"),
            growth("go", "f.t_oper", "f.p_oper"),
            growth("gp", "f.t_prop", "f.p_prop"),
            count("ofs", "f.q_oper IS NOT NULL AND f.pq_oper IS NOT NULL", "f.q_oper < f.pq_oper"),
            count("lbt", "f.lifted AND f.t_ok", "f.pc < f.threshold AND NOT f.monitored"),
            count("bkl", "f.t_ok AND f.pc IS NOT NULL", f"f.pc < {key_line}"),
            count("zen", "(f.lifted OR f.monitored) AND f.labour AND f.recorded", "NOT f.employed AND f.q_wages = 0"),
            count("loc", "f.monitored", f"f.identified_month <= DATE '{due}'"),
            "SUM(f.members) FILTER (WHERE f.monitored AND f.has_population) AS mps_people, "
            "COUNT(*) FILTER (WHERE f.monitored AND f.has_population) AS mps_n",
            count("ent", "TRUE", "f.recorded"),
            per_capita("cwg", "TRUE", "f.t_ok", "f.t_wages"),
            per_capita("cop", "TRUE", "f.t_ok", "f.t_oper"),
            per_capita("cpr", "TRUE", "f.t_ok", "f.t_prop"),
            per_capita("ctr", "TRUE", "f.t_ok", "f.t_trans"),
            per_capita("cco", "TRUE", "f.t_ok", "f.t_costs"),
            band_counts,
        ]
    )
    return f"""
        WITH registered AS (
            SELECT h.id, h.household_type = 'lifted' AS lifted, v.code AS village_code
            FROM households_household h JOIN regions_region v ON v.id = h.village_id
            WHERE h.status = 'active' OR h.cancelled_on > DATE '{last_day}'
        ),
        income AS (
            SELECT i.household_id,
                COUNT(*) FILTER (WHERE {idx} = {now}) AS recorded,
                MAX(i.household_size) FILTER (WHERE {idx} = {now}) AS size,
                SUM({wages}) FILTER (WHERE {idx} = {now}) AS q_wages,
                SUM({operating}) FILTER (WHERE {idx} = {now}) AS q_oper,
                SUM({operating}) FILTER (WHERE {idx} = {now - 4}) AS pq_oper,
                COUNT(*) FILTER (WHERE {idx} > {now - 4}) AS t_n,
                SUM(i.net_income) FILTER (WHERE {idx} > {now - 4}) AS t_net,
                SUM({operating}) FILTER (WHERE {idx} > {now - 4}) AS t_oper,
                SUM({prop}) FILTER (WHERE {idx} > {now - 4}) AS t_prop,
                SUM({wages}) FILTER (WHERE {idx} > {now - 4}) AS t_wages,
                SUM({transfers}) FILTER (WHERE {idx} > {now - 4}) AS t_trans,
                SUM(i.operating_costs) FILTER (WHERE {idx} > {now - 4}) AS t_costs,
                COUNT(*) FILTER (WHERE {idx} <= {now - 4}) AS p_n,
                MAX(i.household_size) FILTER (WHERE {idx} = {now - 4}) AS p_size,
                SUM(i.net_income) FILTER (WHERE {idx} <= {now - 4}) AS p_net,
                SUM({operating}) FILTER (WHERE {idx} <= {now - 4}) AS p_oper,
                SUM({prop}) FILTER (WHERE {idx} <= {now - 4}) AS p_prop,
                COUNT(*) FILTER (WHERE {idx} >= {first_of_year}) AS y_n,
                SUM(i.net_income) FILTER (WHERE {idx} >= {first_of_year}) AS y_net
            FROM households_incomerecord i
            WHERE i.year BETWEEN {year - 2} AND {year} AND {idx} BETWEEN {now - 7} AND {now}
            GROUP BY i.household_id
        ),
        people AS (
            SELECT m.household_id, COUNT(*) AS members,
                BOOL_OR(m.labour IN ('skilled', 'ordinary', 'weak')) AS labour,
                BOOL_OR(m.work_months > 0) AS employed
            FROM households_member m WHERE m.is_active GROUP BY m.household_id
        ),
        open_case AS (
            SELECT c.household_id, MAX(c.identified_month) AS identified_month
            FROM households_monitoringcase c
            WHERE c.identified_month <= DATE '{last_day}'
              AND (c.eliminated_month IS NULL OR c.eliminated_month > DATE '{last_day}')
            GROUP BY c.household_id
        ),
        village AS (
            SELECT v.code,
                (SELECT t.amount FROM households_monitoringthreshold t JOIN regions_region tr ON tr.id = t.region_id
                 WHERE t.year = {year} AND v.code LIKE SUBSTR(tr.code, 1, CASE tr.level WHEN 1 THEN 2 WHEN 2 THEN 4
                       WHEN 3 THEN 6 WHEN 4 THEN 9 ELSE 12 END) || '%'
                 ORDER BY tr.level DESC LIMIT 1) AS threshold,
                EXISTS (SELECT 1 FROM households_villagepopulation p WHERE p.village_id = v.id AND p.year = {year})
                    AS has_population
            FROM regions_region v WHERE v.level = 5
        ),
        f AS (
            SELECT r.village_code, r.lifted, oc.household_id IS NOT NULL AS monitored, oc.identified_month,
                COALESCE(p.members, 0) AS members, COALESCE(p.labour, FALSE) AS labour,
                COALESCE(p.employed, FALSE) AS employed, COALESCE(i.recorded, 0) = 1 AS recorded,
                i.size, i.q_wages, i.q_oper, i.pq_oper,
                COALESCE(i.t_n, 0) = 4 AS t_ok, i.t_net, i.t_oper, i.t_prop, i.t_wages, i.t_trans, i.t_costs,
                COALESCE(i.p_n, 0) = 4 AS p_ok, i.p_size, i.p_net, i.p_oper, i.p_prop,
                COALESCE(i.y_n, 0) = {ytd_length} AS y_ok, i.y_net,
                CASE WHEN i.t_n = 4 AND i.size > 0 THEN ROUND(i.t_net / i.size, 2) END AS pc,
                v.threshold, v.has_population
            FROM registered r
            LEFT JOIN income i ON i.household_id = r.id
            LEFT JOIN people p ON p.household_id = r.id
            LEFT JOIN open_case oc ON oc.household_id = r.id
            LEFT JOIN village v ON v.code = r.village_code
        ),
        grouped AS (
            SELECT {unit} AS unit,
            {aggregates}
            FROM f GROUP BY GROUPING SETS ({sets})
        ),
        population AS (
            SELECT {pop_unit} AS unit, SUM(p.population) AS population
            FROM households_villagepopulation p JOIN regions_region v ON v.id = p.village_id
            WHERE p.year = {year}
            GROUP BY GROUPING SETS ({pop_sets})
        )
        SELECT COALESCE(g.unit, population.unit) AS unit, population.population, g.*
        FROM grouped g FULL JOIN population ON population.unit = g.unit
    """


CENT = Decimal("0.01")
PLACES = Decimal("0.0001")


def _half_up(value: Decimal, places: Decimal) -> Decimal:
    return value.quantize(places, rounding=ROUND_HALF_UP)


def _divide(part: Any, whole: Any, places: Decimal) -> Decimal | None:
    if not whole:
        return None
    return _half_up(Decimal(part or 0) / Decimal(whole), places)


def floor_figures(row: dict[str, Any]) -> dict[str, tuple[Decimal, Decimal | None, Decimal | None, int]]:
    """(numerator, denominator, value, records) of each indicator from one region's sums."""
    figures: dict[str, tuple[Decimal, Decimal | None, Decimal | None, int]] = {}
    if row.get("pca_n") is not None:
        for code, label in PER_CAPITA.items():
            amount = Decimal(row[f"{label}_net"] or 0)
            people = Decimal(row[f"{label}_people"] or 0)
            figures[code] = (amount, people, _divide(amount, people, CENT), row[f"{label}_n"])
        for code, label in GROWTH.items():
            now = _divide(row[f"{label}_now"], row[f"{label}_now_people"], CENT)
            then = _divide(row[f"{label}_then"], row[f"{label}_then_people"], CENT)
            value = None if now is None or then is None or then <= 0 else _half_up(now / then - 1, PLACES)
            figures[code] = (now or Decimal(0), then, value, row[f"{label}_n"])
        for code, (label, share) in COUNTS.items():
            hits, base = row[f"{label}_hits"], row[f"{label}_base"]
            value = _divide(hits, base, PLACES) if share else Decimal(hits)
            figures[code] = (Decimal(hits), Decimal(base), value, hits)
    if row.get("population") is not None:
        people = Decimal(row.get("mps_people") or 0)
        population = Decimal(row["population"])
        figures["monitored_population_share"] = (
            people,
            population,
            _divide(people, population, PLACES),
            row.get("mps_n") or 0,
        )
    return figures


PER_CAPITA = {
    "income_per_capita_lifted": "pcl",
    "income_per_capita_monitored": "pcm",
    "income_per_capita_all": "pca",
    "income_per_capita_lifted_ytd": "ytl",
    "income_per_capita_monitored_ytd": "ytm",
    "income_per_capita_all_ytd": "yta",
    "composition_wages": "cwg",
    "composition_operating": "cop",
    "composition_property": "cpr",
    "composition_transfers": "ctr",
    "composition_costs": "cco",
}
GROWTH = {
    "income_growth_lifted": "gn",
    "operating_income_growth_lifted": "go",
    "property_income_growth_lifted": "gp",
}
COUNTS = {  # code → (label, is a share)
    "operating_fall_share": ("ofs", True),
    "lifted_below_threshold_unmonitored": ("lbt", False),
    "below_key_line": ("bkl", False),
    "zero_employment_with_labour": ("zen", False),
    "monitoring_open_twelve_months": ("loc", False),
    "entry_progress": ("ent", True),
}


# --------------------------------------------------------------------------------------------
# Children
# --------------------------------------------------------------------------------------------


def django_setup(settings_module: str) -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    import django

    django.setup()


def announce(args: argparse.Namespace, label: str) -> None:
    """Tell the parent's sampler which run this is, and which server process works for us."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    Path(args.announce).write_text(f"{label} {backend}")


def child_build(args: argparse.Namespace) -> dict[str, Any]:
    """Migrate, then build the province in SQL, seed targets/rules/parameters, VACUUM ANALYZE."""
    django_setup(args.settings)
    from django.core.management import call_command
    from django.db import connection

    timings: dict[str, float] = {}
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    timings["migrate"] = time.perf_counter() - started
    announce(args, "build")
    plan = Plan(
        households=args.households,
        county_households=args.county_households,
        quarters=quarters_ending(YEAR, 3, args.quarters),
    )
    steps: list[tuple[str, list[str]]] = [
        ("regions", regions_sql()),
        ("plan", [plan_sql(plan)]),
        ("households", [households_sql()]),
        ("members", [members_sql()]),
        ("cases", cases_sql()),
        ("income", [income_sql(plan)]),
        ("threshold + population", [*policy_sql(), "DROP TABLE bench_plan"]),
    ]
    rows: dict[str, int] = {}
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("SET work_mem = '512MB'")
        cursor.execute("SET maintenance_work_mem = '1GB'")
        for name, statements in steps:
            began = time.perf_counter()
            with transaction.atomic():
                for statement in statements:
                    cursor.execute(statement)
                    rows[name] = rows.get(name, 0) + max(cursor.rowcount, 0)
            timings[name] = time.perf_counter() - began
            print(f"  [build] {name}: {rows[name]:,} rows, {timings[name]:.1f} s", flush=True)
        cursor.execute("RESET session_replication_role")
    began = time.perf_counter()
    policy_seed()
    timings["targets + rules"] = time.perf_counter() - began
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    timings["vacuum analyze"] = time.perf_counter() - began
    counts = table_counts()
    return {"timings": timings, "counts": counts, "load_average": load_average()}


def policy_seed() -> None:
    """Targets and scoring rules on the province (one county overrides a target), and the 重点户 line
    set to 9,000 on the province, so judging, scoring and parameters all run."""
    from decimal import Decimal as D

    from assessment.models import ParameterValue, ScoringRule, Target
    from regions.models import Region

    province = Region.objects.get(code=PROVINCE_CODE)
    county = Region.objects.filter(level=3).order_by("code").first()
    source = {"source_document": "示范省2026年巩固拓展脱贫攻坚成果考核办法", "clause": "附件1"}
    targets = [
        ("income_per_capita_lifted", "gte", D("12000")),
        ("income_per_capita_all", "gte", D("15000")),
        ("entry_progress", "gte", D("0.97")),
        ("lifted_below_threshold_unmonitored", "zero", None),
        ("monitored_population_share", "lte", D("0.03")),
        ("operating_fall_share", "better_than_parent", None),
        ("zero_employment_with_labour", "zero", None),
        ("income_growth_lifted", "not_below_last_year", None),
    ]
    for indicator, comparator, value in targets:
        Target.objects.create(
            region=province, year=YEAR, indicator=indicator, comparator=comparator, value=value, **source
        )
        ScoringRule.objects.create(
            region=province,
            year=YEAR,
            indicator=indicator,
            full_score=D("10"),
            deduction_per_point=D("0.5"),
            point=D("100") if indicator.startswith("income_per_capita") else D("0.01"),
            **source,
        )
    assert county is not None
    Target.objects.create(
        region=county, year=YEAR, indicator="income_per_capita_lifted", comparator="gte", value=D("11000"), **source
    )
    ParameterValue.objects.create(region=province, year=YEAR, key="key_household_line", value=D("9000"), **source)


def table_counts() -> dict[str, int]:
    from django.db import connection

    tables = {
        "regions": "regions_region",
        "households": "households_household",
        "members": "households_member",
        "income records": "households_incomerecord",
        "monitoring cases": "households_monitoringcase",
        "village populations": "households_villagepopulation",
        "facts": "households_householdquarterfact",
        "indicator values": "assessment_indicatorvalue",
        "region scores": "assessment_regionscore",
    }
    with connection.cursor() as cursor:
        counts = {}
        for label, table in tables.items():
            cursor.execute(f"SELECT COUNT(*) FROM {table}")
            counts[label] = int(cursor.fetchone()[0])
        cursor.execute("SELECT pg_database_size(current_database())")
        counts["database bytes"] = int(cursor.fetchone()[0])
    return counts


class Clock:
    """Seconds spent in named functions of the engine, by wrapping them (inclusive times)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def wrap(self, owner: Any, name: str, label: str) -> None:
        original = getattr(owner, name)
        clock = self

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                clock.seconds[label] += time.perf_counter() - began
                clock.calls[label] += 1

        setattr(owner, name, timed)


def engine_clock() -> Clock:
    import assessment.engine
    from households.facts import HouseholdFacts
    from households.indicators import MonitoredPopulationShare

    clock = Clock()
    clock.wrap(HouseholdFacts, "refresh", "facts refresh (DELETE + INSERT … SELECT per county)")
    clock.wrap(assessment.engine, "source_totals", "village totals of the additive indicators (one query per county)")
    clock.wrap(assessment.engine, "aggregate_source", "other aggregates over the facts (one query per level)")
    clock.wrap(MonitoredPopulationShare, "compute", "监测对象人口占比 (one query per level)")
    clock.wrap(assessment.engine, "Policy", "policy rows (targets, rules, parameters)")
    clock.wrap(assessment.engine, "store", "judge, score and store values + scores")
    return clock


def child_engine(args: argparse.Namespace) -> dict[str, Any]:
    """indicators_compute(scope=None, period=2026Q3): every county, every level, stored."""
    django_setup(args.settings)
    from assessment.engine import indicators_compute
    from figures.periods import Quarter

    clock = engine_clock()
    announce(args, "engine")
    before = load_average()
    began = time.perf_counter()
    outcome = indicators_compute(scope=None, period=Quarter(YEAR, 3))
    seconds = time.perf_counter() - began
    return {
        "seconds": seconds,
        "values": outcome.values,
        "counties": len(outcome.counties),
        "phases": dict(clock.seconds),
        "calls": dict(clock.calls),
        "counts": table_counts(),
        "load_average": {"before": before, "after": load_average()},
    }


def child_floor(args: argparse.Namespace) -> dict[str, Any]:
    """The floor statement, timed with fetching its rows; the indicator figures from them (untimed)."""
    django_setup(args.settings)
    from django.db import connection

    sql = floor_sql(year=YEAR, quarter=3, key_line=args.key_line)
    announce(args, "floor")
    before = load_average()
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(sql)
        names = [column.name for column in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    # Villages above the 3% share, counted per unit from the statement's own village rows (untimed:
    # a pass over a few thousand rows).
    over: dict[str, list[int]] = {}
    for row in rows:
        if len(row["unit"]) == 12 and row.get("population") is not None:
            above = (row.get("mps_people") or 0) * 10000 > row["population"] * 300
            for length in (2, 4, 6, 9):
                counts = over.setdefault(row["unit"][:length], [0, 0])
                counts[0] += 1 if above else 0
                counts[1] += 1
    seconds = time.perf_counter() - began
    figures = {
        row["unit"].ljust(12, "0"): {
            code: [str(part) for part in figure] for code, figure in floor_figures(row).items()
        }
        for row in rows
    }
    for unit, (above_count, villages) in over.items():
        figures.setdefault(unit.ljust(12, "0"), {})["villages_over_monitored_share"] = [
            str(Decimal(above_count)),
            str(Decimal(villages)),
            str(Decimal(above_count)),
            str(above_count),
        ]
    return {
        "seconds": seconds,
        "regions": len(rows),
        "figures": figures,
        "load_average": {"before": before, "after": load_average()},
    }


def import_change(county_code: str, round_number: int) -> dict[str, Any]:
    """What an income import of one village does to the data: its 2026Q3 wages change (net and per
    capita follow), the records' versions move, and the county is marked changed in that village."""
    from django.db import connection

    from regions.services import data_changed

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM regions_region WHERE level = 5 AND code LIKE %s ORDER BY code LIMIT 1",
            [county_code[:6] + "%"],
        )
        village_id = cursor.fetchone()[0]
        delta = 100 + round_number
        cursor.execute(
            f"""UPDATE households_incomerecord i SET wages_other = i.wages_other + {delta},
                    net_income = i.net_income + {delta},
                    per_capita_net_income = ROUND((i.net_income + {delta}) / i.household_size, 2),
                    version = i.version + 1, entered_at = now()
                FROM households_household h
                WHERE h.id = i.household_id AND h.village_id = %s AND i.year = %s AND i.quarter = 3""",
            [village_id, YEAR],
        )
        changed = cursor.rowcount
        cursor.execute("SELECT code FROM regions_region WHERE id = %s", [village_id])
        village_code = cursor.fetchone()[0]
        # What the import's after_apply does: the village's county is marked changed, and where.
        data_changed(codes=[village_code])
    return {"village_id": village_id, "records": changed}


def child_county(args: argparse.Namespace) -> dict[str, Any]:
    """One county's recompute after an import-like change: indicators_compute(scope=county) --repeat
    times, each after a fresh change, then once through the ComputeRun path."""
    django_setup(args.settings)
    from assessment.engine import indicators_compute
    from assessment.models import ComputeRun
    from assessment.services import compute_run_execute
    from figures.periods import Quarter
    from households.models import Household
    from regions.models import Region

    county = Region.objects.filter(level=3).order_by("code").first()
    assert county is not None
    households = Household.objects.filter(village__code__startswith=county.prefix).count()
    period = Quarter(YEAR, 3)
    clock = engine_clock()
    runs: list[dict[str, Any]] = []
    for number in range(args.repeat):
        change = import_change(county.code, number)
        announce(args, "county")
        before = load_average()
        began = time.perf_counter()
        outcome = indicators_compute(scope=county, period=period)
        seconds = time.perf_counter() - began
        runs.append(
            {
                "seconds": seconds,
                "values": outcome.values,
                "change": change,
                "phases": dict(clock.seconds),
                "load_average": {"before": before, "after": load_average()},
            }
        )
        clock.seconds.clear()
    # The ComputeRun path also raises the county's alerts: the first run raises every one of them (as the
    # first nightly run does); the next, after another change, only what changed — the steady state.
    first_seconds = 0.0
    for attempt in range(2):
        change = import_change(county.code, args.repeat + attempt)
        announce(args, "compute_run")
        before = load_average()
        began = time.perf_counter()
        run = ComputeRun.objects.create(scope=county, year=period.year, quarter=period.number, reason="bench")
        run = compute_run_execute(run_id=run.pk)
        seconds = time.perf_counter() - began
        if attempt == 0:
            first_seconds, first_message = seconds, run.message
    return {
        "county": county.code,
        "households": households,
        "runs": runs,
        "compute_run_first": {"seconds": first_seconds, "message": first_message},
        "compute_run": {
            "seconds": seconds,
            "status": run.status,
            "message": run.message,
            "values": run.values_written,
            "change": change,
            "phases": dict(clock.seconds),
            "load_average": {"before": before, "after": load_average()},
        },
    }


def child_explain(args: argparse.Namespace) -> dict[str, Any]:
    """EXPLAIN (ANALYZE, BUFFERS) of the county's facts INSERT … SELECT and of its aggregate queries,
    in a transaction rolled back."""
    django_setup(args.settings)
    from django.db import connection

    from assessment.policy import Policy
    from figures import registry
    from figures.periods import Quarter
    from households.facts import HouseholdQuarterFact, _refresh_sql
    from regions.models import Level, Region

    county = Region.objects.filter(level=3).order_by("code").first()
    assert county is not None
    period = Quarter(YEAR, 3)
    plans: dict[str, str] = {}
    captured: list[tuple[str, Any]] = []

    def capture(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        captured.append((sql, params))
        return execute(sql, params, many, context)

    announce(args, "explain")
    with transaction.atomic(), connection.cursor() as cursor:
        params: dict[str, Any] = {"within": f"{county.prefix}%", "last_day": period.last_day}
        cursor.execute(
            f"DELETE FROM {HouseholdQuarterFact._meta.db_table} WHERE year = %s AND quarter = %s "
            "AND village_code LIKE %s",
            [period.year, period.number, f"{county.prefix}%"],
        )
        village_ids = Region.objects.filter(code__startswith=county.prefix, level=5).values_list("pk", flat=True)
        villages = ", ".join(str(pk) for pk in village_ids)
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + _refresh_sql(period, villages), params)
        plans["facts INSERT … SELECT (one county)"] = "\n".join(row[0] for row in cursor.fetchall())
        policy = Policy(period=period)
        indicators = [i for i in registry.indicators() if isinstance(i, registry.SourceIndicator)]
        parameters = {i.code: policy.parameters(i.parameters, county.code, Level.COUNTY) for i in registry.indicators()}
        for level in (Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE):
            captured.clear()
            with connection.execute_wrapper(capture):
                registry.aggregate_source(
                    indicators=indicators, period=period, level=level, within=county.prefix, parameters=parameters
                )
            sql, sql_params = captured[-1]
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, sql_params)
            plans[f"aggregate_source, level {int(level)}"] = "\n".join(row[0] for row in cursor.fetchall())
        transaction.set_rollback(True)
    return {"plans": plans}


# --------------------------------------------------------------------------------------------
# Parent
# --------------------------------------------------------------------------------------------


def database_exists(server_url: str, name: str) -> bool:
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as connection:
        return connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def rss_of(pid: int) -> tuple[int, int]:
    """Pss and Rss (bytes) of one process, (0, 0) when it is gone."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0, 0
    pss = rss = 0
    for line in text.splitlines():
        if line.startswith("Pss:"):
            pss = int(line.split()[1]) * 1024
        elif line.startswith("Rss:"):
            rss = int(line.split()[1]) * 1024
    return pss, rss


def process_tree(pid: int) -> list[int]:
    """pid and its descendants (Linux /proc)."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                pending.extend(int(child) for child in task.read_text().split())
            except OSError:
                continue
    return found


def sample_memory(process: subprocess.Popen[bytes], announce_file: Path, interval: float = 0.1) -> dict[str, Any]:
    """Poll the child's process tree (and the PostgreSQL backend serving it) until the child exits;
    peaks per run the child announced."""
    by_run: dict[str, dict[str, int]] = {}
    while process.poll() is None:
        rss = sum(rss_of(pid)[1] for pid in process_tree(process.pid))
        try:
            run, backend = announce_file.read_text().split()
        except (OSError, ValueError):
            run, backend = "startup", "0"
        backend_rss = rss_of(int(backend))[1] if backend != "0" else 0
        peaks = by_run.setdefault(run, {"tree_rss_bytes": 0, "backend_rss_bytes": 0})
        peaks["tree_rss_bytes"] = max(peaks["tree_rss_bytes"], rss)
        peaks["backend_rss_bytes"] = max(peaks["backend_rss_bytes"], backend_rss)
        time.sleep(interval)
    return by_run


def run_child(args: argparse.Namespace, step: str, database: str, scratch: Path) -> dict[str, Any]:
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = args.settings
    env["DEBUG"] = "0"
    env["DATABASE_URL"] = with_database(args.server_url, database)
    result_file = scratch / f"{step}.json"
    announce_file = scratch / f"{step}.run"
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        f"--child={step}",
        f"--households={args.households}",
        f"--county-households={args.county_households}",
        f"--quarters={args.quarters}",
        f"--repeat={args.repeat}",
        f"--key-line={args.key_line}",
        f"--settings={args.settings}",
        f"--result={result_file}",
        f"--announce={announce_file}",
    ]
    print(f"[{step}] database {database}, load {load_average()}", flush=True)
    started = time.perf_counter()
    with subprocess.Popen(command, env=env, cwd=ROOT) as process:
        sampled = sample_memory(process, announce_file)
    if process.returncode != 0:
        raise subprocess.CalledProcessError(process.returncode, command)
    data: dict[str, Any] = json.loads(result_file.read_text())
    data["wall_s"] = time.perf_counter() - started
    data["memory"] = sampled
    return data


def stored_values(url: str) -> dict[str, dict[str, tuple[Any, ...]]]:
    """What the engine stored: code → indicator → (numerator, denominator, value, records)."""
    import psycopg

    found: dict[str, dict[str, tuple[Any, ...]]] = defaultdict(dict)
    with psycopg.connect(url) as connection:
        for code, indicator, *figure in connection.execute(
            """SELECT r.code, v.indicator, v.numerator, v.denominator, v.value, v.records
               FROM assessment_indicatorvalue v JOIN regions_region r ON r.id = v.region_id
               WHERE v.year = %s AND v.quarter = 3""",
            [YEAR],
        ):
            found[code][indicator] = tuple(figure)
    return found


def level_of(code: str) -> int:
    for level in (5, 4, 3, 2):
        if code[LEVEL_LENGTHS[level - 1] : LEVEL_LENGTHS[level]].strip("0"):
            return level
    return 1


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return Decimal(str(a)) == Decimal(str(b))


def compare(floor: dict[str, dict[str, list[str]]], stored: dict[str, dict[str, tuple[Any, ...]]]) -> dict[str, Any]:
    """Every (region, indicator) of the floor against the engine's stored value, by level."""
    by_level: dict[int, dict[str, int]] = defaultdict(lambda: {"compared": 0, "matched": 0})
    mismatches: list[dict[str, Any]] = []
    by_indicator: dict[str, int] = defaultdict(int)
    codes = set(floor) | set(stored)
    for code in sorted(codes):
        level = level_of(code)
        ours, theirs = floor.get(code, {}), stored.get(code, {})
        for indicator in sorted(set(ours) | set(theirs)):
            counted = by_level[level]
            counted["compared"] += 1
            a = ours.get(indicator)
            b = theirs.get(indicator)
            floor_figure = [None if part == "None" else part for part in a] if a else None
            same = (
                a is not None and b is not None and all(_same(x, y) for x, y in zip(floor_figure or [], b, strict=True))
            )
            if same:
                counted["matched"] += 1
                continue
            by_indicator[f"level {level} {indicator}"] += 1
            if len(mismatches) < 40:
                mismatches.append(
                    {
                        "code": code,
                        "level": level,
                        "indicator": indicator,
                        "floor": floor_figure,
                        "engine": [None if x is None else str(x) for x in b] if b else None,
                    }
                )
    return {
        "by_level": {str(level): counts for level, counts in sorted(by_level.items())},
        "mismatched_by_indicator": dict(by_indicator),
        "mismatches": mismatches,
        "county_level_match": by_level[3]["compared"] > 0 and by_level[3]["compared"] == by_level[3]["matched"],
        "all_match": all(c["compared"] == c["matched"] for c in by_level.values()),
    }


def mib(value: int | None) -> str:
    return f"{value / 2**20:,.0f}" if value else "-"


def loads(figure: dict[str, Any]) -> str:
    load = figure.get("load_average", {})
    if isinstance(load, list):
        return f"{load[0]:.2f}"
    return f"{load['before'][0]:.2f} → {load['after'][0]:.2f}" if load else ""


def format_table(results: dict[str, Any], args: argparse.Namespace) -> str:
    header = f"{'step':<44}{'seconds':>9}{'tree MiB':>10}{'backend MiB':>13}  {'load 1 min':<14} note"
    lines = [header, "-" * (len(header) + 30)]

    def line(label: str, seconds: float | None, memory: dict[str, int] | None, load: str, note: str = "") -> None:
        shown = f"{seconds:>9.2f}" if seconds is not None else f"{'':>9}"
        tree = mib(memory["tree_rss_bytes"]) if memory else ""
        backend = mib(memory["backend_rss_bytes"]) if memory else ""
        lines.append(f"{label:<44}{shown}{tree:>10}{backend:>13}  {load:<14} {note}")

    build = results.get("build")
    if build:
        total = sum(build["timings"].values())
        line("build (migrate + SQL + VACUUM ANALYZE)", total, build["memory"].get("build"), loads(build))
        for name, seconds in build["timings"].items():
            line(f"  {name}", seconds, None, "")
    floor, engine = results.get("floor"), results.get("engine")
    if floor:
        line(
            "floor: one hand-written statement",
            floor["seconds"],
            floor["memory"].get("floor"),
            loads(floor),
            f"{floor['regions']:,} region rows",
        )
    if engine:
        line(
            "engine: indicators_compute(scope=None)",
            engine["seconds"],
            engine["memory"].get("engine"),
            loads(engine),
            f"{engine['values']:,} values, {engine['counties']} counties",
        )
        for label, seconds in sorted(engine["phases"].items(), key=lambda item: -item[1]):
            line(f"  {label}", seconds, None, "", f"{engine['calls'][label]} calls")
    if floor and engine:
        ratio = engine["seconds"] / floor["seconds"]
        lines.append(
            f"{'engine / floor':<44}{ratio:>8.2f}x  target <= {TARGET_RATIO:.0f}x: {verdict(ratio <= TARGET_RATIO)}"
        )
    county = results.get("county")
    if county:
        times = [run["seconds"] for run in county["runs"]]
        first = times[0]
        aim = f"target <= {TARGET_COUNTY_S:.0f} s: {verdict(first <= TARGET_COUNTY_S)}"
        note = f"{county['households']:,} households; {aim}"
        line(
            "county recompute, first after a change",
            first,
            county["memory"].get("county"),
            loads(county["runs"][0]),
            note,
        )
        median = statistics.median(times)
        line(
            f"county recompute, median of {len(times)}",
            median,
            None,
            "",
            f"each after a change; target: {verdict(median <= TARGET_COUNTY_S)}",
        )
        for label, seconds in sorted(county["runs"][0]["phases"].items(), key=lambda item: -item[1]):
            line(f"  {label}", seconds, None, "", "(first run)")
        first = county.get("compute_run_first")
        if first:
            line("county via ComputeRun, first (raises all alerts)", first["seconds"], None, "", first["message"])
        run = county["compute_run"]
        line(
            "county via ComputeRun, next after a change",
            run["seconds"],
            county["memory"].get("compute_run"),
            loads(run),
            f"{run['status']}: {run['message']}; target: {verdict(run['seconds'] <= TARGET_COUNTY_S)}",
        )
    check = results.get("check")
    if check:
        lines.append("")
        for level, counts in check["by_level"].items():
            lines.append(
                f"floor = engine, level {level}: {counts['matched']:,} of {counts['compared']:,} figures match"
            )
        lines.append(
            "county level, every indicator: "
            + ("MATCH" if check["county_level_match"] else "MISMATCH")
            + "; all levels: "
            + ("MATCH" if check["all_match"] else "MISMATCH")
        )
        for key, count in sorted(check["mismatched_by_indicator"].items()):
            lines.append(f"  mismatched: {key}: {count}")
    lines.append("(tree MiB: peak summed Rss of the measuring process tree, sampled every 0.1 s; backend MiB:")
    lines.append(" peak Rss of the PostgreSQL backend serving it, shared buffers it touched included,")
    lines.append(" parallel workers not included)")
    return "\n".join(lines)


def parent_main(args: argparse.Namespace) -> None:
    server_url = os.environ.get("DATABASE_URL", "")
    if not urlsplit(server_url).scheme.startswith("postgres"):
        raise SystemExit("DATABASE_URL must name a PostgreSQL server (run under scripts/with-services)")
    args.server_url = server_url
    database = f"bench_assessment_province_{args.households}"
    url = with_database(server_url, database)
    scratch = Path(tempfile.mkdtemp(prefix="bench-assessment-province-"))
    results: dict[str, Any] = {}
    started = time.perf_counter()
    reuse = args.reuse and database_exists(server_url, database)
    try:
        if not reuse:
            server_execute(server_url, f'DROP DATABASE IF EXISTS "{database}"', f'CREATE DATABASE "{database}"')
            results["build"] = run_child(args, "build", database, scratch)
            print(f"[build] {results['build']['counts']}", flush=True)
        else:
            print(f"[build] reusing {database}", flush=True)
        results["floor"] = run_child(args, "floor", database, scratch)
        results["engine"] = run_child(args, "engine", database, scratch)
        results["check"] = compare(results["floor"].pop("figures"), stored_values(url))
        results["county"] = run_child(args, "county", database, scratch)
        if args.explain:
            results["explain"] = run_child(args, "explain", database, scratch)
    finally:
        if not args.keep:
            server_execute(server_url, f'DROP DATABASE IF EXISTS "{database}"')
        shutil.rmtree(scratch, ignore_errors=True)

    import psycopg

    with psycopg.connect(server_url) as connection:
        row = connection.execute("SHOW server_version").fetchone()
        version = str(row[0]) if row else "?"
        settings = {
            name: connection.execute(f"SHOW {name}").fetchone()[0]  # type: ignore[index]
            for name in ("shared_buffers", "work_mem", "max_parallel_workers_per_gather")
        }
    table = format_table(results, args)
    counts = (results.get("engine") or {}).get("counts", {})
    print()
    print(
        f"Assessment engine on a province, PostgreSQL {version} ({settings}), {os.cpu_count()} CPUs: "
        f"{counts.get('households', args.households):,} households, {counts.get('members', 0):,} members, "
        f"{counts.get('income records', 0):,} income records, {counts.get('monitoring cases', 0):,} cases, "
        f"{counts.get('regions', 0):,} regions, database {mib(counts.get('database bytes'))} MiB"
    )
    print()
    print(table)
    for mismatch in results.get("check", {}).get("mismatches", [])[:10]:
        print(f"  e.g. {mismatch}")
    for name, plan in results.get("explain", {}).get("plans", {}).items():
        print(f"\n--- EXPLAIN (ANALYZE, BUFFERS): {name} ---\n{plan}")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    output = RESULTS_DIR / f"assessment_province-{args.households}.json"
    payload = {
        "households": args.households,
        "county_households": args.county_households,
        "quarters": args.quarters,
        "server_version": version,
        "server_settings": settings,
        "settings": args.settings,
    }
    write_results(output, payload, started=started, table=table, results=results)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--households", type=int, default=2_000_000, help="households in the province (2000000)")
    parser.add_argument(
        "--county-households",
        type=int,
        help="households of the first county, the one recomputed (200000; a tenth of --households below 1,000,000)",
    )
    parser.add_argument("--quarters", type=int, default=4, help="quarters of income ending 2026Q3 (4; 8 for growth)")
    parser.add_argument("--repeat", type=int, default=3, help="county recomputes, each after a change (3)")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the county's facts and aggregates")
    parser.add_argument("--settings", default=DEFAULT_SETTINGS, help=f"Django settings ({DEFAULT_SETTINGS})")
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    parser.add_argument("--reuse", action="store_true", help="reuse a kept database of the same size (no build)")
    parser.add_argument("--key-line", default="9000", help=argparse.SUPPRESS)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.add_argument("--announce", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.county_households is None:
        args.county_households = 200_000 if args.households >= 1_000_000 else args.households // 10
    if not 0 < args.county_households < args.households:
        parser.error("--county-households must be between 1 and --households")
    return args


CHILDREN = {
    "build": child_build,
    "floor": child_floor,
    "engine": child_engine,
    "county": child_county,
    "explain": child_explain,
}


def main() -> None:
    run_main(parse_args(), CHILDREN, parent_main)


if __name__ == "__main__":
    main()
