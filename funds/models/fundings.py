"""资金安排 and 支付: which allocation pays how much of a project, and the money paid out on it."""

from __future__ import annotations

from collections.abc import Collection

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from funds.models.allocations import Allocation
from funds.models.common import POSITIVE, money_field
from funds.models.projects import Project
from households.models import HISTORY_OPTIONS, VersionedModel
from regions.models import ScopedQuerySet
from workbooks.rules import validate_visible_text


class FundingQuerySet(ScopedQuerySet):
    region_field = "project__region"


class Funding(VersionedModel):
    """A funding line: how much of one allocation pays for one project."""

    project = models.ForeignKey(Project, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="fundings")
    allocation = models.ForeignKey(
        Allocation, verbose_name=_("资金来源"), on_delete=models.PROTECT, related_name="fundings"
    )
    amount = money_field(_("安排金额（元）"), validators=POSITIVE)

    history = HistoricalRecords(**HISTORY_OPTIONS)

    objects = FundingQuerySet.as_manager()

    class Meta:
        verbose_name = _("资金安排")
        verbose_name_plural = _("资金安排")
        ordering = ["project", "allocation"]
        constraints = [
            models.UniqueConstraint(fields=["project", "allocation"], name="funding_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="funding_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.project} ← {self.allocation}: {self.amount}"


class PaymentQuerySet(ScopedQuerySet):
    region_field = "funding__project__region"


PAYMENT_VOUCHER_TAKEN = _(
    "该项资金安排在这一天已有凭证号相同的支付；同一天的多笔支付请填写不同的凭证号（未填凭证号的只能有一笔）"
)


class Payment(VersionedModel):
    """支付: money paid out on a funding line; one per line, day and 凭证号 (the Excel register's key)."""

    funding = models.ForeignKey(Funding, verbose_name=_("资金安排"), on_delete=models.PROTECT, related_name="payments")
    paid_on = models.DateField(_("支付日期"))
    amount = money_field(_("支付金额（元）"), validators=POSITIVE)
    voucher = models.CharField(
        _("凭证号"),
        max_length=64,
        blank=True,
        validators=[validate_visible_text],
        help_text=_("同一资金安排同一天的多笔支付以凭证号区分"),
    )

    history = HistoricalRecords(**HISTORY_OPTIONS)

    objects = PaymentQuerySet.as_manager()

    class Meta:
        verbose_name = _("资金支付")
        verbose_name_plural = _("资金支付")
        ordering = ["funding", "paid_on", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.UniqueConstraint(
                fields=["funding", "paid_on", "voucher"],
                name="payment_unique_voucher",
                violation_error_code="payment_voucher_taken",
                violation_error_message=PAYMENT_VOUCHER_TAKEN,
            ),
        ]
        indexes = [models.Index(fields=["paid_on"], name="payment_paid_on")]

    def __str__(self) -> str:
        return f"{self.funding_id} {self.paid_on} {self.amount}"

    def clean(self) -> None:
        """No money is paid out before the allocation it comes from was issued."""
        if self.funding_id is None or self.paid_on is None:
            return
        issued_on = self.funding.allocation.issued_on
        if self.paid_on < issued_on:
            raise ValidationError(
                {"paid_on": _("支付日期不能早于资金下达日期（%(day)s）") % {"day": issued_on.isoformat()}}
            )

    def validate_constraints(self, exclude: Collection[str] | None = None) -> None:
        """As Django's, but a payment whose key is taken is an error of its 凭证号: the part of the key a
        user changes to tell two payments of a day apart (the form's field, the import's column)."""
        try:
            super().validate_constraints(exclude=exclude)
        except ValidationError as error:
            errors = error.update_error_dict({})
            general = errors.pop(NON_FIELD_ERRORS, [])
            for item in general:
                taken = getattr(item, "code", None) == "payment_voucher_taken"
                errors.setdefault("voucher" if taken else NON_FIELD_ERRORS, []).append(item)
            raise ValidationError(errors) from error
