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

run: demo
	@echo "Starting web (http://127.0.0.1:8000), Celery worker and beat; Ctrl-C stops all."
	$(BIN)/honcho --no-prefix -f Procfile start 2>/dev/null || $(BIN)/honcho -f Procfile start

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
