# Two commands for a fresh machine with Python 3.11 and make: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run test install install-dev lint migrate seed superuser collectstatic backup restore bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Each stamp is rebuilt when pyproject.toml changes, so a new dependency installs itself.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py migrate --noinput

seed: migrate
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py loaddata fixtures/seed.json

# The first editor: asks for a username, e-mail and password. DEBUG is on, as for `make run`,
# unless set, so no SECRET_KEY is needed locally; in production run it with the site's settings.
superuser: migrate
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py createsuperuser

run: seed
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

# A restorable dump of the database named by DATABASE_URL (see `manage.py backup`).
backup: install
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py backup

# Loads a dump into a migrated, empty database: `make restore FILE=backups/claimwatch-….json`.
restore: migrate
	@test -n "$(FILE)" || { echo "Usage: make restore FILE=backups/claimwatch-YYYYmmdd-HHMMSS.json"; exit 2; }
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py restore "$(FILE)"

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	DEBUG=1 $(BIN)/python manage.py check
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run
	DEBUG=0 SECRET_KEY=collectstatic-only $(BIN)/python manage.py collectstatic --noinput --verbosity 0
	DEBUG=0 SECRET_KEY=test-only-not-secret $(BIN)/pytest $(PYTEST_ARGS)

# Claimwatch against Datasette and a trivial view at 10k and 100k claims (~20 min): needs
# PostgreSQL on 127.0.0.1:5432 and Redis (started if absent); installs wrk with apt-get if
# missing. Writes bench/results/<date>-<n>.md. BENCH_ARGS="--sizes 1000 --duration 3" for a try.
bench: install-dev
	$(BIN)/pip install --quiet -e ".[dev,bench]"
	$(BIN)/python bench/run.py $(BENCH_ARGS)
