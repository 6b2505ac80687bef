"""Pages of 村级集体经济: a township's villages against the 50,000 floor, a village's quarter entry
with submit / approve / return, the register of entries, and the villages' yearly attributes."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from figures.periods import Quarter
from funds import filters, services
from funds.forms import CollectiveIncomeForm, ReturnForm, VillageProfileForm
from funds.models import INCOME_FIELDS, Asset, AssetKind, CollectiveIncome, ReviewStatus, VillageProfile
from funds.selectors import collective, registers
from funds.selectors.history import row_history
from funds.services.collective import EDITABLE
from funds.views.common import apply_errors, post_action, register_form, register_list, require_permission
from industries.forms import DeleteForm


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value else default
    except ValueError as error:
        raise Http404("参数不正确") from error


def _last_quarter() -> Quarter:
    """The quarter villages report now: the current one (its figures run to date)."""
    return Quarter.containing(timezone.localdate())


@login_required
@require_safe
def collective_township(request: HttpRequest) -> HttpResponse:
    township = collective.income_township_get(user=request.user, pk=_int(request.GET.get("township"), 0) or None)
    current = _last_quarter()
    if township is not None and not request.GET.get("year"):
        # Opened from the menu: the latest quarter the township's villages have entered, else this one.
        latest = collective.latest_quarter(township=township)
        current = latest or current
    year = _int(request.GET.get("year"), current.year)
    quarter = _int(request.GET.get("quarter"), current.number if year == current.year else 4)
    if not 1 <= quarter <= 4 or not 2013 <= year <= 2100:
        raise Http404("参数不正确")
    figures = (
        collective.township_income(township=township, year=year, quarter=quarter, user=request.user)
        if township
        else None
    )
    return render(
        request,
        "funds/collective_township.html",
        {
            "tab": "collective",
            "township": township,
            "townships": collective.income_townships(user=request.user),
            "year": year,
            "quarter": quarter,
            "years": list(range(current.year, current.year - 6, -1)),
            "figures": figures,
            "floor": collective.FLOOR,
            "party_floor": collective.PARTY_COMPLEX_FLOOR,
            "can_enter": request.user.has_perm("funds.add_collectiveincome"),
            "can_profile": request.user.has_perm("funds.change_villageprofile"),
        },
    )


@login_required
@require_safe
def collective_income_list(request: HttpRequest) -> HttpResponse:
    return register_list(
        request,
        tab="collective_records",
        filterset_class=filters.CollectiveIncomeFilter,
        rows=registers.collective_income_list(user=request.user).annotate(
            operating=collective.operating_sum(), total=collective.total_sum()
        ),
        template="funds/collective_income_list.html",
    )


def _entry_url(income: CollectiveIncome) -> str:
    return reverse("collective_income_entry", args=[income.village_id, income.year, income.quarter])


@login_required
@require_http_methods(["GET", "POST"])
def collective_income_entry(request: HttpRequest, village: int, year: int, quarter: int) -> HttpResponse:
    """A village's figures for a quarter: the entry form while it is the village's to edit, the
    township's buttons once it is submitted, and its history."""
    place = registers.village_get(user=request.user, pk=village)
    if not 1 <= quarter <= 4 or not 2013 <= year <= 2100:
        raise Http404("参数不正确")
    income = CollectiveIncome.objects.filter(village=place, year=year, quarter=quarter).first()
    user = request.user
    editable = income is None or income.review_status in EDITABLE
    codename = "funds.add_collectiveincome" if income is None else "funds.change_collectiveincome"
    can_enter = user.has_perm(codename) and editable
    form = None
    if can_enter:
        initial: dict[str, Any] = {"unit": "yuan"}
        if income is not None:
            initial |= {"version": income.version, **CollectiveIncomeForm.initial_amounts(income, "yuan")}
        form = CollectiveIncomeForm(request.POST or None, initial=initial, editing=income is not None)
    if request.method == "POST":
        if form is None:
            require_permission(user, "funds.change_collectiveincome")
            messages.error(request, "该季度的收入已提交或已审核，不能修改")
            return redirect(request.path)
        if form.is_valid():
            data = form.cleaned_data
            try:
                income = services.collective_income_save(
                    by=user,
                    village=place,
                    year=year,
                    quarter=quarter,
                    amounts={name: data[name] for name in INCOME_FIELDS if data.get(name) is not None},
                    expected_version=data.get("version"),
                )
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, f"已保存：{place.name} {year}年第{quarter}季度")
                for warning in _fallen_since_last_quarter(income):
                    messages.warning(request, warning)
                return redirect(request.path)
    label = f"{place.parent.name if place.parent else ''} {place.name} · {year}年1月至第{quarter}季度末"
    return render(
        request,
        "funds/collective_income_entry.html",
        {
            "tab": "collective",
            "village": place,
            "year": year,
            "quarter": quarter,
            "title": f"村集体经济收入 · {label}",
            "income": income,
            # The village's operating project assets: their yearly return is entered as 资产租赁及项目资产收益.
            "operating_assets": Asset.objects.filter(kind=AssetKind.OPERATING, owner_village=place)
            .select_related("project")
            .order_by("project__code", "pk"),
            "operating": income.operating_income if income else None,
            "total": income.total_income if income else None,
            "form": form,
            "can_submit": income is not None and editable and user.has_perm("funds.change_collectiveincome"),
            "can_review": income is not None
            and income.review_status == ReviewStatus.SUBMITTED
            and user.has_perm("funds.review_collectiveincome"),
            "can_reopen": income is not None
            and income.review_status == ReviewStatus.APPROVED
            and user.has_perm("funds.review_collectiveincome"),
            "return_form": ReturnForm(initial={"version": income.version}) if income else None,
            "history": row_history(instance=income, user=user) if income else [],
            "gap": max(collective.FLOOR - income.operating_income, 0) if income else None,
            "township_url": reverse("collective_township")
            + f"?township={place.parent_id}&year={year}&quarter={quarter}",
        },
    )


def _income_action(request: HttpRequest, pk: int, codename: str) -> CollectiveIncome:
    income = registers.collective_income_get(user=request.user, pk=pk)
    require_permission(request.user, codename)
    return income


@login_required
@require_POST
def collective_income_submit(request: HttpRequest, pk: int) -> HttpResponse:
    income = _income_action(request, pk, "funds.change_collectiveincome")
    return post_action(
        request,
        form=DeleteForm(request.POST),
        act=lambda data: services.collective_income_submit(
            by=request.user, income=income, expected_version=data["version"]
        ),
        done_url=_entry_url(income),
        success="已提交乡镇审核",
    )


@login_required
@require_POST
def collective_income_approve(request: HttpRequest, pk: int) -> HttpResponse:
    income = _income_action(request, pk, "funds.review_collectiveincome")
    return post_action(
        request,
        form=DeleteForm(request.POST),
        act=lambda data: services.collective_income_approve(
            by=request.user, income=income, expected_version=data["version"]
        ),
        done_url=_entry_url(income),
        success="已审核通过",
    )


@login_required
@require_POST
def collective_income_return(request: HttpRequest, pk: int) -> HttpResponse:
    income = _income_action(request, pk, "funds.review_collectiveincome")
    return post_action(
        request,
        form=ReturnForm(request.POST),
        act=lambda data: services.collective_income_return(
            by=request.user, income=income, expected_version=data["version"], note=data["review_note"]
        ),
        done_url=_entry_url(income),
        success="已退回村里更正",
    )


# 村情况 -------------------------------------------------------------------------------------------


@login_required
@require_safe
def village_profile_list(request: HttpRequest) -> HttpResponse:
    return register_list(
        request,
        tab="profiles",
        filterset_class=filters.VillageProfileFilter,
        rows=registers.village_profile_list(user=request.user),
        template="funds/village_profile_list.html",
    )


@login_required
@require_http_methods(["GET", "POST"])
def village_profile_edit(request: HttpRequest, village: int, year: int) -> HttpResponse:
    place = registers.village_get(user=request.user, pk=village)
    if not 2013 <= year <= 2100:
        raise Http404("参数不正确")
    profile = VillageProfile.objects.filter(village=place, year=year).first()
    require_permission(request.user, "funds.change_villageprofile" if profile else "funds.add_villageprofile")
    initial: dict[str, Any] = {}
    if profile is not None:
        initial = {
            "version": profile.version,
            "was_poverty_village": profile.was_poverty_village,
            "has_party_complex": profile.has_party_complex,
        }
    form = VillageProfileForm(request.POST or None, editing=profile is not None, initial=initial)
    return register_form(
        request,
        tab="profiles",
        form=form,
        title=f"村情况 · {place.parent.name if place.parent else ''} {place.name} {year}年",
        save=lambda data: services.village_profile_save(
            by=request.user,
            village=place,
            year=year,
            was_poverty_village=data["was_poverty_village"],
            has_party_complex=data["has_party_complex"],
            expected_version=data.get("version"),
        ),
        done=lambda row: reverse("village_profile_list") + f"?year={year}",
        cancel_url=reverse("village_profile_list"),
        context={"history": row_history(instance=profile, user=request.user) if profile else []},
    )


def _fallen_since_last_quarter(income: CollectiveIncome) -> list[str]:
    """Lines of a quarter-to-date report below the same year's previous quarter: allowed (a correction
    moves money between lines), but said, so that a slip of the keyboard does not pass unseen."""
    if income.quarter == 1:
        return []
    previous = CollectiveIncome.objects.filter(village=income.village, year=income.year, quarter=income.quarter - 1)
    before = previous.first()
    if before is None:
        return []
    return [
        f"{_line_name(name)}累计{getattr(income, name):,.2f}元，"
        f"低于第{before.quarter}季度末的累计{getattr(before, name):,.2f}元："
        "本表按年初至季度末累计填报，请核实是否为更正"
        for name in INCOME_FIELDS
        if getattr(income, name) < getattr(before, name)
    ]


def _line_name(name: str) -> str:
    field: Any = CollectiveIncome._meta.get_field(name)
    return str(field.verbose_name)
