"""The test runs exercise the servers they claim to, and production settings stay deployable."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis
from django.conf import settings
from django.contrib.staticfiles import finders
from django.db import connection
from django.template.autoreload import get_template_directories

from config.celery import app as celery_app

VENDOR_ASSETS = [
    "vendor/bootstrap/bootstrap.min.css",
    "vendor/bootstrap/bootstrap.bundle.min.js",
    "vendor/htmx/htmx.min.js",
    "vendor/echarts/echarts.min.js",
]
STATIC_TAG = re.compile(r"""{%\s*static\s+["']([^"']+)["']\s*%}""")


@pytest.mark.django_db
def test_database_is_postgresql_exactly_when_database_url_is_set() -> None:
    scheme = urlsplit(os.environ.get("DATABASE_URL", "")).scheme
    expected_vendor = "postgresql" if scheme in {"postgres", "postgresql", "pgsql"} else "sqlite"
    assert connection.vendor == expected_vendor
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


def test_redis_url_points_at_a_redis_that_answers() -> None:
    redis_url = os.environ.get("REDIS_URL", "")
    assert redis_url == settings.REDIS_URL
    if redis_url:
        client = redis.Redis.from_url(redis_url, socket_connect_timeout=5, socket_timeout=5)
        try:
            assert client.ping() is True
        finally:
            client.close()
        assert celery_app.conf.broker_url == redis_url
    else:
        assert celery_app.conf.broker_url == "memory://"


def test_celery_runs_tasks_in_process_exactly_when_redis_url_is_unset() -> None:
    eager = not os.environ.get("REDIS_URL")
    assert settings.CELERY_TASK_ALWAYS_EAGER is eager
    assert celery_app.conf.task_always_eager is eager


def test_production_settings_pass_the_deploy_checks_without_warnings() -> None:
    # Only what a production host sets; nothing leaks in from the test process.
    environment = {
        **{name: os.environ[name] for name in ("PATH", "HOME", "LANG", "TMPDIR") if name in os.environ},
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "zhenxing.example.gov.cn",
        "CSRF_TRUSTED_ORIGINS": "https://zhenxing.example.gov.cn",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--settings=config.settings.prod", "--fail-level=WARNING"],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNINGS" not in output, output


@pytest.mark.parametrize("relative_path", VENDOR_ASSETS)
def test_vendored_front_end_library_is_built(relative_path: str) -> None:
    found = finders.find(relative_path)
    assert isinstance(found, str), f"static/{relative_path} is missing: run `make assets`"
    assert Path(found).stat().st_size > 1000


def test_every_static_file_a_template_names_exists() -> None:
    project = Path(settings.BASE_DIR)
    template_dirs = [
        directory
        for directory in get_template_directories()
        if directory.is_relative_to(project) and ".venv" not in directory.relative_to(project).parts
    ]
    references = {
        (template.relative_to(directory), name)
        for directory in template_dirs
        for template in directory.rglob("*.html")
        for name in STATIC_TAG.findall(template.read_text(encoding="utf-8"))
    }
    assert references, "no {% static %} references found; has templates/base.html moved?"
    missing = sorted(f"{template}: {name}" for template, name in references if finders.find(name) is None)
    assert missing == []
