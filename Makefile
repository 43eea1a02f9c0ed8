# `make run` and `make test` work on a fresh machine with Python 3.11 and nothing else.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install migrate demo run test lint format check-deploy bench

$(BIN)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
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

bench: install
	$(BIN)/python bench/run.py
