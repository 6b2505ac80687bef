"""The demo county's 双绑 (cooperatives/demo.py) keeps the rules the pages and imports keep."""

from __future__ import annotations

from typing import Any

from cooperatives.models import Binding, Membership
from households.demo_writer import demo_seed


def test_the_demos_bindings_and_memberships_begin_while_their_entities_exist(db: Any) -> None:
    # A binding that began before its cooperative was founded cannot be saved again from its page.
    demo_seed(households=200, seed=7)
    bindings = Binding.objects.select_related("enterprise", "cooperative")
    memberships = Membership.objects.select_related("cooperative", "household")
    assert bindings.exists() and memberships.exists()
    assert [
        binding.pk
        for binding in bindings
        if not (
            binding.enterprise.is_active_on(binding.started_on) and binding.cooperative.is_active_on(binding.started_on)
        )
    ] == []
    assert [
        membership.pk
        for membership in memberships
        if not (membership.cooperative.is_active_on(membership.joined_on) and membership.household.is_active)
    ] == []
