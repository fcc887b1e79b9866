# accel: two commands set everything up on a fresh machine.
#   make demo   runs the main job on the built-in `digits` model
#   make test   runs every test (unit, HLS C simulation, RTL co-simulation)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
APT_PACKAGES := iverilog verilator yosys tcl

.PHONY: demo test test-fast fuzz lint bench-reference system venv clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

# System packages: installed with apt-get when missing and running as root; otherwise say what is needed.
system:
	@missing=""; for tool in iverilog verilator yosys yosys-abc tclsh; do command -v $$tool >/dev/null || missing="$$missing $$tool"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES) >/dev/null; \
	  else echo "accel needs:$$missing (e.g. sudo apt-get install $(APT_PACKAGES))"; exit 1; fi; \
	fi

demo: system $(STAMP)
	$(VENV)/bin/accel demo

test: system $(STAMP) lint
	$(PY) -m pytest -n 2 -q -rs

test-fast: $(STAMP)
	$(PY) -m pytest -n 2 -q -m "not slow"

# More random models than make test runs (tests/test_fuzz.py): N against QKeras, N/10 through each backend.
N ?= 2000
SEED ?= 0
fuzz: system $(STAMP)
	ACCEL_FUZZ_N=$(N) ACCEL_FUZZ_HLS=$$(( $(N) / 10 )) ACCEL_FUZZ_RTL=$$(( $(N) / 10 )) ACCEL_FUZZ_SEED=$(SEED) \
	  $(PY) -m pytest -n 2 -q tests/test_fuzz.py

# The exact NumPy reference against QKeras predict on every zoo model (1000 frames each, one process).
bench-reference: $(STAMP)
	$(PY) scripts/bench_reference.py

lint: $(STAMP)
	$(VENV)/bin/ruff check accel models tests rtl_tests scripts

clean:
	rm -rf $(VENV) build .pytest_cache
