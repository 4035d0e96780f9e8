# salesdash: `make run` starts everything on the bundled data; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
export SALESDASH_TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres
PYTEST_ARGS ?= --durations=40
# two pytest-xdist workers (PYTEST_WORKERS=0 runs the suite in this process, serially)
PYTEST_WORKERS ?= 2

.PHONY: run test bench lint security services install system-deps clean help

help:
	@echo "make run    set up .venv, ingest the bundled data if needed, start the API (:5000) and dashboard (:8501)"
	@echo "make test   set up .venv (and chromium, pdftoppm, fonts when missing) and run lint + the security check + the whole test suite"
	@echo "make bench  run the scale benchmarks (writes benchmarks/results and docs/performance.md)"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "salesdash needs Python 3.11 or newer")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: install
	@$(VENV)/bin/salesdash run

lint: install
	@$(VENV)/bin/ruff check src tests benchmarks scripts
	@$(VENV)/bin/ruff format --check src tests benchmarks scripts
	@$(VENV)/bin/mypy src

# bandit (src/), pip check, pip-audit (warns, does not pass silently, when no vulnerability service is reachable)
security: install
	@$(PY) scripts/security_check.py

# the live-orders tests run against the machine's NATS server (JetStream on)
services: install
	@$(PY) scripts/check_nats.py

# chromium, pdftoppm and fonts: apt-get when missing and root, otherwise one line naming what to install
system-deps:
	@scripts/system_deps.sh

# The suite runs on PYTEST_WORKERS processes: each test file whole on one worker, every Spark case on the same
# one (tests/conftest.py's scheduler). The tests must leave the git work tree as they found
# it: the state is compared before and after.
test: install lint security system-deps services
	@before="$$(scripts/worktree_state.sh)"; \
	$(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS); status=$$?; \
	after="$$(scripts/worktree_state.sh)"; \
	if [ "$$before" != "$$after" ]; then \
	  echo "make test: the tests changed the git work tree (tests must write only to tmp or test-artifacts/):"; \
	  git status --short; exit 1; \
	fi; \
	exit $$status

bench: install
	@$(PY) -m benchmarks.run

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build src/*.egg-info

# Spark, the fourth store, runs on Java 17: `make test` installs a headless JRE with apt when java is missing
# (as root), or stops with one line saying what to install.
.PHONY: jre
jre:
	@command -v java >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
		&& apt-get update -qq && apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless >/dev/null; } \
		|| { echo "make: the Spark tests need Java 17: install it (apt-get install openjdk-17-jre-headless)" >&2; exit 1; }

test: jre
