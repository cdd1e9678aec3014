# One command per habit. Everything installs into a project-local venv (.venv) on first use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run chat playground test check-content eval bench lint clean venv

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

## Start the bot on http://127.0.0.1:3978/api/messages (in-memory state, anonymous local mode).
run: $(STAMP)
	$(PY) app.py

## Talk to the bot in the terminal, through the same HTTP turn pipeline Teams uses.
chat: $(STAMP)
	$(PY) tools/chat.py

## Validate the knowledge content (schema, ids, coverage, reviews).
check-content: $(STAMP)
	$(PY) -m knowledge.check

## Run every test (content check first).
test: $(STAMP)
	$(PY) -m knowledge.check
	$(PY) -m pytest -q

clean:
	rm -rf $(VENV) .pytest_cache
