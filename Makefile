# Two commands for a fresh machine with Python 3.11 and make: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run test install install-dev lint migrate seed superuser collectstatic backup restore bench cluster faults validators audit

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

# The validators tests/test_conformance.py runs: the Nu HTML Checker and axe-core, pinned in
# tests/validators/package.json. Without npm those tests skip (and fail on CI).
VALIDATORS := tests/validators/node_modules/.installed
validators: $(VALIDATORS)
$(VALIDATORS): tests/validators/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --prefix tests/validators --no-audit --no-fund --silent && touch $@; \
	else echo "npm is not installed: the conformance tests will be skipped"; fi

test: lint validators
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

# docs/deploy.md's setup on this machine (~7 min): a PostgreSQL primary and a streaming replica
# (clusters of their own, in a temporary directory, on ports 5441-5442), two gunicorn
# instances behind nginx (port 8100), Redis db 11; a publisher's edits and the load mix through
# nginx, then the replica stopped under load. Everything it starts is stopped on exit. Installs
# nginx and wrk with apt-get if missing. Writes bench/results/<date>-cluster.md.
# CLUSTER_ARGS="--claims 1000 --load-duration 10" for a try.
cluster: install-dev
	$(BIN)/pip install --quiet -e ".[dev,bench]"
	$(BIN)/python bench/cluster.py $(CLUSTER_ARGS)

# The site under gunicorn while PostgreSQL and Redis, behind a loopback TCP proxy the script
# runs, refuse, hang and come back (about a minute; figures in docs/faults.md). Loads the seed
# into DATABASE_URL (default postgres://postgres@127.0.0.1:5432/cw_h13); uses Redis db 13.
faults: install-dev
	DEBUG=0 SECRET_KEY=collectstatic-only $(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python bench/faults.py $(FAULTS_ARGS)

# Lighthouse's four scores (mobile) for /, /claims/ and a claim page, on the seed under
# gunicorn with DEBUG off (about a minute). Not in `make test`: slow, and its performance
# score varies. AUDIT_ARGS="--record docs/lighthouse.md" writes the table there.
AUDIT := tests/audit/node_modules/.installed
$(AUDIT): tests/audit/package-lock.json
	@# npm ci refuses this lock file (a peer of third-party-web); install honours it.
	npm install --prefix tests/audit --no-save --no-audit --no-fund --silent && touch $@
audit: install $(AUDIT)
	DEBUG=0 SECRET_KEY=collectstatic-only $(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python bench/audit.py $(AUDIT_ARGS)
