"""Proxies of the registers for their drill-down lists (the figures' records, with their own admin names)."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from funds.models.allocations import Allocation
from funds.models.collective import CollectiveIncome
from funds.models.fundings import Funding, Payment


class ListedAllocation(Allocation):
    class Meta:
        proxy = True
        verbose_name = _("资金下达（明细）")
        verbose_name_plural = _("资金下达（明细）")

    def __str__(self) -> str:
        return (
            f"{self.region.name} {self.year}年{self.get_level_display()}资金 {self.document_number}"
            f"：{self.amount:,.2f}元"
        )


class ListedFunding(Funding):
    class Meta:
        proxy = True
        verbose_name = _("资金安排（明细）")
        verbose_name_plural = _("资金安排（明细）")

    def __str__(self) -> str:
        allocation = self.allocation
        return (
            f"{self.project.code} {self.project.name}（{self.project.region.name}）"
            f" ← {allocation.region.name} {allocation.year}年{allocation.get_level_display()}资金"
            f" {allocation.document_number}：{self.amount:,.2f}元"
        )


class ListedPayment(Payment):
    class Meta:
        proxy = True
        verbose_name = _("资金支付（明细）")
        verbose_name_plural = _("资金支付（明细）")

    def __str__(self) -> str:
        project, allocation = self.funding.project, self.funding.allocation
        return (
            f"{self.paid_on:%Y-%m-%d} {project.code} {project.name}：{self.amount:,.2f}元"
            f"（{allocation.year}年{allocation.get_level_display()}资金 {allocation.document_number}）"
        )


class ListedCollectiveIncome(CollectiveIncome):
    """A village's report with its 经营性收入 and, where the list computes it, the gap to the floor."""

    class Meta:
        proxy = True
        verbose_name = _("村集体经济收入（明细）")
        verbose_name_plural = _("村集体经济收入（明细）")

    def __str__(self) -> str:
        township = self.village.parent.name if self.village.parent else ""
        text = f"{township} {self.village.name} {self.year}年1—{self.quarter}季度"
        text += f"：经营性收入 {self.operating_income:,.2f}元"
        gap_fen, floor_fen = getattr(self, "gap_fen", None), getattr(self, "floor_fen", None)
        if gap_fen and floor_fen:
            text += f"，距{Decimal(floor_fen) / 100:,.0f}元差 {Decimal(gap_fen) / 100:,.2f}元"
        return text
