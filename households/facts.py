"""Per-household quarterly facts (户季度事实): everything the income indicators and alerts read,
precomputed once per quarter in one INSERT … SELECT, so every region's figures are one GROUP BY.

Money is kept in fen (bigint) so sums are exact on SQLite and PostgreSQL alike, and each
household's per-capita figure is rounded once, half up, in integer arithmetic.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import connection, models, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from figures.periods import Quarter
from figures.registry import FactSource

# Sub-items that make up each wheel, as SQL over an income record aliased `i` (in fen).
_WAGES = "i.wages_migrant_work + i.wages_public_welfare_job + i.wages_other"
_OPERATING = "i.operating_planting + i.operating_breeding + i.operating_forestry_fruit + i.operating_other"
_PROPERTY = "i.property_dividends + i.property_land_transfer + i.property_other"
_TRANSFERS = (
    "i.transfer_family_planning + i.transfer_minimum_living + i.transfer_extreme_poverty + i.transfer_pension"
    " + i.transfer_ecological + i.transfer_other"
)
LABOUR_CAPABLE_SQL = "('skilled', 'ordinary', 'weak')"


def _fen(expression: str) -> str:
    return f"CAST(ROUND(({expression}) * 100) AS BIGINT)"


class HouseholdQuarterFact(models.Model):
    """One registered household in one quarter, as the indicators of that quarter see it.

    A household is here when it is registered at the quarter's end (active, or cancelled later).
    Windows: trailing = this quarter and the three before; prior = the same four quarters a year
    earlier; ytd = Q1 up to this quarter. *_complete says every quarter of the window has a record.
    """

    household = models.ForeignKey(
        "households.Household", on_delete=models.CASCADE, related_name="quarter_facts", db_constraint=False
    )
    year = models.PositiveSmallIntegerField()
    quarter = models.PositiveSmallIntegerField()
    village_code = models.CharField(max_length=12)
    lifted = models.BooleanField(_("脱贫户"))
    monitored = models.BooleanField(_("监测对象"))
    category = models.CharField(max_length=16, blank=True)
    identified_month = models.DateField(null=True)
    members = models.PositiveSmallIntegerField(_("在户人数"))
    labour = models.BooleanField(_("有劳动力"))
    employed = models.BooleanField(_("有务工成员"))
    recorded = models.BooleanField(_("本季度已录入"))
    size = models.PositiveSmallIntegerField(_("家庭人口"), null=True)
    quarter_wages_fen = models.BigIntegerField(null=True)
    quarter_operating_fen = models.BigIntegerField(null=True)
    prior_quarter_operating_fen = models.BigIntegerField(null=True)
    trailing_complete = models.BooleanField()
    trailing_net_fen = models.BigIntegerField(null=True)
    trailing_operating_fen = models.BigIntegerField(null=True)
    trailing_property_fen = models.BigIntegerField(null=True)
    trailing_wages_fen = models.BigIntegerField(null=True)
    trailing_transfers_fen = models.BigIntegerField(null=True)
    trailing_costs_fen = models.BigIntegerField(null=True)
    prior_complete = models.BooleanField()
    prior_size = models.PositiveSmallIntegerField(null=True)
    prior_net_fen = models.BigIntegerField(null=True)
    prior_operating_fen = models.BigIntegerField(null=True)
    prior_property_fen = models.BigIntegerField(null=True)
    ytd_complete = models.BooleanField()
    ytd_net_fen = models.BigIntegerField(null=True)
    per_capita_fen = models.BigIntegerField(_("近四季度人均纯收入（分）"), null=True)
    threshold_fen = models.BigIntegerField(_("监测标准（分）"), null=True)
    below_threshold = models.BooleanField(_("低于监测标准"))

    class Meta:
        verbose_name = _("户季度事实")
        verbose_name_plural = _("户季度事实")
        constraints = [
            models.UniqueConstraint(fields=["year", "quarter", "household"], name="household_quarter_fact_unique")
        ]
        indexes = [
            models.Index(
                fields=["year", "quarter", "village_code"],
                name="household_fact_period_code",
                opclasses=["int2_ops", "int2_ops", "varchar_pattern_ops"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.year}Q{self.quarter}"


_COLUMNS = [
    "household_id",
    "year",
    "quarter",
    "village_code",
    "lifted",
    "monitored",
    "category",
    "identified_month",
    "members",
    "labour",
    "employed",
    "recorded",
    "size",
    "quarter_wages_fen",
    "quarter_operating_fen",
    "prior_quarter_operating_fen",
    "trailing_complete",
    "trailing_net_fen",
    "trailing_operating_fen",
    "trailing_property_fen",
    "trailing_wages_fen",
    "trailing_transfers_fen",
    "trailing_costs_fen",
    "prior_complete",
    "prior_size",
    "prior_net_fen",
    "prior_operating_fen",
    "prior_property_fen",
    "ytd_complete",
    "ytd_net_fen",
    "per_capita_fen",
    "threshold_fen",
    "below_threshold",
]


_UPDATES = ", ".join(
    f"{column} = excluded.{column}" for column in _COLUMNS if column not in ("household_id", "year", "quarter")
)


def _round_half_up_division(numerator: str, denominator: str) -> str:
    """numerator ÷ denominator in integers, rounded half away from zero (Decimal's ROUND_HALF_UP)."""
    return (
        f"(CASE WHEN {numerator} >= 0 THEN (2 * {numerator} + {denominator}) / (2 * {denominator}) "
        f"ELSE -((-2 * {numerator} + {denominator}) / (2 * {denominator})) END)"
    )


def _refresh_sql(period: Quarter, villages: str) -> str:
    from households.models import Household, IncomeRecord, Member, MonitoringCase, MonitoringThreshold
    from regions.models import Region

    households = Household._meta.db_table
    records = IncomeRecord._meta.db_table
    members = Member._meta.db_table
    cases = MonitoringCase._meta.db_table
    thresholds = MonitoringThreshold._meta.db_table
    regions = Region._meta.db_table
    now = period.index
    first_of_year = Quarter(period.year, 1).index
    ytd_length = now - first_of_year + 1
    index = "(i.year * 4 + i.quarter - 1)"
    # SUM over bigint is numeric on PostgreSQL, where "/" would then divide exactly and the cast on
    # insert round again (every exact figure a fen high): integer division needs integer operands.
    per_capita = _round_half_up_division("CAST(r.trailing_net_fen AS BIGINT)", "r.size")
    window = f"i.year BETWEEN {period.year - 2} AND {period.year} AND {index} BETWEEN {now - 7} AND {now}"
    income_sums = f"""
                SUM(CASE WHEN {index} = {now} THEN 1 ELSE 0 END) AS recorded,
                MAX(CASE WHEN {index} = {now} THEN i.household_size END) AS size,
                MAX(CASE WHEN {index} = {now} THEN {_fen(_WAGES)} END) AS quarter_wages_fen,
                MAX(CASE WHEN {index} = {now} THEN {_fen(_OPERATING)} END) AS quarter_operating_fen,
                MAX(CASE WHEN {index} = {now - 4} THEN {_fen(_OPERATING)} END) AS prior_quarter_operating_fen,
                SUM(CASE WHEN {index} > {now - 4} THEN 1 ELSE 0 END) AS trailing_count,
                SUM(CASE WHEN {index} > {now - 4} THEN {_fen("i.net_income")} END) AS trailing_net_fen,
                SUM(CASE WHEN {index} > {now - 4} THEN {_fen(_OPERATING)} END) AS trailing_operating_fen,
                SUM(CASE WHEN {index} > {now - 4} THEN {_fen(_PROPERTY)} END) AS trailing_property_fen,
                SUM(CASE WHEN {index} > {now - 4} THEN {_fen(_WAGES)} END) AS trailing_wages_fen,
                SUM(CASE WHEN {index} > {now - 4} THEN {_fen(_TRANSFERS)} END) AS trailing_transfers_fen,
                SUM(CASE WHEN {index} > {now - 4} THEN {_fen("i.operating_costs")} END) AS trailing_costs_fen,
                SUM(CASE WHEN {index} <= {now - 4} THEN 1 ELSE 0 END) AS prior_count,
                MAX(CASE WHEN {index} = {now - 4} THEN i.household_size END) AS prior_size,
                SUM(CASE WHEN {index} <= {now - 4} THEN {_fen("i.net_income")} END) AS prior_net_fen,
                SUM(CASE WHEN {index} <= {now - 4} THEN {_fen(_OPERATING)} END) AS prior_operating_fen,
                SUM(CASE WHEN {index} <= {now - 4} THEN {_fen(_PROPERTY)} END) AS prior_property_fen,
                SUM(CASE WHEN {index} >= {first_of_year} THEN 1 ELSE 0 END) AS ytd_count,
                SUM(CASE WHEN {index} >= {first_of_year} THEN {_fen("i.net_income")} END) AS ytd_net_fen
    """
    people_sums = f"""COUNT(*) AS members,
                MAX(CASE WHEN m.labour IN {LABOUR_CAPABLE_SQL} THEN 1 ELSE 0 END) AS labour,
                MAX(CASE WHEN m.work_months > 0 THEN 1 ELSE 0 END) AS employed"""
    if connection.vendor == "postgresql":
        # One index lookup per household of the scope (income by household/year/quarter, members by
        # household): a county's refresh reads its own rows, not a hash of the whole province's.
        income = f"""
            SELECT s.id AS household_id, w.* FROM scope s CROSS JOIN LATERAL (
                SELECT {income_sums} FROM {records} i WHERE i.household_id = s.id AND {window}) w
        """
        people = f"""
            SELECT s.id AS household_id, w.* FROM scope s CROSS JOIN LATERAL (
                SELECT {people_sums} FROM {members} m WHERE m.household_id = s.id AND m.is_active) w
        """
    else:
        income = f"""
            SELECT i.household_id, {income_sums}
            FROM {records} i JOIN scope s ON s.id = i.household_id
            WHERE {window}
            GROUP BY i.household_id
        """
        people = f"""
            SELECT m.household_id, {people_sums}
            FROM {members} m JOIN scope s ON s.id = m.household_id
            WHERE m.is_active
            GROUP BY m.household_id
        """
    return f"""
        INSERT INTO {HouseholdQuarterFact._meta.db_table} ({", ".join(_COLUMNS)})
        WITH scope AS (
            SELECT h.id, h.household_type, v.code AS village_code
            FROM {households} h JOIN {regions} v ON v.id = h.village_id
            WHERE h.village_id IN ({villages})
              AND (h.status = 'active' OR h.cancelled_on > %(last_day)s)
        ),
        r AS ({income}),
        village_threshold AS (
            SELECT v.code,
                (SELECT {_fen("t.amount")} FROM {thresholds} t JOIN {regions} tr ON tr.id = t.region_id
                 WHERE t.year = {period.year}
                   AND v.code LIKE (SUBSTR(tr.code, 1, CASE tr.level WHEN 1 THEN 2 WHEN 2 THEN 4 WHEN 3 THEN 6
                                    WHEN 4 THEN 9 ELSE 12 END) || '%%')
                 ORDER BY tr.level DESC LIMIT 1) AS threshold_fen
            FROM {regions} v WHERE v.code LIKE %(within)s AND v.level = 5
        ),
        open_case AS (
            SELECT c.household_id, MAX(c.category) AS category, MAX(c.identified_month) AS identified_month
            FROM {cases} c JOIN scope s ON s.id = c.household_id
            WHERE c.identified_month <= %(last_day)s
              AND (c.eliminated_month IS NULL OR c.eliminated_month > %(last_day)s)
            GROUP BY c.household_id
        ),
        people AS ({people})
        SELECT s.id, {period.year}, {period.number}, s.village_code,
            s.household_type = 'lifted',
            oc.household_id IS NOT NULL,
            COALESCE(oc.category, ''),
            oc.identified_month,
            COALESCE(p.members, 0),
            COALESCE(p.labour, 0) = 1,
            COALESCE(p.employed, 0) = 1,
            COALESCE(r.recorded, 0) = 1,
            r.size,
            r.quarter_wages_fen,
            r.quarter_operating_fen,
            r.prior_quarter_operating_fen,
            COALESCE(r.trailing_count, 0) = 4,
            r.trailing_net_fen,
            r.trailing_operating_fen,
            r.trailing_property_fen,
            r.trailing_wages_fen,
            r.trailing_transfers_fen,
            r.trailing_costs_fen,
            COALESCE(r.prior_count, 0) = 4,
            r.prior_size,
            r.prior_net_fen,
            r.prior_operating_fen,
            r.prior_property_fen,
            COALESCE(r.ytd_count, 0) = {ytd_length},
            r.ytd_net_fen,
            CASE WHEN r.trailing_count = 4 AND r.size > 0 THEN {per_capita} END,
            vt.threshold_fen,
            COALESCE(r.trailing_count = 4 AND r.size > 0 AND {per_capita} < vt.threshold_fen, FALSE)
        FROM scope s
        LEFT JOIN r ON r.household_id = s.id
        LEFT JOIN open_case oc ON oc.household_id = s.id
        LEFT JOIN people p ON p.household_id = s.id
        LEFT JOIN village_threshold vt ON vt.code = s.village_code
        WHERE TRUE
        ON CONFLICT (year, quarter, household_id) DO UPDATE SET {_UPDATES}
    """


def facts_refresh(*, period: Quarter, within: str) -> int:
    """Rebuild one quarter's facts for every household whose village code starts with `within`
    (and drop those of households that have moved out of it).

    One DELETE and one INSERT … SELECT, in a transaction: readers see the old facts or the new.
    """
    from regions.models import Region

    table = HouseholdQuarterFact._meta.db_table
    # The villages as a list of ids: the households are then found through their village index
    # (a LIKE on the joined codes leaves the planner guessing, and it reads every household).
    ids = list(Region.objects.filter(code__startswith=within, level=5).values_list("pk", flat=True))
    villages = ", ".join(str(int(pk)) for pk in ids) or "NULL"
    with transaction.atomic(), connection.cursor() as cursor:
        # The part's old rows by their code (through the index); a household that moved in from
        # elsewhere keeps its one row, updated by the INSERT's ON CONFLICT clause.
        cursor.execute(
            f"DELETE FROM {table} WHERE year = %(year)s AND quarter = %(quarter)s AND village_code LIKE %(within)s",
            {"year": period.year, "quarter": period.number, "within": f"{within}%"},
        )
        cursor.execute(_refresh_sql(period, villages), {"within": f"{within}%", "last_day": period.last_day})
        return cursor.rowcount


class FactsBuild(models.Model):
    """Up to which data version a county's facts of a quarter are current."""

    county = models.ForeignKey("regions.Region", on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    quarter = models.PositiveSmallIntegerField()
    version = models.BigIntegerField()
    built_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("事实表版本")
        verbose_name_plural = _("事实表版本")
        constraints = [models.UniqueConstraint(fields=["county", "year", "quarter"], name="facts_build_unique")]

    def __str__(self) -> str:
        return f"{self.county_id} {self.year}Q{self.quarter} v{self.version}"


# Above this many changed villages a county's facts are rebuilt whole (one statement beats many).
MAX_PARTS = 60


def changed_parts(*, county_id: int, since: int, until: int) -> list[str] | None:
    """The code prefixes changed in the county between data versions `since` and `until`, none inside
    another; None when the record has gaps (pruned) or a change is county-wide: rebuild it all."""
    from regions.models import DataChange

    if until <= since:
        return []
    changes = list(
        DataChange.objects.filter(county_id=county_id, version__gt=since, version__lte=until).values_list(
            "version", "prefix"
        )
    )
    if {version for version, _prefix in changes} != set(range(since + 1, until + 1)):
        return None
    kept: list[str] = []
    for prefix in sorted({prefix for _version, prefix in changes}, key=len):
        if len(prefix) <= 6:
            return None
        if not any(prefix.startswith(shorter) for shorter in kept):
            kept.append(prefix)
    return None if len(kept) > MAX_PARTS else kept


class HouseholdFacts(FactSource):
    """The fact source the household and income indicators share.

    A county's facts of a quarter are rebuilt whole the first time, then only for the villages
    (or townships) whose data changed since (regions.DataChange), so a recompute after an import
    into one village reads that village.
    """

    name: ClassVar[str] = "household_quarter_facts"
    code_field: ClassVar[str] = "village_code"

    def refresh(self, *, period: Quarter, within: str) -> int:
        from regions.models import DataVersion, Region

        if len(within) != 6:
            return facts_refresh(period=period, within=within)
        county = Region.objects.only("pk").get(code=within.ljust(12, "0"))
        current = DataVersion.objects.filter(county=county).values_list("version", flat=True).first() or 0
        build = FactsBuild.objects.filter(county=county, year=period.year, quarter=period.number).first()
        parts = None if build is None else changed_parts(county_id=county.pk, since=build.version, until=current)
        if parts is None:
            rows = facts_refresh(period=period, within=within)
        else:
            rows = sum(facts_refresh(period=period, within=part) for part in parts)
        FactsBuild.objects.update_or_create(
            county=county, year=period.year, quarter=period.number, defaults={"version": current}
        )
        return rows

    def rows(self, *, period: Quarter) -> QuerySet[Any]:
        return HouseholdQuarterFact.objects.filter(year=period.year, quarter=period.number)


HOUSEHOLD_FACTS = HouseholdFacts()
