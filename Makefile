# Two commands from a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell for p in python3.13 python3.12 /root/.pyenv/versions/3.13*/bin/python3.13 /root/.pyenv/versions/3.12*/bin/python3.12; do \
            command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; assert sys.version_info >= (3, 12)' 2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
REDIS ?= redis://127.0.0.1:6379/0
PYTEST_FLAGS ?=

.PHONY: install run test test-services bench lint lock messages clean e2e

$(VENV)/.installed: pyproject.toml requirements.lock
	@test -n "$(PYTHON)" || { echo "Python >= 3.12 is required (Django 6.1)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c requirements.lock -e '.[dev]'
	touch $@

install: $(VENV)/.installed

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --if-empty
	SECURE_COOKIES=0 $(VENV)/bin/daphne -b $(HOST) -p $(PORT) config.asgi:application

# Browser tests run in their own pytest process: Playwright's sync API keeps an event loop
# running in the main thread, which the asyncio (websocket) tests must not inherit.
test: install
	$(PY) -m pytest --ignore=tests/e2e $(PYTEST_FLAGS)
	$(PY) -m pytest tests/e2e $(PYTEST_FLAGS)

# The suite against the real services: PostgreSQL for the database, Redis for the channel layer.
test-services: install
	DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS) $(PY) -m pytest --ignore=tests/e2e $(PYTEST_FLAGS)
	DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS) $(PY) -m pytest tests/e2e $(PYTEST_FLAGS)

bench: install
	$(PY) bench/run.py --small

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) manage.py makemigrations --check --dry-run

messages: install
	$(PY) manage.py makemessages -l zh_Hans -l en --no-obsolete --ignore '.venv/*' --ignore 'var/*'
	$(PY) manage.py compilemessages --ignore '.venv/*'

lock: install
	{ echo "# Pinned constraints for every package installed in .venv (pip freeze of the resolved set)."; \
	  echo "# Regenerate with: make lock"; $(PY) -m pip freeze --exclude-editable; } > requirements.lock

clean:
	rm -rf $(VENV) var
