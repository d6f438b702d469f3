# Two commands do all the set-up: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install dirs run test lint messages bench-registrations bench-reminders bench-broker-down clean
# The languages besides English (see LANGUAGES in config/settings.py).
LOCALES := -l fr -l es -l de -l ja -l pt_BR

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

install: $(STAMP)

dirs:
	mkdir -p var/celery/out var/celery/processed var/celery/control

run: install dirs
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo
	$(BIN)/python manage.py create_demo_staff
	@echo "Turnout: http://$(HOST):$(PORT)/  (Ctrl-C stops the web server, the worker and beat)"
	$(BIN)/python -m config.devserver $(HOST):$(PORT)

# Coverage of the application's code is reported, and has a floor (pyproject.toml,
# [tool.coverage.report] fail_under): the run fails below it.
test: install
	$(BIN)/python -m pytest --cov --cov-report=term $(PYTEST_ARGS)

# After changing any user-facing string: update the catalogs, translate what is new
# (tests/test_i18n.py fails until every string is translated), then compile them.
# The compiled .mo files are committed, so `make run` needs no gettext.
messages: install
	$(BIN)/python manage.py makemessages $(LOCALES) --no-obsolete \
		--ignore=.venv --ignore=tests --ignore=bench --ignore=var --ignore=build
	$(BIN)/python manage.py compilemessages $(LOCALES) --ignore=.venv

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench-registrations: install dirs
	$(BIN)/python bench/registrations.py

bench-reminders: install
	$(BIN)/python bench/reminders.py

bench-broker-down: install
	$(BIN)/python bench/broker_down.py

clean:
	rm -rf $(VENV) var staticfiles
