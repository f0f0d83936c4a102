# Two commands: `make run` and `make test`. Everything they need is set up on the way.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
FLASK  := APP_ENV=development $(BIN)/flask --app petition

.PHONY: install run test test-postgres clean extract update-translations compile-translations bench export-sample

# Compiled catalogues (.mo) are built from the .po files in git, by run and test alike.
PYBABEL   := $(BIN)/pybabel
CATALOGUES := $(patsubst %.po,%.mo,$(wildcard translations/*/LC_MESSAGES/messages.po))

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# axe-core and the Nu HTML Checker (vnu-jar, run with the system Java) for the accessibility tests.
NODE_STAMP := node_modules/.installed-stamp
# Without npm the suite still runs, and those checks say they are skipped.
$(NODE_STAMP): package.json package-lock.json
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not found: the accessibility checks (axe-core, vnu-jar) will be skipped"; fi

%.mo: %.po | $(STAMP)
	$(PYBABEL) compile --statistics -i $< -o $@

## Translations. `make extract` collects every marked string into translations/messages.pot,
## `make update-translations` merges it into each language (new strings arrive empty: translate them),
## `make compile-translations` builds what the app reads. New language: see the README.
extract: install
	$(PYBABEL) extract -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 --add-comments=Translators: \
		--sort-by-file --width=100 --project=petition -o translations/messages.pot .

update-translations: extract
	$(PYBABEL) update -i translations/messages.pot -d translations --no-fuzzy-matching --width=100 --ignore-obsolete
	$(BIN)/python scripts/catalogues.py fill-english
	$(BIN)/python scripts/catalogues.py check || true

compile-translations: $(CATALOGUES)

## Serve the app on http://127.0.0.1:5000 with SQLite in instance/, demo data, mail to the outbox.
run: install $(CATALOGUES)
	$(FLASK) init-db
	$(FLASK) demo
	$(FLASK) run --debug --host 127.0.0.1 --port 5000

# One worker more than cores: many tests wait on PostgreSQL, Chromium, Java or SMTP.
WORKERS ?= $(shell $(PYTHON) -c 'import os; print(min(8, (os.cpu_count() or 1) + 1))')

## The whole suite (SQLite; PostgreSQL too when TEST_DATABASE_URL is set).
test: install $(CATALOGUES) $(NODE_STAMP)
	$(BIN)/python -m pytest -n $(WORKERS) --dist worksteal

## Load figures (benchmarks/load.py): the public pages against a ceiling, the endorse POST against
## BENCH_BASELINE (the last commit before the speed work), mail delivered, the signed letter at 10,000.
BENCH_BASELINE ?= f0a801d
bench: install $(CATALOGUES)
	$(BIN)/python benchmarks/load.py --baseline $(BENCH_BASELINE) $(BENCH_OPTIONS)

## A sample of the signed letter as a PDF: the demo letter, signed with a key made for the demo
## if instance/ has none yet, written to instance/sample-signed-letter.pdf.
export-sample: install $(CATALOGUES)
	$(FLASK) init-db
	$(FLASK) demo
	$(FLASK) signing-key generate || echo "Keeping the signing key already in instance/signing."
	$(FLASK) export-pdf malaysia/ratify-op-icescr --output instance/sample-signed-letter.pdf

clean:
	rm -rf $(VENV) .pytest_cache node_modules
