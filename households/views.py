"""Pages: parse the request, call one service or selector, render."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from households import audit, cards, selectors, services
from households.forms import (
    BaseMemberFormSet,
    CancelForm,
    EliminationForm,
    HouseholdFilterForm,
    HouseholdForm,
    IncomeForm,
    IncomeVoidForm,
    MemberFormSet,
    MonitoringCaseForm,
    member_initial,
)
from households.home import home_counts
from households.list_rows import list_rows
from households.models import (
    INCOME_GROUPS,
    HouseholdType,
    IncomeRecord,
    MonitoringCase,
    MonitoringCategory,
)
from households.quarter import Quarter
from households.sections import household_sections
from regions import form_messages
from regions.backends import login_client_address


def _reported_quarter(today: date | None = None) -> Quarter:
    """The quarter staff are collecting now: the last one that has ended."""
    return Quarter.containing(today or date.today()).previous()


def _apply_errors(form: Any, error: ValidationError) -> None:
    """Show a service's ValidationError on the form's fields where it names them."""
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def _error_summary(request: HttpRequest, form: Any, formset: Any) -> list[str]:
    return form_messages.error_summary(form, members=formset) if request.method == "POST" else []


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The user's place in the hierarchy and what needs doing there."""
    quarter = _reported_quarter()
    return render(
        request,
        "households/home.html",
        {"counts": home_counts(user=request.user, quarter=quarter), "quarter": quarter},
    )


@login_required
def household_list(request: HttpRequest) -> HttpResponse:
    villages = selectors.villages_for_filter(user=request.user)
    townships = selectors.townships_for_filter(user=request.user)
    choice_lists = {
        "village": selectors.village_choices(user=request.user),
        "township": selectors.township_choices(user=request.user),
        "risk_type": selectors.risk_type_choices(user=request.user),
    }
    form = HouseholdFilterForm(
        request.GET or None,
        villages=villages,
        townships=townships,
        choice_lists=choice_lists,
        risk_types=selectors.risk_types_for_filter(user=request.user),
    )
    filters = form.selector_filters()
    households = selectors.household_list(user=request.user, **filters)
    page = Paginator(households.values_list("pk", flat=True), 50).get_page(request.GET.get("page"))
    rows = list_rows(selectors.household_rows(ids=list(page.object_list)), user=request.user)
    if rows:
        # The list shows each 户主's full 身份证号 to the roles that may see it.
        audit.personal_data_viewed(
            user=request.user,
            subject=f"农户台账 第{page.number}页（{len(rows)}户）",
            ip_address=login_client_address(request),
        )
    query = request.GET.copy()
    query.pop("page", None)
    sort_query = query.copy()
    sort_query.pop("sort", None)
    return render(
        request,
        "households/household_list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "query": query.urlencode(),
            "sort_query": sort_query.urlencode(),
            "sort": filters.get("ordering", "number"),
            "can_add": request.user.has_perm("households.add_household"),
            "choose_township": bool(choice_lists["township"]),
            "options": {name: form.options(name) for name in form.SELECTS},
        },
    )


@login_required
def household_detail(request: HttpRequest, pk: int) -> HttpResponse:
    household = selectors.household_detail(user=request.user, pk=pk)
    ledger = selectors.household_income_ledger(household=household)
    threshold = None
    if household.latest_income_year:
        threshold = selectors.threshold_for(region=household.village, year=household.latest_income_year)
    cases = list(household.monitoring_cases.all())
    audit.personal_data_viewed(
        user=request.user, subject=f"农户 {household.number}", ip_address=login_client_address(request)
    )
    members = list(household.members.all())
    return render(
        request,
        "households/household_detail.html",
        {
            "household": household,
            "members": members,
            # 家庭人口数 (Household.size) from the members already read.
            "size": sum(1 for member in members if member.is_active),
            "cases": cases,
            "open_case": next((c for c in cases if c.is_open), None),
            "ledger": ledger,
            "threshold": threshold,
            "history": selectors.household_history(
                household=household, reveal_personal_data=request.user.has_perm("households.view_personal_data")
            ),
            "can_change": request.user.has_perm("households.change_household") and household.is_active,
            "can_enter_income": request.user.has_perm("households.add_incomerecord") and household.is_active,
            "reported_quarter": _reported_quarter(),
            "sections": household_sections(household=household, user=request.user),
        },
    )


def _card_period(request: HttpRequest) -> Quarter:
    """The quarter a 明白卡 is asked for (?period=2026Q3), the last ended one by default; 404 if malformed."""
    text = request.GET.get("period", "").strip()
    if not text:
        return cards.default_card_period()
    try:
        return Quarter.parse(text)
    except ValueError as error:
        raise Http404("季度格式错误，应如 2026Q3") from error


@login_required
def household_card(request: HttpRequest, pk: int) -> HttpResponse:
    """One household's 明白卡 for a quarter, a printable A4 page."""
    period = _card_period(request)
    card = cards.household_card(user=request.user, pk=pk, period=period)
    audit.personal_data_viewed(
        user=request.user, subject=f"明白卡 {card.household.number}", ip_address=login_client_address(request)
    )
    return render(
        request,
        "households/cards.html",
        {
            "cards": [card],
            "period": period,
            "later": period.next() <= cards.default_card_period(),
            "title": f"明白卡 · {card.head_name}户",
            "household": card.household,
        },
    )


@login_required
def village_cards(request: HttpRequest) -> HttpResponse:
    """A village's 明白卡, one household a page; without a village, the choice of one."""
    period = _card_period(request)
    village_id = request.GET.get("village", "").strip()
    if not village_id:
        villages = selectors.villages_for_filter(user=request.user)
        return render(request, "households/cards_pick.html", {"villages": villages, "period": period})
    # isdigit() alone also accepts "²", which int() refuses: only ASCII digits are an id.
    if not (village_id.isascii() and village_id.isdigit()):
        raise Http404("村不存在或不在您的管辖范围内")
    village = cards.card_village_get(user=request.user, pk=int(village_id))
    village_cards = cards.village_cards(village=village, period=period)
    cards.cards_print_record(by=request.user, village=village, period=period, household_count=len(village_cards))
    return render(
        request,
        "households/cards.html",
        {
            "cards": village_cards,
            "period": period,
            "later": period.next() <= cards.default_card_period(),
            "title": f"明白卡 · {village.name}",
            "village": village,
        },
    )


@login_required
@permission_required("households.add_household", raise_exception=True)
@require_http_methods(["GET", "POST"])
def household_create(request: HttpRequest) -> HttpResponse:
    villages = selectors.villages_for_filter(user=request.user)
    form = HouseholdForm(request.POST or None, villages=villages)
    formset = cast(BaseMemberFormSet, MemberFormSet(request.POST or None, prefix="members"))
    # Both are validated, so every error of the page is shown in one round.
    valid = [form.is_valid(), formset.is_valid()] if request.method == "POST" else [False]
    if all(valid):
        try:
            household = services.household_register(
                by=request.user, household=form.save(commit=False), members=formset.member_data()
            )
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, f"已登记农户 {household.number}")
            return redirect("household_detail", pk=household.pk)
    return render(
        request,
        "households/household_form.html",
        {"form": form, "formset": formset, "creating": True, "errors": _error_summary(request, form, formset)},
    )


@login_required
@permission_required("households.change_household", raise_exception=True)
@require_http_methods(["GET", "POST"])
def household_edit(request: HttpRequest, pk: int) -> HttpResponse:
    household = selectors.household_get(user=request.user, pk=pk)
    if not household.is_active:
        raise PermissionDenied("已注销农户不能修改")
    villages = selectors.villages_for_filter(user=request.user)
    form = HouseholdForm(request.POST or None, instance=household, villages=villages)
    formset = cast(
        BaseMemberFormSet, MemberFormSet(request.POST or None, prefix="members", initial=member_initial(household))
    )
    valid = [form.is_valid(), formset.is_valid()] if request.method == "POST" else [False]
    if all(valid):
        try:
            services.household_update(
                by=request.user,
                household=form.save(commit=False),
                members=formset.member_data(),
                expected_version=form.cleaned_data["version"],
            )
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, "已保存")
            return redirect("household_detail", pk=household.pk)
    if request.method == "GET":
        audit.personal_data_viewed(
            user=request.user, subject=f"农户 {household.number}（修改）", ip_address=login_client_address(request)
        )
    return render(
        request,
        "households/household_form.html",
        {
            "form": form,
            "formset": formset,
            "household": household,
            "creating": False,
            "errors": _error_summary(request, form, formset),
        },
    )


@login_required
@permission_required("households.change_household", raise_exception=True)
@require_http_methods(["GET", "POST"])
def household_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    household = selectors.household_get(user=request.user, pk=pk)
    form = CancelForm(request.POST or None, initial={"version": household.version})
    if request.method == "POST" and form.is_valid():
        try:
            services.household_cancel(
                by=request.user,
                household=household,
                reason_text=form.cleaned_data["reason"],
                expected_version=form.cleaned_data["version"],
            )
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, f"农户 {household.number} 已注销")
            return redirect("household_detail", pk=household.pk)
    return render(request, "households/household_cancel.html", {"form": form, "household": household})


@login_required
@require_http_methods(["GET", "POST"])
def income_entry(request: HttpRequest, pk: int, period: str | None = None) -> HttpResponse:
    """Enter a new quarter (period from the form) or correct an existing one (period in the URL)."""
    household = selectors.household_get(user=request.user, pk=pk)
    record: IncomeRecord | None = None
    if period is not None:
        try:
            quarter = Quarter.parse(period)
        except ValueError as error:
            raise Http404("季度格式错误") from error
        record = get_object_or_404(household.income_records, year=quarter.year, quarter=quarter.number)
    needed = "households.change_incomerecord" if record else "households.add_incomerecord"
    if not request.user.has_perm(needed):
        raise PermissionDenied("您的角色没有录入收入的权限")
    if not household.is_active and household.cancelled_on is None:
        raise PermissionDenied("已注销农户不能录入收入")
    default_quarter = record.period if record else _reported_quarter()
    from households.forms import QuarterChoiceForm

    quarter_form = QuarterChoiceForm(
        request.POST or None,
        initial={"year": default_quarter.year, "quarter": default_quarter.number},
        today=timezone.localdate(),
    )
    form = IncomeForm(request.POST or None, instance=record)
    if request.method == "POST" and form.is_valid() and (record or quarter_form.is_valid()):
        quarter = (
            record.period
            if record
            else Quarter(quarter_form.cleaned_data["year"], quarter_form.cleaned_data["quarter"])
        )
        try:
            saved, warnings = services.income_record_save(
                by=request.user,
                household=household,
                quarter=quarter,
                amounts=form.amounts(),
                record=record,
                expected_version=form.cleaned_data.get("version"),
                wages_confirmed=form.cleaned_data["wages_confirmed"],
            )
        except ValidationError as error:
            if hasattr(error, "error_dict") and "quarter" in error.message_dict:
                quarter_form.add_error(None, error.message_dict["quarter"])
            else:
                _apply_errors(form, error)
        else:
            messages.success(
                request,
                f"已保存{saved.period.label}收入：家庭纯收入 {saved.net_income} 元，"
                f"人均纯收入 {saved.per_capita_net_income} 元",
            )
            for warning in warnings:
                messages.warning(request, warning.message)
            return redirect("household_detail", pk=household.pk)
    groups = [
        (label, [form[name] for name in INCOME_GROUPS[key]], key)
        for key, label in [
            ("wages", "工资性收入"),
            ("operating", "生产经营性收入"),
            ("property", "财产性收入"),
            ("transfers", "转移性收入"),
        ]
    ]
    return render(
        request,
        "households/income_form.html",
        {
            "household": household,
            "form": form,
            "quarter_form": quarter_form,
            "record": record,
            "groups": groups,
            "household_size": record.household_size if record else household.size(),
            "monitored": household.open_case() is not None,
            # Every error at the top: on a phone the refused field may be a long way down the page. A correction
            # has no quarter to choose (its quarter is in the URL).
            "errors": (
                (form_messages.error_summary(quarter_form) if record is None else [])
                + form_messages.error_summary(form)
                if request.method == "POST"
                else []
            ),
        },
    )


@login_required
@permission_required("households.change_incomerecord", raise_exception=True)
@require_POST
def income_void(request: HttpRequest, pk: int, period: str) -> HttpResponse:
    """作废 one quarter's income record, with a reason; back to the household page either way."""
    household = selectors.household_get(user=request.user, pk=pk)
    try:
        quarter = Quarter.parse(period)
    except ValueError as error:
        raise Http404("季度格式错误") from error
    record = get_object_or_404(household.income_records, year=quarter.year, quarter=quarter.number)
    form = IncomeVoidForm(request.POST)
    if not form.is_valid():
        messages.error(request, "；".join(str(message) for errors in form.errors.values() for message in errors))
        return redirect("household_detail", pk=household.pk)
    try:
        services.income_record_void(
            record=record,
            reason=form.cleaned_data["reason"],
            by=request.user,
            expected_version=form.cleaned_data["version"],
        )
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
    else:
        messages.success(request, f"已作废{quarter.label}收入，原因记入变更记录")
    return redirect("household_detail", pk=household.pk)


def _case_initial(household: Any, query: Any) -> dict[str, Any]:
    """What the 纳入监测 form starts with: the category the household's type calls for, this month,
    and a note passed in the link (e.g. by an alert: "由预警…纳入")."""
    category = MonitoringCategory.UNSTABLE if household.household_type == HouseholdType.LIFTED else ""
    if household.household_type == HouseholdType.ORDINARY:
        category = MonitoringCategory.MARGINAL
    return {
        "category": category,
        "identified_month": timezone.localdate().replace(day=1),
        "note": str(query.get("note", ""))[:500],
    }


@login_required
@permission_required("households.add_monitoringcase", raise_exception=True)
@require_http_methods(["GET", "POST"])
def monitoring_case_register(request: HttpRequest, pk: int) -> HttpResponse:
    household = selectors.household_get(user=request.user, pk=pk)
    form = MonitoringCaseForm(request.POST or None, initial=_case_initial(household, request.GET), household=household)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.monitoring_case_register(
                by=request.user,
                household=household,
                category=data["category"],
                identified_month=data["identified_month"],
                risk_types=data["risk_types"],
                measures=data["measures"],
                note=data["note"],
            )
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, "已纳入监测")
            return redirect("household_detail", pk=household.pk)
    return render(request, "households/case_form.html", {"form": form, "household": household, "title": "识别纳入监测"})


@login_required
@permission_required("households.change_monitoringcase", raise_exception=True)
@require_http_methods(["GET", "POST"])
def monitoring_case_eliminate(request: HttpRequest, pk: int, case_pk: int) -> HttpResponse:
    household = selectors.household_get(user=request.user, pk=pk)
    case: MonitoringCase = get_object_or_404(household.monitoring_cases.open(), pk=case_pk)
    form = EliminationForm(request.POST or None, initial={"version": case.version})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.monitoring_case_eliminate(
                by=request.user,
                case=case,
                eliminated_month=data["eliminated_month"],
                method=data["elimination_method"],
                note=data["note"],
                expected_version=data["version"],
            )
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, "已标注风险消除")
            return redirect("household_detail", pk=household.pk)
    return render(
        request, "households/case_form.html", {"form": form, "household": household, "case": case, "title": "风险消除"}
    )
