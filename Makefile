# 振兴台账 — developer and CI entry points. `make run` works on a fresh clone with no configuration:
# SQLite file db.sqlite3, Celery tasks in process. `make test` is what CI runs (see .ci/run).
#
# Under CI=true no test may be skipped for a missing server or browser: scripts/with-services exits
# with an error when PostgreSQL or Redis binaries are missing, and the root conftest.py turns a
# missing Chromium into a failure instead of a skip.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
# `make test` must run its steps in order and stop at the first failure, even under `make -j`.
.NOTPARALLEL:

PYTHON ?= python3
# Where `make run` serves; ADDRESS=127.0.0.1:8001 when 8000 is taken.
ADDRESS ?= 127.0.0.1:8000
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
# Rewritten whenever a requirements file changes, so dependencies are installed only then.
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
VENDOR := static/vendor
VENDOR_STAMP := $(VENDOR)/.built

# One process by default: on 2 cores, `-n 2` measured slower (each worker migrates its own test
# database and the browser tests compete for CPU with Chromium). PYTEST_WORKERS=2 turns xdist on.
PYTEST_WORKERS ?= 0
PYTEST_ARGS ?=
PYTEST := $(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

.PHONY: help install assets run lint test test-sqlite test-postgres

help:
	@echo "make run            install what is missing, migrate, seed demo data, serve on $(ADDRESS)"
	@echo "make test           lint, then the test suite on SQLite, then on PostgreSQL + Redis"
	@echo "make lint           ruff check, ruff format --check, mypy, makemigrations --check"
	@echo "make test-sqlite    the test suite on the embedded default (SQLite, eager Celery)"
	@echo "make test-postgres  the test suite on a throwaway PostgreSQL + Redis (scripts/with-services)"
	@echo "make install        create .venv and install requirements-dev.txt"
	@echo "make assets         npm ci and copy the front-end libraries into static/vendor"

$(PY):
	$(PYTHON) -m venv $(VENV)

$(PY_STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --disable-pip-version-check --quiet -r requirements-dev.txt
	touch $@

install: $(PY_STAMP)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# Only the built files the templates load (and axe-core, which the browser tests inject to check
# accessibility); their source maps come along so browser tools stay quiet.
$(VENDOR_STAMP): $(NODE_STAMP) Makefile
	rm -rf $(VENDOR)
	mkdir -p $(VENDOR)/bootstrap $(VENDOR)/htmx $(VENDOR)/echarts $(VENDOR)/axe
	cp node_modules/bootstrap/dist/css/bootstrap.min.css $(VENDOR)/bootstrap/
	cp node_modules/bootstrap/dist/js/bootstrap.bundle.min.js $(VENDOR)/bootstrap/
	for map in node_modules/bootstrap/dist/css/bootstrap.min.css.map \
	           node_modules/bootstrap/dist/js/bootstrap.bundle.min.js.map; do \
	    if [[ -f "$$map" ]]; then cp "$$map" $(VENDOR)/bootstrap/; fi; \
	done
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx/
	cp node_modules/echarts/dist/echarts.min.js $(VENDOR)/echarts/
	cp node_modules/axe-core/axe.min.js $(VENDOR)/axe/
	touch $@

assets: $(VENDOR_STAMP)

run: $(PY_STAMP) $(VENDOR_STAMP)
	$(PY) manage.py migrate --no-input
	$(PY) manage.py seed_demo --if-empty
	$(PY) manage.py seed_coverage_targets
	$(PY) manage.py seed_fund_targets
	$(PY) manage.py seed_targets
	$(PY) manage.py runserver $(ADDRESS)

lint: $(PY_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py makemigrations --check --dry-run

test: lint test-sqlite test-postgres

# The embedded default, whatever the developer's shell exports.
test-sqlite: $(PY_STAMP) $(VENDOR_STAMP)
	env -u DATABASE_URL -u REDIS_URL $(PYTEST)

# No autovacuum in the test cluster: tests build their data inside transactions that never commit, and a
# VACUUM that runs meanwhile records the table as empty (reltuples 0) over the statistics the writer just
# took (regions/db.py), so the next query is planned for one row a table and nested-loops for minutes
# (seen: the 联农带农 figure, 600 s, test timeout). Benchmarks keep the server's defaults.
test-postgres: $(PY_STAMP) $(VENDOR_STAMP)
	WITH_SERVICES_PG_OPTIONS="-c autovacuum=off" scripts/with-services $(PYTEST)
