"""The account an API client writes as: history names it, the services' scope and permission checks ask it.

Decision (issue 12 §2): an API write is recorded in the history under a per-client service account,
`api-client-<id>`, whose name is “接口客户端 <client name>”. It is inactive and has no usable password
and no role, so it cannot log in and no account page lists it; but it is a real user row, so every
history view (the household page, the target editor's history, the admin) names the client with no
change, and the conflict queue can tell this client's own edits from a county user's by the
history's user id.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from api.models import ApiActor, ApiClient
from households.personal_data import PERMISSION as PERSONAL_DATA_PERMISSION

# What writing a resource lets the client do, in the permissions the services check.
WRITE_PERMISSIONS: dict[str, frozenset[str]] = {
    "households": frozenset({"households.add_household", "households.change_household"}),
    "monitoring-cases": frozenset({"households.add_monitoringcase", "households.change_monitoringcase"}),
    "income-records": frozenset({"households.add_incomerecord", "households.change_incomerecord"}),
    "thresholds": frozenset({"households.add_monitoringthreshold", "households.change_monitoringthreshold"}),
    "targets": frozenset({"assessment.add_target", "assessment.change_target"}),
}


def actor_name(client: ApiClient) -> str:
    return f"接口客户端 {client.name}"[:150]


def api_actor_for(client: ApiClient) -> ApiActor:
    """The client's service account, made on its first write; its name and region follow the client's."""
    username = f"api-client-{client.pk}"
    actor = ApiActor.objects.filter(username=username).first()
    if actor is None:
        try:
            with transaction.atomic():
                actor = ApiActor(username=username, first_name=actor_name(client), is_active=False)
                actor.region = client.region
                actor.set_unusable_password()
                actor.save()
        except IntegrityError:  # made by a concurrent first write of the same client
            actor = ApiActor.objects.get(username=username)
    if actor.first_name != actor_name(client) or actor.region_id != client.region_id:
        ApiActor.objects.filter(pk=actor.pk).update(first_name=actor_name(client), region=client.region)
        actor.first_name, actor.region = actor_name(client), client.region
    actor.client = client
    return actor


def actor_scope_prefix(actor: ApiActor) -> str | None:
    client = actor.client
    if client is None or not client.is_active:
        return None
    return str(client.region.prefix)


def actor_has_perm(actor: ApiActor, perm: str) -> bool:
    client = actor.client
    if client is None or not client.is_active:
        return False
    if perm == PERSONAL_DATA_PERMISSION:
        return bool(client.may_view_personal_data)
    return any(perm in perms for name, perms in WRITE_PERMISSIONS.items() if client.may_write(name))
