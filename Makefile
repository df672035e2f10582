# The two commands of the README: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements.lock

.PHONY: run test install lock bench lint clean demo-logins messages

# Installs exactly the locked releases, each checked against its hash (the build backend,
# setuptools and wheel, too), then the project without build isolation: nothing unhashed
# is fetched. A new lock (or pyproject.toml) reinstalls.
$(STAMP): $(LOCK) pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

install: $(STAMP)

## make lock: resolve pyproject.toml (runtime + dev) again into requirements.lock, with every
## file's hash, keeping the pins that still fit; `make lock UPGRADE=1` takes the newest allowed
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
	  --generate-hashes --custom-compile-command "make lock" --quiet \
	  $(if $(UPGRADE),--upgrade) --output-file $(LOCK)
	@$(MAKE) --no-print-directory install

## make run: migrate, load demo data once, start web + worker + beat (Ctrl-C stops all three);
## the URL and the demo logins are printed once /healthz answers ok. honcho gives each
## process its own PORT: BASE_URL (links in mails) is fixed here to the web's address.
run: $(STAMP)
	@$(BIN)/python -m config.check
	@$(BIN)/flask --app web db upgrade
	@$(BIN)/flask --app web seed-demo
	@export PORT=$${PORT:-8000}; h=$${HOST:-127.0.0.1}; [ "$$h" = 0.0.0.0 ] && h=127.0.0.1; \
	  export BASE_URL=$${BASE_URL:-http://$$h:$$PORT}; \
	  ($(BIN)/python -m web.banner --wait &) ; \
	  PATH="$(CURDIR)/$(BIN):$$PATH" exec $(BIN)/honcho start -f Procfile

## make messages: compile the UI's English catalogue (.po -> .mo) with the locked Babel, for a
## developer to commit beside the .po; `make test` never rewrites it (a test checks the two match)
messages: $(STAMP)
	@$(BIN)/pybabel compile -d web/translations >/dev/null

## make test: lint, then the whole suite (SQLite and PostgreSQL; Redis, SMTP and browser tests
## included); the ten-minute soak of make run runs beside it (tests/run.sh)
test: $(STAMP) lint
	@bash tests/ensure_browser.sh
	@PYTEST_ARGS="$(PYTEST_ARGS)" bash tests/run.sh

bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

## make lint: ruff and mypy (part of make test)
lint: $(STAMP)
	$(BIN)/ruff check workflow tasks web config tests bench
	$(BIN)/mypy workflow config web tasks bench

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
