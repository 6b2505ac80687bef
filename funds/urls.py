from django.urls import path

from funds.views import allocations, assets, collective, fundings, overview, projects

urlpatterns = [
    path("", overview.fund_overview, name="fund_overview"),
    path("allocations/", allocations.allocation_list, name="allocation_list"),
    path("allocations/new/", allocations.allocation_create, name="allocation_create"),
    path("allocations/<int:pk>/", allocations.allocation_detail, name="allocation_detail"),
    path("allocations/<int:pk>/edit/", allocations.allocation_edit, name="allocation_edit"),
    path("allocations/<int:pk>/delete/", allocations.allocation_delete, name="allocation_delete"),
    path("allocations/<int:pk>/split/", allocations.allocation_split, name="allocation_split"),
    path("projects/", projects.project_list, name="project_list"),
    path("projects/new/", projects.project_create, name="project_create"),
    path("projects/<int:pk>/", projects.project_detail, name="project_detail"),
    path("projects/<int:pk>/edit/", projects.project_edit, name="project_edit"),
    path("projects/<int:pk>/advance/", projects.project_advance, name="project_advance"),
    path("projects/<int:pk>/send-back/", projects.project_send_back, name="project_send_back"),
    path("projects/<int:pk>/beneficiaries/add/", projects.beneficiaries_add, name="beneficiaries_add"),
    path(
        "projects/<int:pk>/beneficiaries/<int:household_pk>/remove/",
        projects.beneficiary_remove,
        name="beneficiary_remove",
    ),
    path("projects/<int:pk>/fundings/new/", fundings.funding_create, name="funding_create"),
    path("projects/<int:pk>/assets/new/", assets.asset_create, name="asset_create"),
    path("fundings/<int:pk>/", fundings.funding_detail, name="funding_detail"),
    path("fundings/<int:pk>/edit/", fundings.funding_edit, name="funding_edit"),
    path("fundings/<int:pk>/delete/", fundings.funding_delete, name="funding_delete"),
    path("fundings/<int:pk>/payments/new/", fundings.payment_create, name="payment_create"),
    path("payments/", fundings.payment_list, name="payment_list"),
    path("payments/<int:pk>/", fundings.payment_detail, name="payment_detail"),
    path("payments/<int:pk>/edit/", fundings.payment_edit, name="payment_edit"),
    path("payments/<int:pk>/delete/", fundings.payment_delete, name="payment_delete"),
    path("assets/", assets.asset_list, name="asset_list"),
    path("assets/<int:pk>/", assets.asset_detail, name="asset_detail"),
    path("assets/<int:pk>/edit/", assets.asset_edit, name="asset_edit"),
    path("assets/<int:pk>/delete/", assets.asset_delete, name="asset_delete"),
    path("collective/", collective.collective_township, name="collective_township"),
    path("collective/records/", collective.collective_income_list, name="collective_income_list"),
    path(
        "collective/<int:village>/<int:year>/<int:quarter>/",
        collective.collective_income_entry,
        name="collective_income_entry",
    ),
    path("collective/records/<int:pk>/submit/", collective.collective_income_submit, name="collective_income_submit"),
    path(
        "collective/records/<int:pk>/approve/", collective.collective_income_approve, name="collective_income_approve"
    ),
    path("collective/records/<int:pk>/return/", collective.collective_income_return, name="collective_income_return"),
    path("villages/", collective.village_profile_list, name="village_profile_list"),
    path("villages/<int:village>/<int:year>/", collective.village_profile_edit, name="village_profile_edit"),
]
