"""Pytest plumbing shared by every test: external programs and the CI rule. App fixtures live in tests/conftest.py."""

import os
import shutil
from collections.abc import Iterator
from typing import TYPE_CHECKING, NoReturn

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser

IN_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def missing_requirement(what: str) -> NoReturn:
    """Skip on a developer machine, fail under CI=true: CI must never pass by skipping."""
    if IN_CI:
        pytest.fail(f"{what} is required when CI=true (see .ci/run)", pytrace=False)
    pytest.skip(f"{what} is not available on this machine")


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    """Path of the system Chromium; Playwright's own browser downloads are not reachable here."""
    configured = os.environ.get("CHROMIUM_PATH")
    if configured:
        if not os.access(configured, os.X_OK):
            missing_requirement(f"CHROMIUM_PATH={configured}")
        return configured
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    missing_requirement("Chromium (apt-get install chromium)")


@pytest.fixture(scope="session")
def browser(chromium_executable: str) -> Iterator["Browser"]:
    """One headless Chromium per test session (per xdist worker)."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop running in the test thread, and Django then refuses
    # ORM calls from that thread even though nothing in a browser test is actually asynchronous.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        chromium = playwright.chromium.launch(executable_path=chromium_executable, headless=True)
        yield chromium
        chromium.close()
