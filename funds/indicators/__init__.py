"""The figures of 衔接资金 and 村级集体经济 (issue 11 §4) in the assessment engine's registry.

Each class's docstring is its definition as the indicator page shows it. Every figure is one query
per region level; its drill-down lists filter with the same querysets, so their counts and sums
are the figure's. The assessment app discovers this package; nothing here imports it.
"""

from figures.registry import register
from funds.indicators import collective, linkage, money

INDICATORS = [*money.INDICATORS, *linkage.INDICATORS, *collective.INDICATORS]
for _indicator in INDICATORS:
    register(_indicator)
