# Two commands: `make run` and `make test`. Everything they need is set up on the way.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
FLASK  := APP_ENV=development $(BIN)/flask --app petition

.PHONY: install run test test-postgres clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Serve the app on http://127.0.0.1:5000 with SQLite in instance/, demo data, mail to the outbox.
run: install
	$(FLASK) init-db
	$(FLASK) demo
	$(FLASK) run --debug --host 127.0.0.1 --port 5000

## The whole suite (SQLite; PostgreSQL too when TEST_DATABASE_URL is set).
test: install
	$(BIN)/python -m pytest -n auto --maxprocesses=4

clean:
	rm -rf $(VENV) .pytest_cache
