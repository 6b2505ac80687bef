"""A village's rural population per year (农村人口): the base of the 3% monitoring-share figure (002)."""

from __future__ import annotations

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from regions.models import Level, Region


class VillagePopulation(models.Model):
    village = models.ForeignKey(
        Region,
        verbose_name=_("村"),
        on_delete=models.PROTECT,
        related_name="populations",
        limit_choices_to={"level": Level.VILLAGE},
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    population = models.PositiveIntegerField(_("农村人口（人）"), validators=[MinValueValidator(1)])
    source = models.CharField(_("数据来源"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("村农村人口")
        verbose_name_plural = _("村农村人口")
        ordering = ["village__code", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["village", "year"], name="village_population_one_per_year"),
            models.CheckConstraint(condition=models.Q(population__gte=1), name="village_population_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.village} {self.year}年 {self.population}人"
