# Two commands matter: `make run` and `make test`. Everything they need is installed on the way.
SHELL := /bin/bash
PYTHON ?= python3
COPILOT_CACHE ?= $(HOME)/.cache/freshdesk-copilot
export COPILOT_CACHE
WHEELS := $(COPILOT_CACHE)/wheels
DEPS_KEY := $(shell $(PYTHON) scripts/requirements.py --key)
VENV := $(COPILOT_CACHE)/venv-$(DEPS_KEY)
PY := $(VENV)/bin/python
RUN := PYTHONPATH=$(CURDIR) HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 $(PY)

.PHONY: run test test-unit lint stack-up stack-down stack-status clean system venv

venv: $(VENV)/.ready
	@ln -sfn $(VENV) .venv
	@PYTHONPATH=$(CURDIR) $(PY) scripts/tokenizer_data.py  # OpenAI vocabularies, from the npm registry, once

# The virtualenv lives outside the clone, keyed by the dependency list: torch alone is gigabytes, and a
# fresh clone (CI) with the same dependencies reuses it. Older keys are pruned. Wheels are kept in a cache of
# our own (the registry's answers are not cacheable by pip), so a new key installs without downloading again.
$(VENV)/.ready:  # the path's hash already names the dependency list, so the stamp alone says it is current
	@mkdir -p $(COPILOT_CACHE)
	@find $(COPILOT_CACHE) -maxdepth 1 -name 'venv-*' ! -name 'venv-$(DEPS_KEY)' -exec rm -rf {} + 2>/dev/null || true
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PYTHON) scripts/requirements.py > $(VENV)/requirements.txt
	$(PY) -m pip install -q --no-index --find-links $(WHEELS) -r $(VENV)/requirements.txt 2>/dev/null || { \
	  $(PY) -m pip download -q -d $(WHEELS) -r $(VENV)/requirements.txt && \
	  $(PY) -m pip install -q --no-index --find-links $(WHEELS) -r $(VENV)/requirements.txt; }
	@touch $@

# Debian packages the stack runs: redis-server, a JRE and Maven for the Kafka broker.
system:
	@bash scripts/system-deps.sh

run: system venv
	$(RUN) -m copilot stack up
	$(RUN) -m copilot run --demo

test: system venv
	$(RUN) -m ruff check .
	$(RUN) -m mypy
	$(RUN) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

test-unit: venv
	$(RUN) -m pytest -q -p no:cacheprovider tests/unit

lint: venv
	$(RUN) -m ruff check .
	$(RUN) -m mypy

stack-up: system venv
	$(RUN) -m copilot stack up

stack-down: venv
	$(RUN) -m copilot stack down

stack-status: venv
	$(RUN) -m copilot stack status

clean:
	rm -rf .venv var .pytest_cache .mypy_cache .ruff_cache
