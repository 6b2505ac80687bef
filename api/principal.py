"""The user-like principal an API client acts as, so every `visible_to(user)` and masking helper applies unchanged."""

from __future__ import annotations

from typing import Any

from api.models import ApiClient
from households.personal_data import PERMISSION as PERSONAL_DATA_PERMISSION
from regions.models import Region


class ApiPrincipal:
    """A read-only member of staff placed at the client's region: it sees that subtree and nothing else.

    It answers the questions the scoping and masking code asks of a user (`is_authenticated`,
    `scope_prefix()`, `region`, `has_perm` for personal data) and no others: it holds no role and no
    group, so no page permission (add/change/view) is ever granted to it.
    """

    is_authenticated = True
    is_anonymous = False
    is_superuser = False
    is_staff = False
    role = ""

    def __init__(self, client: ApiClient) -> None:
        self.client = client

    def __str__(self) -> str:
        return f"接口客户端 {self.client.name}"

    @property
    def pk(self) -> None:
        # Not a staff account: history rows written on its behalf carry no user.
        return None

    id = pk

    @property
    def is_active(self) -> bool:
        return self.client.is_active

    @property
    def region(self) -> Region:
        return self.client.region

    @property
    def username(self) -> str:
        return f"api:{self.client.pk}"

    def get_full_name(self) -> str:
        return str(self)

    def scope_prefix(self) -> str | None:
        """Code prefix of the client's subtree; None (nothing) once the client is deactivated."""
        return self.client.region.prefix if self.client.is_active else None

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        return perm == PERSONAL_DATA_PERMISSION and self.client.may_view_personal_data and self.client.is_active

    def has_perms(self, perms: Any, obj: Any = None) -> bool:
        return all(self.has_perm(perm, obj) for perm in perms)

    def has_module_perms(self, app_label: str) -> bool:
        return False
