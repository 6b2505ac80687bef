"""The household and income indicators (收入, 监测帮扶), computed over the quarterly household facts.

Each class's docstring is its definition as the indicator page shows it. Who counts follows
DOMAIN §9: a household is in a window's income figures when it is registered at the period's end
and has a record for every quarter of the window; 家庭人口 is the size on the window's last record.
"""

from figures.registry import register, register_breakdown
from households.indicators.breakdowns import BREAKDOWNS
from households.indicators.composition import COMPOSITION_INDICATORS
from households.indicators.income import (
    AllPerCapita,
    AllPerCapitaYearToDate,
    LiftedIncomeGrowth,
    LiftedPerCapita,
    LiftedPerCapitaYearToDate,
    MonitoredPerCapita,
    MonitoredPerCapitaYearToDate,
    OperatingFallShare,
    OperatingIncomeGrowth,
    PropertyIncomeGrowth,
)
from households.indicators.monitoring import (
    BelowKeyLine,
    EntryProgress,
    LiftedBelowThresholdUnmonitored,
    LongOpenCases,
    ZeroEmployment,
)
from households.indicators.population import MonitoredPopulationShare, VillagesOverMonitoredShare

INDICATORS = [
    LiftedPerCapita(),
    MonitoredPerCapita(),
    AllPerCapita(),
    LiftedPerCapitaYearToDate(),
    MonitoredPerCapitaYearToDate(),
    AllPerCapitaYearToDate(),
    LiftedIncomeGrowth(),
    OperatingIncomeGrowth(),
    PropertyIncomeGrowth(),
    OperatingFallShare(),
    LiftedBelowThresholdUnmonitored(),
    BelowKeyLine(),
    ZeroEmployment(),
    LongOpenCases(),
    MonitoredPopulationShare(),
    VillagesOverMonitoredShare(),
    EntryProgress(),
]
for _indicator in [*INDICATORS, *COMPOSITION_INDICATORS]:
    register(_indicator)
for _breakdown in BREAKDOWNS:
    register_breakdown(_breakdown)
