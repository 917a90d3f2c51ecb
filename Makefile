# The two commands a new user needs: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format venv serve worker bench clean

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

## Local demo on the embedded SQLite database: migrate, demo data, admin + API key, then serve
## with one background worker beside the server (both stop on Ctrl-C).
run: export DEBUG = true
run: export PUBLIC_BASE_URL = http://$(HOST):$(PORT)
run: venv
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py bootstrap_demo --base-url http://$(HOST):$(PORT)
	scripts/run-with-worker.sh $(PY) $(HOST):$(PORT)

## Lint, then the whole suite on a real PostgreSQL, then once more on SQLite.
test: venv lint
	scripts/ensure-test-tools.sh
	scripts/with-postgres.sh $(PY) -m pytest
	env -u DATABASE_URL $(PY) -m pytest

## Production configuration under gunicorn (see README "Security and operations").
## With DATABASE_OWNER_URL, migrations run as that owner role and DATABASE_URL's role gets only
## what the app needs (docs/operations.md).
serve: venv
	@test -n "$$DATABASE_URL" || { echo "make serve needs DATABASE_URL (PostgreSQL)" >&2; exit 2; }
	$(PY) manage.py check --deploy --fail-level WARNING
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py migrate_and_grant
	$(BIN)/gunicorn techparts.wsgi --bind $(HOST):$(PORT) --workers $${WEB_CONCURRENCY:-2} \
		--worker-class gthread --threads $${GUNICORN_THREADS:-4} \
		--timeout 30 --graceful-timeout 30 --forwarded-allow-ips "$${FORWARDED_ALLOW_IPS:-127.0.0.1}"

## A production background worker (docs/operations.md "Background work"): run one or more
## beside `make serve`, on any machines sharing its database. Each makes sure the sweeper is
## scheduled, then runs tasks from the default queue. TASKS_BACKEND=rq: an rq worker on
## REDIS_URL instead (forking, so without the connection pool).
worker: venv
	@test -n "$$DATABASE_URL" || { echo "make worker needs DATABASE_URL (PostgreSQL)" >&2; exit 2; }
	@if [ "$${TASKS_BACKEND:-db}" = rq ]; then \
		set -e; export DB_POOL=false; $(PY) manage.py ensure_sweeper >/dev/null; \
		exec $(PY) manage.py rqworker default --with-scheduler --job-class django_tasks_rq.Job; \
	else \
		exec $(PY) manage.py db_worker --queue-name default --no-reload; \
	fi

## Benchmark suite (not part of `make test`): the production configuration under load, each
## endpoint against its bare floor view; table in bench-results/ (docs/performance.md).
## BENCH_QUICK=1 for a short run.
bench: venv
	scripts/ensure-bench-tools.sh
	scripts/with-postgres.sh $(PY) -m bench

## Ruff, then the app layers (docs/architecture.md): a wrong import between apps fails here.
lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-logo

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) db.sqlite3 var staticfiles .pytest_cache .ruff_cache test-artifacts
