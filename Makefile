# Two commands that work on a fresh machine: `make run` and `make test`.
# Everything they need (virtualenv, packages, Chromium, xmlsec1, PostgreSQL) is installed here.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CONFIG ?= config/inloghulp.toml
export NO_MKDOCS_2_WARNING := 1
export INLOGHULP_CONFIG := $(CONFIG)

.PHONY: run test lint build system-deps conformance chaos bench load clean site-canary

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# Debian packages the tests drive: a real browser, the independent xmlsec1 tool and Lasso, a real PostgreSQL,
# and promtool (package prometheus) for the alert rules.
system-deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v xmlsec1 >/dev/null 2>&1 || missing="$$missing xmlsec1"; \
	command -v promtool >/dev/null 2>&1 || missing="$$missing prometheus"; \
	/usr/bin/python3 -c 'import lasso' >/dev/null 2>&1 || missing="$$missing python3-lasso"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	fc-list 2>/dev/null | grep -qi dejavu || missing="$$missing fonts-dejavu-core"; \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

var/keys/sp-key.pem: | $(BIN)/.installed
	$(BIN)/inloghulp init-keys --config $(CONFIG)

build: $(BIN)/.installed var/keys/sp-key.pem
	$(BIN)/inloghulp build --config $(CONFIG)

run: build
	$(BIN)/inloghulp serve --config $(CONFIG) --host 127.0.0.1 --port 8000

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict diagnostics
	$(BIN)/lint-imports

test: $(BIN)/.installed system-deps lint build
	$(BIN)/pytest -q

# Hostile and broken SAML responses through the checker: one row per case, then "N passed, 0 failed".
# The same cases run inside `make test` as ordinary pytest tests (tests/conformance/).
conformance: $(BIN)/.installed
	$(BIN)/python -m tests.conformance.run

# Faults against real processes: hanging, failing and slow brokers, a locked and a deleted SQLite file, a
# PostgreSQL restart during round trips. One row per fault, then "N passed, M failed" (README "Chaos").
# The same faults run inside `make test` as ordinary pytest tests (tests/chaos/).
chaos: $(BIN)/.installed system-deps
	$(BIN)/python -m tests.chaos.run

# Checking one signed, encrypted response: our in-process checker vs pysaml2's xmlsec1 backend vs the RSA floor.
bench: $(BIN)/.installed system-deps
	$(BIN)/python -m bench.acs

# Concurrent complete round trips against the simulator, SQLite vs PostgreSQL (README "Operations").
load: $(BIN)/.installed system-deps build
	$(BIN)/python -m bench.load

# The help site built with Zensical beside MkDocs: which pages, ids and theme overrides differ (README
# "Van MkDocs Material naar Zensical"). Reports and exits 0 when they differ; 2 only when it cannot run.
site-canary: build
	$(BIN)/python tools/site_canary.py

clean:
	rm -rf $(VENV) site build var
