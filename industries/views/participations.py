"""Pages of 产业到户: entered from the household page; a scoped list for the drill-down of figures."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from households.personal_data import text_shown_to
from industries import filters, selectors, services
from industries.forms import ParticipationForm
from industries.models import Participation
from industries.views.registers import (
    edit_initial,
    register_delete,
    register_detail,
    register_form,
    register_list,
    require_permission,
)


def _household_url(participation: Participation) -> str:
    return reverse("household_detail", args=[participation.household_id]) + "#section-industries"


def _title(participation: Participation) -> str:
    return f"{participation.year}年 {participation.industry.name}"


@login_required
def participation_list(request: HttpRequest) -> HttpResponse:
    return register_list(
        request,
        tab="participations",
        filterset_class=filters.ParticipationFilter,
        rows=selectors.participation_list(user=request.user),
        template="industries/participation_list.html",
        can_add=False,  # added from a household's page
    )


@login_required
def participation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    participation = selectors.participation_get(user=request.user, pk=pk)
    household = participation.household
    fields = [
        ("农户", text_shown_to(request.user, household.number), reverse("household_detail", args=[household.pk])),
        ("所属村", f"{household.village.parent.name if household.village.parent else ''} {household.village.name}"),
        ("年度", f"{participation.year}年"),
        ("产业", participation.industry.name),
        ("规模", f"{participation.scale.normalize():f} {participation.industry.unit.name}"),
        ("备注", participation.note or "—"),
    ]
    user = request.user
    writable = household.is_active
    urls = {
        "household_url": _household_url(participation),
        "edit_url": reverse("participation_edit", args=[pk])
        if writable and user.has_perm("industries.change_participation")
        else "",
        "delete_url": reverse("participation_delete", args=[pk])
        if writable and user.has_perm("industries.delete_participation")
        else "",
    }
    return register_detail(
        request,
        tab="participations",
        row=participation,
        title=f"产业到户 · {_title(participation)}",
        fields=fields,
        urls=urls,
    )


@login_required
@require_http_methods(["GET", "POST"])
def participation_create(request: HttpRequest, household_pk: int) -> HttpResponse:
    household = selectors.household_for_participation(user=request.user, pk=household_pk)
    require_permission(request.user, "industries.add_participation")
    form = ParticipationForm(request.POST or None, user=request.user)
    back = reverse("household_detail", args=[household.pk]) + "#section-industries"
    return register_form(
        request,
        tab="participations",
        form=form,
        title="登记产业到户",
        save=lambda data: services.participation_create(
            by=request.user,
            household=household,
            year=data["year"],
            industry=data["industry"],
            scale=data["scale"],
            note=data["note"],
        ),
        done=lambda row: back,
        cancel_url=back,
        context={"household": household},
    )


@login_required
@require_http_methods(["GET", "POST"])
def participation_edit(request: HttpRequest, pk: int) -> HttpResponse:
    participation = selectors.participation_get(user=request.user, pk=pk)
    require_permission(request.user, "industries.change_participation")
    initial = edit_initial(participation, ["year", "industry", "scale", "note"])
    form = ParticipationForm(request.POST or None, user=request.user, editing=True, initial=initial)
    return register_form(
        request,
        tab="participations",
        form=form,
        title=f"修改产业到户 · {_title(participation)}",
        save=lambda data: services.participation_update(
            by=request.user,
            participation=participation,
            expected_version=data["version"],
            year=data["year"],
            industry=data["industry"],
            scale=data["scale"],
            note=data["note"],
        ),
        done=lambda row: _household_url(participation),
        cancel_url=_household_url(participation),
        context={"household": participation.household},
    )


@login_required
@require_http_methods(["GET", "POST"])
def participation_delete(request: HttpRequest, pk: int) -> HttpResponse:
    participation = selectors.participation_get(user=request.user, pk=pk)
    require_permission(request.user, "industries.delete_participation")
    return register_delete(
        request,
        tab="participations",
        row=participation,
        title=f"产业到户 · {_title(participation)}",
        delete=lambda version: services.participation_delete(
            by=request.user, participation=participation, expected_version=version
        ),
        done_url=_household_url(participation),
        cancel_url=_household_url(participation),
    )
