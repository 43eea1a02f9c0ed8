# `make run` and `make test` work on a fresh machine with Python 3.11 and nothing else.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install migrate demo run test lint format check-deploy bench lock audit

# requirements.txt: what production installs (run-time only); requirements-dev.txt: that plus the
# test and development tools. Both are pip-tools locks with hashes, made by `make lock` from
# requirements*.in; pip checks every file it installs against them.
$(BIN)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.txt
	touch $@

install: $(BIN)/.installed

# The demo runs with DEBUG on (a development server, console email) unless told otherwise.
run demo migrate: export DEBUG ?= true

migrate: install
	mkdir -p var
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py load_plan plans/*.yaml
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py seed_demo_contracts
	$(BIN)/python manage.py seed_demo_incidents
	$(BIN)/python manage.py seed_demo_knowledge

# The web server's port (`make run PORT=8001`, or PORT in the environment); honcho hands it to
# the Procfile's web line.
PORT ?= 8000
run: export SITE_URL ?= http://127.0.0.1:$(PORT)

# One honcho, exec'd: a signal to the process group (Ctrl-C, SIGTERM) reaches it, it stops web,
# worker and beat, and make exits. No fallback after it: a `|| honcho …` would see the stopped
# honcho's non-zero status and start the whole stack again, detached from the terminal.
run: demo
	@echo "Starting web (http://127.0.0.1:$(PORT)), Celery worker and beat; Ctrl-C stops all."
	exec $(BIN)/honcho start --no-prefix -f Procfile --port $(PORT)

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Small sizes by default (a few minutes): the ratios to the same-run baselines are what count
# (docs/performance.md). `make bench BENCH_FLAGS=--full` for the targets' sizes; --peers adds
# django-helpdesk side by side.
bench: install
	$(BIN)/python bench/run.py $(BENCH_FLAGS)

# Re-resolve both locks after editing requirements.in or requirements-dev.in (needs the package
# index). Versions already locked are kept unless a .in file asks for another.
LOCK := CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet --generate-hashes \
	--allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links
lock: install
	$(LOCK) --output-file requirements.txt requirements.in
	$(LOCK) --output-file requirements-dev.txt requirements-dev.in

# Known vulnerabilities in the locked pins: offline against AUDIT_DB (an OSV snapshot: OSV's
# PyPI all.zip, or a PyPA advisory-database checkout) when set, else online via pip-audit.
# Exit 0 clean, 1 vulnerable (listed), 2 could not check.
audit: install
	$(BIN)/python scripts/audit.py requirements.txt requirements-dev.txt
