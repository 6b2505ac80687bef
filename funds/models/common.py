"""What the funds models share: money fields in yuan, the budget levels, rows scoped by their region."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from regions.models import ScopedQuerySet

POSITIVE = [MinValueValidator(Decimal("0.01"), message=_("金额必须大于0"))]
NON_NEGATIVE = [MinValueValidator(Decimal("0"), message=_("金额不能为负数"))]


def money_field(label: Any, **options: Any) -> models.DecimalField[Decimal, Decimal]:
    """Yuan with two decimals (万元 in a sheet is converted exactly at its boundary)."""
    options.setdefault("validators", NON_NEGATIVE)
    return models.DecimalField(label, max_digits=14, decimal_places=2, **options)


class FundLevel(models.TextChoices):
    CENTRAL = "central", _("中央")
    PROVINCIAL = "provincial", _("省级")
    PREFECTURAL = "prefectural", _("市级")
    COUNTY = "county", _("县级")


class RegionRowQuerySet(ScopedQuerySet):
    region_field = "region"
