"""Every Excel register an app declares has its export kind, named as the register is: the export log
(导出记录, its admin list and filter) never shows a register's internal name."""

from __future__ import annotations

import pytest

from households.excel.models import ExportKind, ExportRecord
from workbooks.registers import all_registers

REGISTERS = sorted(all_registers(), key=lambda register: register.name)


@pytest.mark.parametrize("register", REGISTERS, ids=[register.name for register in REGISTERS])
def test_each_register_has_an_export_kind_with_its_name(register: object) -> None:
    name, label = register.name, register.label  # type: ignore[attr-defined]
    assert name in ExportKind.values
    assert ExportKind(name).label == label
    assert len(name) <= ExportRecord._meta.get_field("kind").max_length  # type: ignore[operator]


def test_the_funds_and_cooperatives_registers_are_among_them() -> None:
    names = {register.name for register in REGISTERS}
    assert {"allocations", "projects", "beneficiaries", "fundings", "payments", "collective"} <= names
    assert {"entities", "bindings", "memberships", "earnings"} <= names
