"""Playwright (sync API) driving Debian's Chromium against pytest-django's live_server.

Playwright cannot download its own browsers here, so the system Chromium is launched by path.
Missing Chromium skips on a developer machine and fails under CI=true: CI must never pass by skipping.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Error, Page, Request, Response

# Playwright's sync API keeps an asyncio loop running in the test thread; without this Django raises
# SynchronousOnlyOperation for every ORM call the test itself makes (factories, DB assertions).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
# Before any script of the page runs: every Content-Security-Policy violation the page reports is kept in
# window.__cspViolations (read by the accessibility walk, page by page) and sent to the test at once.
CSP_LISTENER = """(() => {
  window.__cspViolations = [];
  document.addEventListener("securitypolicyviolation", (event) => {
    const where = event.sourceFile ? ` at ${event.sourceFile}:${event.lineNumber}` : "";
    const text = `${event.effectiveDirective} refused ${event.blockedURI || "inline"}${where} on ${event.documentURI}`
      + (event.sample ? ` (${event.sample})` : "");
    window.__cspViolations.push(text);
    if (window.__reportCspViolation) window.__reportCspViolation(text);
  });
})();"""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder is a browser test."""
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless system Chromium per session (per xdist worker). Overrides the root conftest's."""
    if not os.access(CHROMIUM, os.X_OK):
        if _in_ci():
            pytest.fail(f"{CHROMIUM} is required when CI=true (apt-get install chromium)", pytrace=False)
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium); browser tests skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class PageProblems:
    """What went wrong in the browser while a test ran: JS errors, static files that did not load, and
    Content-Security-Policy violations (from the securitypolicyviolation event and from the console)."""

    console_errors: list[str] = field(default_factory=list)
    broken_assets: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)


@pytest.fixture
def page_problems() -> PageProblems:
    return PageProblems()


@pytest.fixture
def page(browser: Browser, page_problems: PageProblems) -> Iterator[Page]:
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1400, "height": 900})
    context.set_default_timeout(10_000)

    def on_csp_violation(text: str) -> None:
        page_problems.csp_violations.append(text)

    context.expose_function("__reportCspViolation", on_csp_violation)
    context.add_init_script(CSP_LISTENER)
    new_page = context.new_page()

    def on_page_error(error: Error) -> None:
        page_problems.console_errors.append(str(error))

    def on_console(message: ConsoleMessage) -> None:
        # "Failed to load resource" is Chromium's echo of an HTTP error status (the expected 403, the
        # missing favicon); static files are checked through their responses below instead.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            page_problems.console_errors.append(message.text)
        if "Content Security Policy" in message.text:
            page_problems.csp_violations.append(f"console: {message.text}")

    def on_response(response: Response) -> None:
        if "/static/" in response.url and response.status >= 400:
            page_problems.broken_assets.append(f"{response.status} {response.url}")

    def on_request_failed(request: Request) -> None:
        # A load cut short by the next navigation or turned into a download (net::ERR_ABORTED) is not a
        # broken file: a missing one answers 404 (on_response), an unreachable server fails otherwise.
        if request.failure != "net::ERR_ABORTED":
            page_problems.broken_assets.append(f"failed {request.url} ({request.failure})")

    new_page.on("pageerror", on_page_error)
    new_page.on("console", on_console)
    new_page.on("response", on_response)
    new_page.on("requestfailed", on_request_failed)
    yield new_page
    context.close()
    # Every browser test, whatever it asserts itself: the pages it opened satisfied the policy.
    assert page_problems.csp_violations == [], "Content-Security-Policy violations:\n" + "\n".join(
        page_problems.csp_violations
    )


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def screenshot(page: Page, screenshot_dir: Path) -> Callable[[str], Path]:
    """screenshot("name") saves the whole page as test-artifacts/screenshots/name.png and returns the path."""

    def take(name: str) -> Path:
        path = screenshot_dir / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def dashboard_when_fresh(page: Page, url: str, *, seconds: float = 60) -> None:
    """Open a dashboard and reload it until no figure is marked 数据已过期: on the embedded default the
    recompute ran when the change was saved; with workers (the PostgreSQL leg) a worker runs it a moment
    later, as it would for a user, who sees 数据已过期 until then."""
    deadline = time.monotonic() + seconds
    page.goto(url)
    while page.get_by_test_id("stale").count() and time.monotonic() < deadline:
        page.wait_for_timeout(500)
        page.reload()
    assert page.get_by_test_id("stale").count() == 0, "the figures are still 数据已过期"
