"""The API sits on top: it reads every register, and no register reads it."""

from __future__ import annotations

from pathlib import Path

from tests.workbooks.test_dependencies import imported_packages

ROOT = Path(__file__).resolve().parents[2]


def test_no_app_reads_the_api() -> None:
    apps = ["regions", "workbooks", "figures", "households", "industries", "cooperatives", "funds", "assessment"]
    offenders = {
        str(path.relative_to(ROOT))
        for app in apps
        for path in (ROOT / app).rglob("*.py")
        if "api" in imported_packages(path)
    }
    assert offenders == set()
