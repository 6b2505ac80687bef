"""The import pipeline is infrastructure: it knows no register, and no app above regions."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS_ABOVE = {"households", "industries", "cooperatives", "funds", "assessment"}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_the_pipeline_imports_no_app_above_it() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & APPS_ABOVE)
        for path in (ROOT / "workbooks").rglob("*.py")
        if imported_packages(path) & APPS_ABOVE
    }
    assert offenders == {}


def test_regions_imports_neither_the_pipeline_nor_any_app_above_it() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & (APPS_ABOVE | {"workbooks"}))
        for path in (ROOT / "regions").rglob("*.py")
        if imported_packages(path) & (APPS_ABOVE | {"workbooks"})
    }
    assert offenders == {}


def test_the_indicator_declarations_import_no_app_above_regions() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & (APPS_ABOVE | {"workbooks"}))
        for path in (ROOT / "figures").rglob("*.py")
        if imported_packages(path) & (APPS_ABOVE | {"workbooks"})
    }
    assert offenders == {}


def test_no_app_reads_the_assessment() -> None:
    apps = ["regions", "workbooks", "figures", "households", "industries", "cooperatives", "funds"]
    offenders = {
        str(path.relative_to(ROOT))
        for app in apps
        for path in (ROOT / app).rglob("*.py")
        if "assessment" in imported_packages(path)
    }
    assert offenders == set()
