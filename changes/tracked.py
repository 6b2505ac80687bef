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
    Tracked("fundings", "funds.Funding", "project__region"),
    Tracked("payments", "funds.Payment", "funding__project__region"),
    Tracked("collective_income", "funds.CollectiveIncome", "village"),
    Tracked("alerts", "assessment.Alert", "household__village"),
)


@dataclass(frozen=True)
class Part:
    """Rows of `model` are part of another resource's record as the API shows it (a household's members, a
    case's risk types): inserting, changing or deleting one is logged as an update of the record its `owner`
    foreign key names, with the part's own region codes, so that record's feed serves it again."""

    model: str  # "app_label.ModelName"; an auto-created many-to-many table is "app_label.Model_field"
    owner: str  # the foreign key to the record, e.g. "household"
    resource: str  # the record's resource, e.g. "households"
    region: str  # path from a part row to its Region, as Tracked.region


PARTS: tuple[Part, ...] = (
    Part("households.Member", "household", "households", "household__village"),
    Part(
        "households.MonitoringCase_risk_types",
        "monitoringcase",
        "monitoring_cases",
        "monitoringcase__household__village",
    ),
    Part(
        "households.MonitoringCase_measures", "monitoringcase", "monitoring_cases", "monitoringcase__household__village"
    ),
    Part("cooperatives.Entity_industries", "entity", "entities", "entity__region"),
    Part("cooperatives.Binding_linkage_types", "binding", "bindings", "binding__cooperative__region"),
    # A cooperative is seen where it has member households, an enterprise where it is bound to a cooperative.
    Part("cooperatives.Membership", "cooperative", "entities", "household__village"),
    Part("cooperatives.Binding", "enterprise", "entities", "cooperative__region"),
    Part("funds.Beneficiary", "project", "projects", "project__region"),
    Part("funds.Project_supported_entities", "project", "projects", "project__region"),
)

RESOURCES: frozenset[str] = frozenset(tracked.resource for tracked in TRACKED)
