# One command per habit. Everything installs into a project-local venv (.venv) on first use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: artefacts run chat playground teams-package npm test check-content eval bench fuzz load audit lint clean venv azurite

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

# Node dev tools (Agents Playground, Teams manifest schemas, Adaptive Cards validator), exactly as
# package-lock.json pins them; reinstalled only when the lock file changes.
NPM_STAMP := node_modules/.installed
$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NPM_STAMP)

npm: $(NPM_STAMP)

## Azurite (the Azure Storage emulator) on 127.0.0.1:10000 for BOT_STORAGE=blob; prints the connection string.
azurite: $(STAMP) $(NPM_STAMP)
	$(PY) tools/azurite.py

# Trained artefacts (the FAQ classifier, and any other model built from the content) in
# build/artefacts, each named by a hash of what it learned from (knowledge/artefacts.py). Rebuilt
# only when the content or the code that reads it changes; start-up then loads them (0.2 s)
# instead of training (12 s idle, over a minute on a busy machine).
ARTEFACTS := build/artefacts/.built
$(ARTEFACTS): $(STAMP) requirements.txt $(shell find knowledge -name '*.py' -o -name '*.yaml' 2>/dev/null)
	@echo "Building the trained artefacts from knowledge/content (once per content change)..."
	$(PY) -m knowledge.artefacts build
	@touch $@

artefacts: $(ARTEFACTS)

## Start the bot on http://127.0.0.1:3978/api/messages (in-memory state, anonymous local mode).
run: $(STAMP) $(ARTEFACTS)
	$(PY) app.py

## Talk to the bot in the terminal, through the same HTTP turn pipeline Teams uses (starts its
## own bot in-process; `make chat URL=http://127.0.0.1:3978/api/messages` talks to `make run`'s).
chat: $(STAMP) $(ARTEFACTS)
	$(PY) tools/chat.py $(if $(URL),--url $(URL))

## Start the bot and Microsoft 365 Agents Playground (a Teams-like page) on 127.0.0.1; Ctrl-C stops both.
playground: $(STAMP) $(NPM_STAMP) $(ARTEFACTS)
	$(PY) tools/playground.py

## Build build/teams-app.zip (manifest + icons) with the bot's app id from MicrosoftAppId.
teams-package: $(STAMP)
	$(PY) tools/teams_package.py

## Validate the knowledge content (schema, ids, coverage, reviews).
check-content: $(STAMP)
	$(PY) -m knowledge.check

## Measure FAQ matching on tests/eval/questions.yaml: the bot next to a naive rapidfuzz baseline.
eval: $(STAMP)
	$(PY) -m tests.eval.run_eval

## Time the hot paths: every bench/bench_*.py (prints tables; no pass/fail).
bench: $(STAMP) $(ARTEFACTS)
	@for f in bench/bench_*.py; do echo "== $$f"; $(PY) -m bench.$$(basename $$f .py) || exit 1; done

## Longer fuzz of /api/messages (100,000 seeded cases; FUZZ_CASES / FUZZ_SEED to change).
fuzz: $(STAMP)
	FUZZ_CASES=$${FUZZ_CASES:-100000} $(PY) -m pytest -q -s tests/hardening/test_fuzz.py

## Bounded loopback load test: messages/s and p99, with and without one slow serviceUrl.
load: $(STAMP)
	$(PY) tools/load.py

## Check pinned requirements against known-fixed minimums and what pip can see (no other network).
audit: $(STAMP)
	$(PY) tools/audit.py

## Lint the Python (ruff: pyflakes and pycodestyle errors).
lint: $(STAMP)
	$(VENV)/bin/ruff check .

## Run every test (lint and content check first).
test: $(STAMP) $(NPM_STAMP) $(ARTEFACTS)
	$(VENV)/bin/ruff check .
	$(PY) -m knowledge.check
	$(PY) -m pytest -q

clean:
	rm -rf $(VENV) .pytest_cache build
