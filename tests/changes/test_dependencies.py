"""The change log is infrastructure below the registers: it names their tables only through the declaration."""

from __future__ import annotations

from pathlib import Path

from tests.workbooks.test_dependencies import APPS_ABOVE, ROOT, imported_packages


def test_the_change_log_imports_no_register_app() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & (APPS_ABOVE | {"workbooks"}))
        for path in Path(ROOT / "changes").rglob("*.py")
        if imported_packages(path) & (APPS_ABOVE | {"workbooks"})
    }
    assert offenders == {}
