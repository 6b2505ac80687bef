"""Two people spending the same allocation at once: the second waits for the first's lock and is then
refused, so the allocation is never overdrawn (PostgreSQL: real concurrent connections)."""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from funds import services
from funds.models import Funding
from funds.services import fundings
from tests.conftest import Staff
from tests.factories import Tree, household
from tests.funds.factories import allocation, library_project
from tests.workbooks.test_failures import backend_waiting_for_lock


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections (PostgreSQL leg)")
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_fundings_cannot_overdraw_an_allocation(
    tree: Tree, staff: Staff, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = staff.county_admin
    source = allocation(admin, tree.county, "100")
    first_project = library_project(admin, tree.village_a1, [household(admin, tree.village_a1)])
    second_project = library_project(admin, tree.village_a2, [household(admin, tree.village_a2)])
    first_inside = threading.Event()
    let_first_finish = threading.Event()
    real_used = fundings.allocation_used

    def used_then_hold(allocation: Any, **kwargs: Any) -> Decimal:
        total = real_used(allocation, **kwargs)
        if threading.current_thread().name == "first":
            first_inside.set()  # the first has read the remainder under its lock and holds it
            let_first_finish.wait(30)
        return total

    monkeypatch.setattr(fundings, "allocation_used", used_then_hold)
    outcomes: dict[str, str] = {}

    def fund(project: Any) -> None:
        name = threading.current_thread().name
        try:
            services.funding_create(by=admin, project=project, allocation=source, amount=Decimal("60"))
            outcomes[name] = "saved"
        except ValidationError as error:
            outcomes[name] = "；".join(error.messages)
        finally:
            connection.close()

    first = threading.Thread(target=fund, args=(first_project,), name="first")
    first.start()
    assert first_inside.wait(30)
    second = threading.Thread(target=fund, args=(second_project,), name="second")
    second.start()
    deadline = time.monotonic() + 10
    while not backend_waiting_for_lock("FOR UPDATE") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert backend_waiting_for_lock("FOR UPDATE")  # the second waits on the allocation's row lock
    assert outcomes == {}
    let_first_finish.set()
    first.join(30)
    second.join(30)
    assert outcomes == {"first": "saved", "second": "安排金额超出该笔资金的剩余可安排金额（剩余 40.00 元）"}
    assert list(Funding.objects.values_list("project_id", "amount")) == [(first_project.pk, Decimal("60.00"))]
