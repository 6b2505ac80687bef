"""The assessment's targets in words for other apps' pages (figures.targets): the year-end target that
holds for the region, as the dashboard writes it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from assessment.policy import Policy, ancestor_codes
from assessment.templatetags.assessment_tags import target_text
from figures import registry
from figures.periods import Quarter


def year_end_targets(codes: Iterable[str], region: Any, year: int) -> Mapping[str, str]:
    """Each code's target for the region's year (its fourth quarter's, else the year-round one); one query."""
    policy = Policy(period=Quarter(year, 4), regions=ancestor_codes(region.code, region.level))
    found = {}
    for code in codes:
        indicator = registry.get(code)
        resolved = policy.target(code, region.code, region.level)
        if indicator is not None and resolved is not None:
            found[code] = target_text(resolved.target.comparator, resolved.target.value, indicator.unit)
    return found
