"""合作社绑定农户: memberships, and what a household earned from its cooperatives."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from cooperatives import selectors, services
from cooperatives.filters import MembershipFilter
from cooperatives.forms import EarningsForm, MembershipAddForm, MembershipForm, MembershipLeaveForm, year_choices
from cooperatives.models import EarningKind, EntityKind
from cooperatives.views.common import apply_errors, paginate
from households.personal_data import masked_text


@login_required
def membership_list(request: HttpRequest) -> HttpResponse:
    filters = MembershipFilter(
        request.GET or None, queryset=selectors.membership_list(user=request.user), user=request.user
    )
    page, query = paginate(request, filters.qs)
    return render(
        request,
        "cooperatives/membership_list.html",
        {
            "filters": filters,
            "page": page,
            "query": query,
            "today": date.today(),
            "can_change": request.user.has_perm("cooperatives.change_membership"),
        },
    )


@login_required
@permission_required("cooperatives.add_membership", raise_exception=True)
@require_http_methods(["GET", "POST"])
def membership_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a household of the user's area to a cooperative (found by 户编号 or a member's 身份证号)."""
    cooperative = selectors.entity_get(user=request.user, pk=pk)
    if cooperative.kind != EntityKind.COOPERATIVE:
        raise Http404("只有合作社可以登记成员户")
    form = MembershipAddForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            membership = services.membership_add(by=request.user, membership=form.membership(cooperative))
        except ValidationError as error:
            apply_errors(form, error)
        else:
            number = masked_text(membership.household.number)
            messages.success(request, f"已将农户 {number} 登记为“{cooperative.name}”成员户")
            return redirect("entity_detail", pk=cooperative.pk)
    return render(request, "cooperatives/membership_add.html", {"form": form, "cooperative": cooperative})


@login_required
@permission_required("cooperatives.change_membership", raise_exception=True)
@require_http_methods(["GET", "POST"])
def membership_edit(request: HttpRequest, pk: int) -> HttpResponse:
    membership = selectors.membership_get(user=request.user, pk=pk)
    form = MembershipForm(request.POST or None, instance=membership)
    if request.method == "POST" and form.is_valid():
        try:
            services.membership_update(
                by=request.user, membership=form.save(commit=False), expected_version=form.cleaned_data["version"]
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "已保存")
            return redirect("entity_detail", pk=membership.cooperative_id)
    return render(
        request,
        "cooperatives/membership_form.html",
        {
            "form": form,
            "membership": membership,
            "leave_form": MembershipLeaveForm(initial={"version": membership.version, "left_on": date.today()})
            if membership.left_on is None
            else None,
            "history": selectors.membership_history(user=request.user, membership=membership),
        },
    )


@login_required
@permission_required("cooperatives.change_membership", raise_exception=True)
@require_http_methods(["POST"])
def membership_leave(request: HttpRequest, pk: int) -> HttpResponse:
    """退社 (from the cooperative page or the membership's page); back to the cooperative either way."""
    membership = selectors.membership_get(user=request.user, pk=pk)
    form = MembershipLeaveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "；".join(str(m) for errors in form.errors.values() for m in errors))
        return redirect("entity_detail", pk=membership.cooperative_id)
    try:
        services.membership_leave(
            by=request.user,
            membership=membership,
            left_on=form.cleaned_data["left_on"],
            expected_version=form.cleaned_data["version"],
        )
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
    else:
        number = masked_text(membership.household.number)
        messages.success(
            request, f"农户 {number} 已于{form.cleaned_data['left_on']:%Y-%m-%d}退出“{membership.cooperative.name}”"
        )
    return redirect("entity_detail", pk=membership.cooperative_id)


@login_required
@require_http_methods(["GET", "POST"])
def household_earnings(request: HttpRequest, pk: int) -> HttpResponse:
    """A household's earnings from its cooperatives in a year, by cooperative and kind (?year=2025)."""
    household = selectors.household_get(user=request.user, pk=pk)
    years = year_choices()
    text = request.GET.get("year", "")
    if not text:
        year = years[0]
    elif text.isascii() and text.isdigit() and int(text) in years:
        year = int(text)
    else:
        # A year the page does not offer is a wrong address, never a quiet save into another year.
        raise Http404("年度不在可选范围内")
    can_edit = request.user.has_perm("cooperatives.add_earning") and household.is_active
    if request.method == "POST" and not can_edit:
        raise PermissionDenied("您的角色不能录入该户的合作社收益")
    cooperatives = selectors.earning_cooperatives(household=household, year=year)
    kinds = list(EarningKind.objects.all())
    stored = selectors.earnings_of(household=household, year=year)
    form = EarningsForm(
        request.POST if request.method == "POST" else None, cooperatives=cooperatives, kinds=kinds, stored=stored
    )
    if request.method == "POST" and form.is_valid():
        try:
            written = services.earnings_year_save(
                by=request.user, household=household, year=year, entries=form.entries()
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"已保存{year}年合作社收益（{written}项有变动）")
            return redirect(f"{request.path}?year={year}")
    return render(
        request,
        "cooperatives/household_earnings.html",
        {"household": household, "year": year, "years": years, "form": form, "kinds": kinds, "can_edit": can_edit},
    )
