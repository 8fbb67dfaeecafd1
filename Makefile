# The two commands: `make run` starts the whole CRM; `make test` runs the whole suite.
.DEFAULT_GOAL := help
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
# The first Python >= 3.12 found (3.13 preferred); override with `make PYTHON=/path/to/python3.13`.
PYTHON ?= $(shell for p in python3.13 python3.12 $$HOME/.pyenv/versions/3.13*/bin/python3.13 \
	$$HOME/.pyenv/versions/3.12*/bin/python3.12 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null \
	&& { command -v $$p; break; }; done)

help:
	@echo "make run    start the CRM (web, Celery worker and beat) with demo data"
	@echo "make test   run the whole test suite (unit, integration, browser)"
	@echo "make lint   the pre-commit hooks: ruff, import contracts, mypy, migrations, djLint"
	@echo "make bench  print page timings and query counts"
	@echo "make bench-mail  a mailing to 10,000 contacts through a local SMTP sink: messages/s with 1, 2, 4 connections"
	@echo "make mutation  mutation testing of the safety mechanisms (mutmut; score per file)"
	@echo "make lighthouse  Lighthouse 12 (mobile and desktop) over the main pages of a running CRM, signed in"
	@echo "make loadtest  Locust over HTTP against gunicorn: 50 users, then saturation (seeded DATABASE_URL)"
	@echo "make audit  pip-audit: known vulnerabilities in the pinned requirements (needs the package index)"
	@echo "make backup a consistent backup under var/backups/; make restore BACKUP=... restores one"

$(VENV)/.installed: requirements.txt
	@test -n "$(PYTHON)" || { echo "Python 3.12 or 3.13 is required (set PYTHON=...)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(VENV)/.installed node_modules/.installed

run: setup
	$(PY) stack.py run

test: setup
	$(PY) stack.py test $(PYTEST_ARGS)

# A consistent backup (database snapshot, uploaded files, manifest) under var/backups/.
backup: setup
	$(PY) stack.py backup

# Restores BACKUP=var/backups/crm-... into an empty database (docs/operations.md).
restore: setup
	@test -n "$(BACKUP)" || { echo "Say which backup: make restore BACKUP=var/backups/crm-YYYYMMDD-HHMMSS"; exit 1; }
	$(PY) stack.py restore $(BACKUP)

# The hooks in .pre-commit-config.yaml, over the whole tree: ruff, import contracts, mypy,
# makemigrations --check (through stack.py) and djLint.
lint: setup
	$(VENV)/bin/pre-commit run --all-files

bench: setup
	$(PY) stack.py manage bench

# Not part of `make test`: mailing throughput against aiosmtpd on 127.0.0.1 (marketing/management/commands/
# bench_mailing.py, docs/benchmarks.md), e.g. make bench-mail BENCH_MAIL_ARGS="--recipients 2000 --connections 1".
bench-mail: setup
	$(PY) stack.py manage bench_mailing $(BENCH_MAIL_ARGS)

# mutmut over the visibility policies, the mail outbox, the job claims and the scheduler
# ([tool.mutmut] in pyproject.toml); prints killed/survived per file and the score. tools/mutation.py.
mutation: setup
	$(PY) tools/mutation.py

# Not part of `make test`: two bounded Locust runs against gunicorn (demo/loadtest/run.py, docs/benchmarks.md).
loadtest: setup
	$(PY) demo/loadtest/run.py $(LOADTEST_ARGS)

# Not part of `make test`: Lighthouse 12 over the main pages of a running CRM (tools/lighthouse.py,
# docs/benchmarks.md), e.g. make lighthouse LIGHTHOUSE_ARGS="http://127.0.0.1:8000 manager@demo.crm".
lighthouse: setup
	$(PY) tools/lighthouse.py $(or $(LIGHTHOUSE_ARGS),http://127.0.0.1:8000)

# pip-audit over requirements.txt and the installed .venv: fails on a known vulnerability, says
# "skipped" (and passes) when the index's vulnerability data cannot be reached. tools/pip_audit.py.
audit: setup
	$(PY) tools/pip_audit.py

.PHONY: help setup run test lint bench bench-mail lighthouse loadtest audit mutation backup restore
