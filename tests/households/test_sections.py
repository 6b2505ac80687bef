"""Later registers add blocks to the household page without editing it (households/sections.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from households import sections
from households.sections import HouseholdSection, register_household_section
from tests.conftest import Staff
from tests.factories import Tree, household


@pytest.fixture
def probe_section(tmp_path: Any, settings: Any) -> Iterator[None]:
    (tmp_path / "probe.html").write_text("<p>{{ section.line }}</p>", encoding="utf-8")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]
    saved = dict(sections._sections)

    def context(target: Any, user: Any) -> dict[str, Any] | None:
        return {"line": f"{target.number} 的测试区块"} if target.number.endswith("1") else None

    register_household_section(HouseholdSection(key="probe", title="测试区块", template="probe.html", context=context))
    yield
    sections._sections.clear()
    sections._sections.update(saved)


def test_a_registered_section_shows_on_the_household_page_only_when_it_has_content(
    client: Any, tree: Tree, staff: Staff, probe_section: None
) -> None:
    shown = household(staff.village_clerk, tree.village_a1, number="SEC0001")
    hidden = household(staff.village_clerk, tree.village_a1, number="SEC0002")
    client.force_login(staff.county_viewer)
    page = client.get(f"/households/{shown.pk}/").content.decode()
    assert 'data-testid="section-probe"' in page and "SEC0001 的测试区块" in page
    assert 'data-testid="section-probe"' not in client.get(f"/households/{hidden.pk}/").content.decode()
