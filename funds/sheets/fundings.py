"""资金安排 and 支付 in Excel: which allocation pays how much for a library project (万元), and what has
been paid on each funding line (元).

The gates of funds.services.fundings hold for the file as a whole: only library projects are funded,
from money sent to where they are; a funding line stays within what is left of its allocation and
not below what it has paid; payments stay within what is left unpaid on their line (the file's rows
counted with the recorded ones, row by row in the file's order).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from funds import money
from funds.models import Allocation, Funding, Payment, Project
from funds.services import messages
from funds.sheets.base import RowErrors, amount, choice_of, text
from funds.sheets.sums import ZERO, allocation_usage, allocations_hold, lines_hold, paid_on_lines
from households.excel import record_columns as cells
from workbooks.records import Check, Column, Lookup, Planned, Record, Reference
from workbooks.records.planner import quoted

DOCUMENT = "下达文号"


def projects_in_view(user: Any) -> QuerySet[Project]:
    return Project.objects.visible_to(user).select_related("region")


def allocations_in_view(user: Any) -> QuerySet[Allocation]:
    """The allocations the user sees, and those already paying for the projects they see (a township's
    project funded from the county's money): a recorded line reads back, a new one needs the first."""
    used = Funding.objects.visible_to(user).values("allocation")
    return Allocation.objects.filter(
        Q(pk__in=Allocation.objects.visible_to(user).values("pk")) | Q(pk__in=used)
    ).select_related("region")


def lines_in_view(user: Any) -> QuerySet[Funding]:
    return (
        Funding.objects.visible_to(user)
        .select_related("project", "allocation")
        .annotate(project_name=F("project__name"))
    )


def _project_columns(prefix: str) -> tuple[Column, ...]:
    return (
        text("project_code", "项目编号", export=f"{prefix}code", required=True, aliases=("项目代码",), code=True),
        text("project_name", "项目名称", export=f"{prefix}name", help="仅供核对", width=28),
    )


def _allocation_columns(prefix: str, *, document_required: bool) -> tuple[Column, ...]:
    return (
        replace(cells.year("allocation_year", "资金年度", "year", export=f"{prefix}year"), field=None),
        choice_of("allocation_level", "资金级次", Allocation, "level", export=f"{prefix}level", aliases=("级次",)),
        text(
            "document_number",
            DOCUMENT,
            export=f"{prefix}document_number",
            required=document_required,
            aliases=("文号", "资金文号"),
            code=True,
        ),
        cells.text(
            "allocation_region",
            "下达区划代码",
            export=f"{prefix}region__code",
            help="资金下达到的县或分配到的乡镇的12位区划代码；同一文号有多笔时填写",
            code=True,
        ),
    )


def _allocation_narrowing(prefix: str) -> tuple[Lookup, ...]:
    return (
        Lookup("allocation_year", f"{prefix}year", narrows=True),
        Lookup("allocation_level", f"{prefix}level", narrows=True),
        Lookup("allocation_region", f"{prefix}region__code", narrows=True),
    )


def _within(
    rows: Sequence[Planned],
    group: Callable[[Any], int],
    limit: Callable[[Any], Decimal],
    recorded: dict[int, Decimal],
    over: tuple[Callable[[Decimal], str], Callable[[Decimal], str]],
) -> RowErrors:
    """The rows the file adds or raises, in its order, within what is left of the record they draw on
    (`recorded`: what it gives away as recorded; `over`: the messages for a new row and for a raised one)."""
    used = dict(recorded)
    raised: dict[int, list[Planned]] = defaultdict(list)
    for row in rows:
        before = row.before.amount if row.before is not None else ZERO
        used[group(row.record)] += row.record.amount - before
        if row.changed and row.record.amount > before:
            raised[group(row.record)].append(row)
    for key, drawing in raised.items():
        most = limit(drawing[0].record)
        if used[key] <= most:
            continue
        left = most - (used[key] - sum((row.record.amount for row in drawing), ZERO))
        for row in drawing:
            if row.record.amount <= left:
                left -= row.record.amount
                continue
            message = over[0] if row.before is None else over[1]
            yield row.number, "amount", message(max(left, ZERO))


# 资金安排 -----------------------------------------------------------------------------------------


def _funding_rules(user: Any, rows: Sequence[Planned]) -> RowErrors:
    changed = [row for row in rows if row.changed]
    if not changed:
        return
    new = [row for row in changed if row.before is None]
    wanted = {row.record.allocation_id for row in new}
    visible = set(Allocation.objects.visible_to(user).filter(pk__in=wanted).values_list("pk", flat=True))
    refused: set[int] = set()
    for row in new:
        line = row.record
        if line.allocation_id not in visible:
            # A line on money the user does not keep reads as money that does not exist (its remainder unsaid).
            unknown = f"{DOCUMENT}“{quoted(row.values['document_number'])}”不存在或不在您的管辖范围内"
            refused.add(row.number)
            yield row.number, "document_number", unknown
        elif not line.project.in_library:
            refused.add(row.number)
            yield row.number, "project_code", messages.NOT_IN_LIBRARY
        elif not line.allocation.region.contains(line.project.region):
            source, target = line.allocation.region.name, line.project.region.name
            refused.add(row.number)
            yield row.number, "document_number", messages.funding_wrong_source(source, target)
    rows = [row for row in rows if row.number not in refused]
    usage = allocation_usage({row.record.allocation_id for row in rows})
    yield from _within(
        rows,
        lambda line: line.allocation_id,
        lambda line: line.allocation.amount,
        usage,
        (messages.funding_over_remainder, messages.funding_over_most),
    )
    lowered = [row for row in changed if row.before is not None and row.record.amount < row.before.amount]
    paid = paid_on_lines(row.record.pk for row in lowered)
    for row in lowered:
        if row.record.amount < paid[row.record.pk]:
            yield row.number, "amount", messages.funding_below_paid(paid[row.record.pk])


def fundings_hold(ids: list[int]) -> None:
    """At the confirmation: the allocations drawn on, and the lines written, still hold what they give."""
    allocations_hold(Funding.objects.filter(pk__in=ids).values_list("allocation_id", flat=True))
    lines_hold(ids)


FUNDINGS = Record(
    name="fundings",
    label="资金安排",
    model=Funding,
    key=("project", "allocation"),
    columns=(
        *_project_columns("project__"),
        *_allocation_columns("allocation__", document_required=True),
        amount("amount", "安排金额（万元）", "amount", money.WAN, aliases=("金额（万元）",)),
    ),
    references=(
        Reference(
            "project",
            (Lookup("project_code", "code"),),
            scope=projects_in_view,
            checks=(Check("project_name", "name"),),
        ),
        Reference(
            "allocation",
            (Lookup("document_number", "document_number"), *_allocation_narrowing("")),
            scope=allocations_in_view,
        ),
    ),
    permission="funds.add_funding",
    undo_permission="funds.change_funding",
    visible=Funding.objects.visible_to,
    managed=Funding.objects.visible_to,
    across=_funding_rules,
    region_code="project__region__code",
    subject=lambda line: f"{line.project.code} ← {line.allocation}",
    who=("project_code", "document_number"),
    ordering=("project__code", "allocation__year", "allocation__level", "allocation__document_number", "pk"),
    notes=(
        "每行填写一个项目由一笔下达资金安排的金额，以项目编号和资金（下达文号，同一文号有多笔时加填资金年度、级次、下达区划代码）识别。",
        "金额单位为万元，最多保留六位小数（精确到分）。只有入库的项目才能安排资金；安排金额不能超过该笔资金的剩余可安排金额，也不能少于已支付的金额。",
        "文件中没有的资金安排不受影响，撤销请在项目页面操作。",
    ),
)


# 支付 ----------------------------------------------------------------------------------------------


def _payment_rules(user: Any, rows: Sequence[Planned]) -> RowErrors:
    if not any(row.changed for row in rows):
        return
    today = timezone.localdate()
    for row in rows:
        if row.changed and row.record.paid_on > today:
            yield row.number, "paid_on", messages.not_after_today("支付日期")
    # No two payments share a line, a day and a 凭证号 (the model's constraint): the key finds one at most.
    lines = {row.record.funding_id for row in rows}
    yield from _within(
        rows,
        lambda payment: payment.funding_id,
        lambda payment: payment.funding.amount,
        paid_on_lines(lines),
        (messages.payment_over_unpaid, messages.payment_over_most),
    )


def payments_hold(ids: list[int]) -> None:
    """At the confirmation: the lines paid from still hold what they paid."""
    lines_hold(Payment.objects.filter(pk__in=ids).values_list("funding_id", flat=True))


PAYMENTS = Record(
    name="payments",
    label="资金支付",
    model=Payment,
    key=("funding", "paid_on", "voucher"),
    columns=(
        *_project_columns("funding__project__"),
        *_allocation_columns("funding__allocation__", document_required=False),
        cells.day("paid_on", "支付日期", "paid_on", required=True),
        amount("amount", "支付金额（元）", "amount", money.YUAN),
        text("voucher", "凭证号", "voucher", help="同一资金安排同一天的多笔支付以凭证号区分", code=True),
    ),
    references=(
        Reference(
            "funding",
            (
                Lookup("project_code", "project__code"),
                Lookup("document_number", "allocation__document_number", narrows=True),
                *_allocation_narrowing("allocation__"),
            ),
            scope=lines_in_view,
            checks=(Check("project_name", "project_name"),),
        ),
    ),
    permission="funds.add_payment",
    undo_permission="funds.change_payment",
    visible=Payment.objects.visible_to,
    managed=Payment.objects.visible_to,
    across=_payment_rules,
    region_code="funding__project__region__code",
    subject=lambda payment: f"{payment.funding.project.code} {payment.paid_on:%Y-%m-%d} {payment.voucher}".strip(),
    who=("project_code", "voucher"),
    ordering=("funding__project__code", "paid_on", "voucher", "pk"),
    notes=(
        "每行填写一笔支付，以项目、资金安排、支付日期和凭证号识别。项目只有一项资金安排时只填项目编号即可；"
        "有多项时加填资金级次、资金年度或下达文号。",
        "金额单位为元，精确到分。支付金额不能超过该项资金安排的未支付金额；支付日期不能晚于今天。",
        "文件中没有的支付不受影响，删除请在支付页面操作。",
    ),
)
