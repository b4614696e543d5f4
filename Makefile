# Ops Portal — the two commands are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PORT

.PHONY: run test lint format check migrations-check deploy-check schema-check install clean

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

check: lint migrations-check deploy-check schema-check test

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache *.egg-info
