# Ops Portal — the two commands are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PORT

.PHONY: run test test-full lint format check migrations-check deploy-check schema-check install clean audit-deps bench-import

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@

install: $(VENV)/.installed

## make run: migrate, create roles, seed demo data into an empty database, start web + worker + beat.
run: install
	mkdir -p var
	$(PY) manage.py migrate --noinput
	$(PY) manage.py setup_roles
	$(PY) manage.py seed_demo --if-empty
	exec $(PY) manage.py runportal --port $(PORT)

## make test: the whole suite (PostgreSQL and Redis when DATABASE_URL / CELERY_BROKER_URL are set).
test: install
	$(PY) -m pytest $(PYTEST_ARGS)

## make test-full: the whole suite with the fuzz harnesses at full size (FUZZ_FULL=1); make test runs a slice of them.
test-full: install
	FUZZ_FULL=1 $(PY) -m pytest -m "fuzz or not fuzz" $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

migrations-check: install
	$(PY) manage.py makemigrations --check --dry-run

deploy-check: install
	DJANGO_ENV=production DJANGO_SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" \
	DJANGO_ALLOWED_HOSTS=portal.example.com $(PY) manage.py check --deploy --fail-level WARNING

schema-check: install
	$(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null

## make audit-deps: every pinned package checked against the PyPI vulnerability service; fails on a known
## vulnerability and on any package the service could not look up (nothing passes unchecked).
audit-deps: install
	$(VENV)/bin/pip-audit -r constraints.txt --no-deps --disable-pip -s pypi --progress-spinner off --strict

check: lint migrations-check deploy-check schema-check test

## make bench-import: imports and exports side by side with PostgreSQL COPY (not part of make test).
bench-import: install
	$(PY) bench/bench_import.py
	$(PY) bench/bench_export.py

## make bench: the portal at 1,000,000 rows per big table beside its floors (not part of make test; seeds once).
.PHONY: bench
bench: install
	$(PY) -u bench/bench_scale.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache *.egg-info
