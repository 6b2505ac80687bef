"""Reference data edited in the admin (thresholds, village populations) makes the figures under it stale."""

from __future__ import annotations

from typing import Any

from regions.models import Level, Region
from regions.reference import reference_changed
from regions.services import data_changed


def reference_data_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    reference_changed("thresholds")
    region: Region = instance.village if hasattr(instance, "village") else instance.region
    if region.level >= Level.COUNTY:
        data_changed(codes=[region.code])
    else:
        data_changed(codes=Region.objects.subtree(region).filter(level=Level.COUNTY).values_list("code", flat=True))
