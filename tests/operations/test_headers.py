"""The security headers: a Content-Security-Policy on every page that the templates can satisfy (the browser
tests check that Chromium reports no violation), and `Cache-Control: no-store` on whatever a signed-in user
or an API client is sent."""

from __future__ import annotations

import base64
import hashlib
import html
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from assessment.models import ComputeRun
from tests.api.world import api_get, make_client
from tests.conftest import Staff
from tests.factories import PASSWORD, Tree, household

POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}
TEMPLATES = Path(settings.BASE_DIR) / "templates"


def signed_in(username: str, *, enforce_csrf_checks: bool = False) -> Client:
    client = Client(enforce_csrf_checks=enforce_csrf_checks)
    assert client.login(username=username, password=PASSWORD)
    return client


def policy(response: object) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]  # type: ignore[index]
    directives = [part.split() for part in header.split(";") if part.strip()]
    return {name: values for name, *values in directives}


def sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


# ---- Content-Security-Policy ----


def test_a_signed_in_page_carries_the_policy(staff: Staff) -> None:
    response = signed_in(staff.village_clerk.username).get(reverse("household_list"))
    assert policy(response) == POLICY
    assert "unsafe-inline" not in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_the_login_page_carries_it_too() -> None:
    assert policy(Client().get(reverse("login"))) == POLICY


def test_the_error_pages_carry_it(staff: Staff) -> None:
    client = signed_in(staff.village_clerk.username, enforce_csrf_checks=True)
    missing = client.get("/households/999999/")
    stale = client.post(reverse("household_create"), {"csrfmiddlewaretoken": "stale"})
    assert (missing.status_code, stale.status_code) == (404, 403)
    assert policy(missing) == policy(stale) == POLICY


@pytest.mark.parametrize("template", sorted(TEMPLATES.rglob("*.html")), ids=lambda path: path.name)
def test_no_template_has_an_inline_script_an_event_handler_or_a_style_attribute(template: Path) -> None:
    """What the policy would refuse, found before a browser has to: scripts and styles come from static files."""
    text = template.read_text()
    inline_scripts = [tag for tag in re.findall(r"<script\b[^>]*>", text) if "src=" not in tag and "json" not in tag]
    assert inline_scripts == []
    assert re.findall(r"<[a-z][^>]*\son[a-z]+\s*=", text) == []
    assert re.findall(r"\sstyle\s*=|<style\b|javascript:", text) == []


def test_the_api_documentation_loads_its_script_as_a_file(staff: Staff) -> None:
    client = signed_in(staff.county_viewer.username)
    page = client.get(reverse("api:docs"))
    text = page.content.decode()
    assert page.status_code == 200 and policy(page) == POLICY
    scripts = re.findall(r"<script\b[^>]*>", text)
    assert scripts and all("src=" in tag for tag in scripts)
    assert "<style" not in text
    source = re.findall(r'<script src="([^"]*\?script=?)"', text)
    assert len(source) == 1
    script = client.get(html.unescape(source[0]))
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle" in script.content


def test_the_admin_history_page_allows_exactly_the_style_attributes_it_has(staff: Staff, tree: Tree) -> None:
    target = household(staff.village_clerk, tree.village_a1)
    response = signed_in(staff.superuser.username).get(reverse("admin:households_household_history", args=[target.pk]))
    attributes = re.findall(r'\sstyle="([^"]*)"', response.content.decode())
    allowed = policy(response)["style-src-attr"]
    assert attributes, "the history page no longer has a style attribute: drop HISTORY_PAGE_CSP"
    assert allowed[0] == "'unsafe-hashes'" and {sha256(value) for value in attributes} == set(allowed[1:])
    assert {name: values for name, values in policy(response).items() if name != "style-src-attr"} == POLICY


def test_the_admin_export_page_allows_exactly_its_handler_and_style_attributes(staff: Staff, tree: Tree) -> None:
    household(staff.village_clerk, tree.village_a1)
    response = signed_in(staff.superuser.username).get(reverse("admin:households_household_export"))
    text = response.content.decode()
    handlers = re.findall(r'\son[a-z]+="([^"]*)"', text)
    styles = re.findall(r'\sstyle="([^"]*)"', text)
    found = policy(response)
    assert handlers and styles
    assert set(found["script-src-attr"]) == {"'unsafe-hashes'"} | {sha256(value) for value in handlers}
    assert set(found["style-src-attr"]) == {"'unsafe-hashes'"} | {sha256(value) for value in styles}


# ---- Cache-Control ----


def assert_not_stored(response: object) -> None:
    directives = {part.strip() for part in response["Cache-Control"].split(",")}  # type: ignore[index]
    assert {"no-store", "private"} <= directives, response["Cache-Control"]  # type: ignore[index]


def test_a_signed_in_page_is_not_stored(staff: Staff, tree: Tree) -> None:
    target = household(staff.village_clerk, tree.village_a1)
    assert_not_stored(signed_in(staff.village_clerk.username).get(reverse("household_detail", args=[target.pk])))


def test_a_signed_in_download_is_not_stored(staff: Staff, tree: Tree) -> None:
    household(staff.village_clerk, tree.village_a1)
    client = signed_in(staff.village_clerk.username)
    template = client.get(reverse("import_template", args=["roster"]))
    export = client.get(reverse("export_download", args=["roster"]))
    assert template["Content-Type"].startswith("application/vnd.openxmlformats")
    assert export.status_code == 200 and "attachment" in export["Content-Disposition"]
    assert_not_stored(template)
    assert_not_stored(export)


def test_an_htmx_fragment_is_not_stored(staff: Staff, tree: Tree) -> None:
    run = ComputeRun.objects.create(scope=tree.county, year=2026, quarter=2, reason="manual")
    response = signed_in(staff.county_viewer.username).get(
        reverse("assessment_run_progress", args=[run.pk]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200 and b"<html" not in response.content
    assert_not_stored(response)


def test_an_api_answer_is_not_stored(tree: Tree) -> None:
    _, secret = make_client(tree.county)
    assert_not_stored(api_get(secret, "/api/v1/households/"))
    assert_not_stored(api_get("zx_not-a-token", "/api/v1/households/"))


def test_a_signed_in_error_page_is_not_stored(staff: Staff) -> None:
    assert_not_stored(signed_in(staff.village_clerk.username).get("/households/999999/"))


def test_static_files_are_cacheable_for_a_signed_in_user(staff: Staff) -> None:
    response = signed_in(staff.village_clerk.username).get(settings.STATIC_URL + "css/ledger.css")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


def test_a_view_that_chose_its_own_no_store_keeps_it(staff: Staff) -> None:
    client = signed_in(staff.village_clerk.username)
    assert client.get(reverse("healthz"))["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"


@pytest.mark.django_db
def test_nothing_is_added_for_an_anonymous_visitor() -> None:
    response = Client().get(reverse("session_keep_alive"))
    assert response.status_code == 401 and "Cache-Control" not in response
