# The one entry point of the pipeline.
#
#   make                        set up (first time), then the nightly job for every collection
#   make collection/NAME        one collection end to end
#   make STAGE COLLECTION=NAME  one stage of one collection (collect, index, plan, transform, dataset)
#   make test                   the tests
#   make help                   every target
#
# Every stage is a file target whose prerequisites are exactly what it reads, so Make redoes only
# what changed, and independent work runs in parallel: one job per core unless `make -jN` or JOBS=N
# says otherwise (JOBS=1: one step at a time; make 4.3 does not pass a plain -j1 on to here).

SHELL := /bin/bash
.DELETE_ON_ERROR:
.SUFFIXES:
MAKEFLAGS += --no-builtin-rules --no-print-directory
# only the first make chooses: the makes it runs share its job slots (PIPELINE_PARALLEL tells them)
ifndef PIPELINE_PARALLEL
JOBS ?= $(shell nproc 2>/dev/null || echo 1)
ifeq ($(filter -j%,$(MAKEFLAGS)),)
MAKEFLAGS += -j$(JOBS)
endif
export PIPELINE_PARALLEL := 1
endif

include makerules/setup.mk
include makerules/common.mk

COLLECTIONS ?= $(sort $(patsubst collection/%/endpoint.csv,%,$(wildcard collection/*/endpoint.csv)))
COLLECTION_TARGETS := $(addprefix collection/,$(COLLECTIONS))
STAGES := collect index plan transform dataset bake tiles publish load load-postgis

# goals that need no collection's lock (they read or write no collection's files)
UNLOCKED_GOALS := test test-setup setup clean help bench dags serve check report

ifdef COLLECTION
ifneq ($(PIPELINE_LOCKED),$(COLLECTION))
ifneq ($(filter-out $(UNLOCKED_GOALS),$(or $(MAKECMDGOALS),collection)),)
# ---- one collection, not yet under its lock: take it, then run the same goals under it ------
# Two runs of one collection at once (a manual run during the nightly one) would write the same
# files: the second waits for the first (LOCK_WAIT seconds at most), and says so. Under the lock,
# temporaries an interrupted run left are removed first; the goals run in a make of the same level
# (MAKELEVEL cleared: it is this run, not a step of it); then, if the gate held a dataset back, the
# summary says which and why and the run fails, unless the run over every collection
# (HELD_REPORT=later) reports it after the other collections.
LOCK_GOALS := $(or $(MAKECMDGOALS),collection)
LOCK_FILE := var/lock/$(COLLECTION).lock
LOCK_WAIT ?= 21600
.DEFAULT_GOAL := $(firstword $(LOCK_GOALS))
$(firstword $(LOCK_GOALS)):
	@mkdir -p $(dir $(LOCK_FILE)); exec 9>>$(LOCK_FILE); \
	if ! flock -n 9; then \
	  echo "make: collection $(COLLECTION) is being built by another run (it holds $(LOCK_FILE)): waiting for it to finish"; \
	  flock -w $(LOCK_WAIT) 9 || { echo "make: gave up waiting $(LOCK_WAIT) s for $(LOCK_FILE)" >&2; exit 1; }; \
	fi; \
	if [ -x $(PYTHON) ]; then $(PYTHON) bin/clean-temporaries --collection $(COLLECTION) --datasette-dir $(or $(DATASETTE_DIR),var/datasette/) || exit 1; fi; \
	started=$$EPOCHREALTIME; steps=var/run/$(COLLECTION).$$$$.steps; mkdir -p var/run; \
	PIPELINE_STEP_LOG=$(CURDIR)/$$steps MAKELEVEL= $(MAKE) PIPELINE_LOCKED=$(COLLECTION) $(MAKECMDGOALS); status=$$?; \
	if [ "$(V)" != 1 ] && [ -x $(PYTHON) ]; then \
	  $(PYTHON) bin/step-summary --log $$steps --label "$(COLLECTION)" --started $$started; fi; \
	rm -f $$steps; [ $$status = 0 ] || exit $$status; \
	if [ "$(HELD_REPORT)" != later ] && ls $(DATASET_DIR)held/*.sqlite3 >/dev/null 2>&1; then \
	  $(PYTHON) bin/run-summary --collection $(COLLECTION) --date $(TODAY) --only-held; fi
$(wordlist 2,$(words $(LOCK_GOALS)),$(LOCK_GOALS)): $(firstword $(LOCK_GOALS)) ;
.PHONY: $(LOCK_GOALS)
endif
else
# ---- one collection: its whole graph -------------------------------------------------------
.DEFAULT_GOAL := collection
include makerules/output.mk
include makerules/collection.mk
include makerules/transform.mk
include makerules/dataset.mk
ifeq ($(filter $(NO_COLLECT_GOALS),$(MAKECMDGOALS)),)
-include $(PLAN_MK)
endif
include makerules/gate.mk
include makerules/load.mk
ifeq ($(COLLECTION),organisation)
include makerules/organisation.mk
endif

collection: bake publish $(if $(DATABASE_URL),load-postgis)
# `make collection/NAME COLLECTION=NAME` too (collection/NAME is a directory: phony, or it is up to date)
collection/$(COLLECTION): collection
.PHONY: collection collection/$(COLLECTION)
endif

else
# ---- every collection, in the nightly order -------------------------------------------------
.DEFAULT_GOAL := all
OTHER_COLLECTIONS := $(filter-out organisation,$(COLLECTIONS))

# every collection and the digital-land outputs, then the run's summary, which fails the run if the
# gate held any dataset back (after everything else was built and published)
all: | $(VENV_READY)
	@$(MAKE) digital-land HELD_REPORT=later
	@$(PYTHON) bin/run-summary --date $(TODAY) --output var/run-summary.md

# the organisation collection builds the organisation package every other collection reads
$(addprefix collection/,$(OTHER_COLLECTIONS)): $(filter collection/organisation,$(COLLECTION_TARGETS))

$(COLLECTION_TARGETS): collection/%: | $(VENV_READY)
	@$(MAKE) COLLECTION=$* collection

organisation: | $(VENV_READY)
	@$(MAKE) COLLECTION=organisation organisation

$(STAGES): | $(VENV_READY)
	@for c in $(COLLECTIONS); do $(MAKE) COLLECTION=$$c $@ || exit 1; done

# every collection, then the digital-land outputs built from them (and their history)
save restore: | $(VENV_READY)
	@for c in $(COLLECTIONS); do $(MAKE) COLLECTION=$$c $@ || exit 1; done
	$(PYTHON) bin/datastore $@ --collection digital-land-builder $(DATASTORE_ARGS)

# digital-land.sqlite3 and performance.sqlite3 read every collection: they come last
digital-land: $(COLLECTION_TARGETS)
	@$(MAKE) digital-land-files

include makerules/digital-land.mk

serve: | $(VENV_READY)
	$(PYTHON) bin/serve-datasette --dir $(or $(DATASETTE_DIR),var/datasette/) --host $(or $(HOST),127.0.0.1) --port $(or $(PORT),8001)

# the data-quality report from what the last run built: static pages that `make serve` shows at /-/report/
report: | $(VENV_READY)
	$(PYTHON) bin/report --output $(or $(DATASETTE_DIR),var/datasette/)report
.PHONY: report

dags: | $(VENV_READY)
	$(PYTHON) bin/generate-dags --specification-dir $(SPECIFICATION_DIR) --config orchestration/config.json --output-dir orchestration/dags

# only the configuration checks (specification and every collection), e.g. in CI before a merge
check: | $(VENV_READY)
	@$(PYTHON) bin/check-config
.PHONY: check

.PHONY: all $(COLLECTION_TARGETS) $(STAGES) save restore organisation digital-land serve dags
endif

# ---- tests, housekeeping ----------------------------------------------------------------------
test: test-setup
	$(VENV)/bin/pytest -q tests

clean:
	rm -rf var dataset

help:
	@echo "make                       set up if needed, then run the nightly job for every collection ($(COLLECTIONS))"
	@echo "make collection/NAME       run one collection end to end"
	@echo "make collect|index|plan|transform|dataset [COLLECTION=NAME]"
	@echo "                           one stage, for one collection or for every collection"
	@echo "make setup                 install Debian packages and build the virtual environment"
	@echo "make test                  run the tests"
	@echo "make check                 check every collection's configuration files (FILE:LINE errors)"
	@echo "make report                the data-quality report (static pages make serve shows at /-/report/)"
	@echo "make serve                 datasette over the published datasets, with tiles, explain and the report"
	@echo "make bench                 benchmarks on synthetic data, whole collections included (figures, never asserted)"
	@echo "make clean                 remove everything regenerable (var/, dataset/)"
	@echo "JOBS=N                     jobs at once (default: one per core); V=1 prints every command"

.PHONY: test clean help

# ---- benchmarks: speed and memory on synthetic data, printed, never asserted ------------------
bench: $(VENV_READY)
	$(PYTHON) bench/convert_bench.py
	$(PYTHON) bench/datatype_bench.py
	$(PYTHON) bench/transform_bench.py
	$(PYTHON) bench/assemble_bench.py
	$(PYTHON) bench/assemble_bench.py --entities 90000 --resources 300 --incremental
	$(PYTHON) bench/assemble_floor.py
	$(PYTHON) bench/tiles_bench.py
	$(PYTHON) bench/collection_bench.py
.PHONY: bench
