"""Which tables the change log follows: one line per resource. A new register adds a line here and a
migration that calls `changes.triggers.install` again (see migrations/0002_change_log_triggers.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tracked:
    resource: str  # the feed's name for it, e.g. "households"
    model: str  # "app_label.ModelName"
    # Path from a row to the Region that scopes it, as in ScopedQuerySet.region_field ("" for a region
    # itself). A row's region code before and after each change is logged, so a row that moved out of a
    # client's subtree shows there as a tombstone.
    region: str


TRACKED: tuple[Tracked, ...] = (
    Tracked("regions", "regions.Region", ""),
    Tracked("households", "households.Household", "village"),
    Tracked("members", "households.Member", "household__village"),
    Tracked("monitoring_cases", "households.MonitoringCase", "household__village"),
    Tracked("income_records", "households.IncomeRecord", "household__village"),
    Tracked("thresholds", "households.MonitoringThreshold", "region"),
    Tracked("targets", "assessment.Target", "region"),
    Tracked("indicator_values", "assessment.IndicatorValue", "region"),
    Tracked("industries", "industries.Industry", "county"),
    Tracked("entities", "cooperatives.Entity", "region"),
    Tracked("bindings", "cooperatives.Binding", "cooperative__region"),
    Tracked("memberships", "cooperatives.Membership", "household__village"),
    Tracked("allocations", "funds.Allocation", "region"),
    Tracked("projects", "funds.Project", "region"),
    Tracked("payments", "funds.Payment", "funding__project__region"),
    Tracked("collective_income", "funds.CollectiveIncome", "village"),
    Tracked("alerts", "assessment.Alert", "household__village"),
)

RESOURCES: frozenset[str] = frozenset(tracked.resource for tracked in TRACKED)
