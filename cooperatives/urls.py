from django.urls import path

from cooperatives.views import bindings, entities, leaders, members

urlpatterns = [
    path("", entities.entity_list, name="entity_list"),
    path("new/", entities.entity_create, name="entity_create"),
    path("<int:pk>/", entities.entity_detail, name="entity_detail"),
    path("<int:pk>/edit/", entities.entity_edit, name="entity_edit"),
    path("<int:pk>/cancel/", entities.entity_cancel, name="entity_cancel"),
    path("<int:pk>/members/new/", members.membership_add, name="membership_add"),
    path("bindings/", bindings.binding_list, name="binding_list"),
    path("bindings/new/", bindings.binding_create, name="binding_create"),
    path("bindings/<int:pk>/", bindings.binding_edit, name="binding_edit"),
    path("bindings/<int:pk>/end/", bindings.binding_end, name="binding_end"),
    path("members/", members.membership_list, name="membership_list"),
    path("members/<int:pk>/", members.membership_edit, name="membership_edit"),
    path("members/<int:pk>/leave/", members.membership_leave, name="membership_leave"),
    path("households/<int:pk>/earnings/", members.household_earnings, name="household_earnings"),
    path("leaders/", leaders.rich_leader_list, name="rich_leader_list"),
    path("leaders/new/", leaders.rich_leader_create, name="rich_leader_create"),
    path("leaders/<int:pk>/", leaders.rich_leader_edit, name="rich_leader_edit"),
]
