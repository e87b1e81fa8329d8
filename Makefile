# Quickstart: `make run` (serve on the embedded SQLite default) and `make test` (everything CI runs).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)

.PHONY: venv run test test-fast lint protos bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

run: venv
	$(VENV)/bin/gateway serve

test: venv
	$(PY) -m pytest -q -n 2 --dist loadfile tests

lint: venv
	$(VENV)/bin/ruff check gateway adapters tests bench
	$(VENV)/bin/mypy

protos: venv
	$(PY) -m tools.genprotos

bench: venv
	$(PY) bench/core.py

.PHONY: bench-durabletask
bench-durabletask: venv
	$(PY) bench/durabletask.py

clean:
	rm -rf $(VENV) .peers
