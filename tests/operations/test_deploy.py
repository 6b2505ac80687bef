"""deploy/: the systemd units, the Procfile and the nginx site parse, and every command they run is real."""

from __future__ import annotations

import configparser
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
from celery.bin.base import CLIContext
from celery.bin.celery import celery as celery_command
from django.conf import settings

from config.celery import app as celery_app
from conftest import missing_requirement
from tests.operations.processes import REPOSITORY

DEPLOY = REPOSITORY / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
APP = "/srv/zhenxing/app"
VENV_BIN = Path(sys.executable).parent
DEFAULT = re.compile(r"\$\{\w+:-([^}]*)\}")


def unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser


def assert_runs_here(arguments: list[str], environment: dict[str, str]) -> None:
    """The command's program is in our virtualenv, and its arguments are accepted by the real program."""
    program, *rest = arguments
    assert (VENV_BIN / Path(program).name).exists(), program
    name = Path(program).name
    if name == "gunicorn":
        # --check-config loads the WSGI application with every option, then exits.
        result = subprocess.run(
            [str(VENV_BIN / "gunicorn"), "--check-config", *rest],
            cwd=REPOSITORY,
            env={**os.environ, **environment},
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr
    elif name == "celery":
        assert rest[:2] == ["-A", "config"], rest
        subcommand_name, *subcommand_arguments = rest[2:]
        assert subcommand_name in {"worker", "beat"}
        subcommand = celery_command.get_command(click.Context(celery_command), subcommand_name)
        assert subcommand is not None
        parent = click.Context(celery_command, obj=CLIContext(app=celery_app, no_color=True, workdir=None))
        subcommand.make_context(subcommand_name, subcommand_arguments, parent=parent)  # raises on a bad option
    elif name == "python":
        assert rest[0] == "manage.py"
        from django.core.management import get_commands

        assert rest[1] in get_commands()
    else:
        raise AssertionError(f"unexpected program {program}")


def production_environment(extra: dict[str, str]) -> dict[str, str]:
    return {"SECRET_KEY": "x" * 64, "ALLOWED_HOSTS": "zhenxing.example.gov.cn", **extra}


def test_there_are_units_for_the_web_the_worker_and_the_beat() -> None:
    assert [path.name for path in UNITS] == ["zhenxing-beat.service", "zhenxing-web.service", "zhenxing-worker.service"]


@pytest.mark.parametrize("path", UNITS, ids=lambda path: path.name)
def test_each_unit_parses_and_runs_a_real_command_from_the_application_directory(path: Path) -> None:
    parsed = unit(path)
    assert set(parsed.sections()) == {"Unit", "Service", "Install"}
    service: Any = parsed["Service"]
    assert service["WorkingDirectory"] == APP
    assert service["EnvironmentFile"] == "/etc/zhenxing/zhenxing.env"
    assert service["User"] == "zhenxing" and parsed["Install"]["WantedBy"] == "multi-user.target"
    environment = dict(item.split("=", 1) for item in shlex.split(service["Environment"]))
    assert environment == {"DJANGO_SETTINGS_MODULE": "config.settings.prod"}
    command = shlex.split(service["ExecStart"])
    assert command[0].startswith(f"{APP}/.venv/bin/")
    assert_runs_here(command, production_environment(environment))


def test_the_procfile_runs_the_same_processes_with_real_commands() -> None:
    lines = [line for line in (DEPLOY / "Procfile").read_text().splitlines() if line and not line.startswith("#")]
    processes = dict(line.split(": ", 1) for line in lines)
    assert set(processes) == {"release", "web", "worker", "beat"}
    for command in processes.values():
        assert_runs_here(shlex.split(DEFAULT.sub(r"\1", command)), production_environment({}))


def nginx_site() -> str:
    return (DEPLOY / "nginx" / "zhenxing.conf").read_text(encoding="utf-8")


def test_nginx_takes_an_upload_of_the_largest_size_the_application_accepts() -> None:
    limit = re.search(r"client_max_body_size\s+(\d+)m;", nginx_site())
    assert limit is not None
    upload_mb = settings.IMPORT_MAX_UPLOAD_BYTES // (1024 * 1024)
    assert upload_mb < int(limit.group(1)) <= upload_mb + 10


def test_nginx_serves_the_collected_static_files_and_proxies_the_rest_to_gunicorn() -> None:
    site = nginx_site()
    assert re.search(r"location /static/ \{\s*alias " + re.escape(f"{APP}/{Path(settings.STATIC_ROOT).name}/;"), site)
    web = shlex.split(unit(DEPLOY / "systemd" / "zhenxing-web.service")["Service"]["ExecStart"])
    bind = web[web.index("--bind") + 1]
    assert f"server {bind} fail_timeout=0;" in site
    assert "/media/" not in site  # uploads and exports are personal data: only the application hands them out


def test_nginx_accepts_the_site_configuration(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx is None:
        missing_requirement("nginx (apt-get install nginx-light)")
    certificate, key = tmp_path / "fullchain.pem", tmp_path / "privkey.pem"
    openssl = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
    openssl += ["-subj", "/CN=zhenxing.example.gov.cn", "-keyout", str(key), "-out", str(certificate)]
    subprocess.run(openssl, check=True, capture_output=True)
    site = nginx_site().replace("/etc/zhenxing/tls/fullchain.pem", str(certificate))
    site = site.replace("/etc/zhenxing/tls/privkey.pem", str(key))
    (tmp_path / "site.conf").write_text(site, encoding="utf-8")
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log {tmp_path}/access.log;\n  include {tmp_path}/site.conf;\n}}\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr
