"""衔接资金 and village collective income: allocations, the project library, payments, assets.

Money flows allocation → funding line of a project → payment. A county may split an allocation
to its townships (a child allocation). Only library projects (入库 and later) are funded; an
产业发展 project needs a 联农带农机制 and linked households to enter the library (001 §(三)).
Per 行政村 and year the collective income is reported quarter-to-date (CollectiveIncome), beside
the village's attributes of that year (脱贫村, 党建综合体).

One module per register (common, allocations, projects, fundings, assets, collective) and the
drill-down proxies (listed); every model is imported from here, as Django and the other modules expect.
"""

from __future__ import annotations

from funds.models.allocations import Allocation
from funds.models.assets import Asset, AssetKind, AssetQuerySet
from funds.models.collective import (
    INCOME_FIELDS,
    OPERATING_FIELDS,
    OTHER_FIELDS,
    CollectiveIncome,
    ReviewStatus,
    VillageProfile,
    VillageRowQuerySet,
)
from funds.models.common import NON_NEGATIVE, POSITIVE, FundLevel, RegionRowQuerySet, money_field
from funds.models.fundings import PAYMENT_VOUCHER_TAKEN, Funding, FundingQuerySet, Payment, PaymentQuerySet
from funds.models.listed import ListedAllocation, ListedCollectiveIncome, ListedFunding, ListedPayment
from funds.models.projects import IN_LIBRARY, LIFECYCLE, Beneficiary, Project, ProjectStatus, ProjectStep, ProjectType

__all__ = [
    "INCOME_FIELDS",
    "IN_LIBRARY",
    "LIFECYCLE",
    "NON_NEGATIVE",
    "OPERATING_FIELDS",
    "OTHER_FIELDS",
    "PAYMENT_VOUCHER_TAKEN",
    "POSITIVE",
    "Allocation",
    "Asset",
    "AssetKind",
    "AssetQuerySet",
    "Beneficiary",
    "CollectiveIncome",
    "FundLevel",
    "Funding",
    "FundingQuerySet",
    "ListedAllocation",
    "ListedCollectiveIncome",
    "ListedFunding",
    "ListedPayment",
    "Payment",
    "PaymentQuerySet",
    "Project",
    "ProjectStatus",
    "ProjectStep",
    "ProjectType",
    "RegionRowQuerySet",
    "ReviewStatus",
    "VillageProfile",
    "VillageRowQuerySet",
    "money_field",
]
