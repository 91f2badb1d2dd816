# Collect, index and plan one collection ($(COLLECTION)).

C := $(COLLECTION)
COLLECTION_DIR := collection/$(C)/
LOG_DIR := $(COLLECTION_DIR)log/
VAR_C := var/$(C)/
COLLECT_MK := $(VAR_C)collect-$(TODAY).mk
PLAN_MK := $(VAR_C)plan.mk
PLAN_CSV := $(VAR_C)plan.csv
OLD_RESOURCE_CSV := $(wildcard $(COLLECTION_DIR)old-resource.csv)

ifeq ($(wildcard $(COLLECTION_DIR)endpoint.csv),)
$(error $(COLLECTION_DIR)endpoint.csv: no such collection: $(C))
endif

# Collect: one target per endpoint live today, so each endpoint is fetched at most once a day
# and `make -j` fetches in parallel.
define collect-endpoint
	@$(PYTHON) bin/collect-endpoint --collection-dir $(COLLECTION_DIR) --endpoint $(1) --date $(TODAY) --progress $(2)
endef

# Check: every configuration file of the collection and the specification, before any stage reads
# them (bin/check-config, docs/configuration.md). The collect makefile, the index, the plan, the
# configuration stamps and the transforms wait for it, so a problem stops the run with its
# FILE:LINE error before anything is collected, rebuilt or published. It runs again only when one of
# those files, the organisation table or the check's code changes.
CHECK_DONE := $(VAR_C)check.done
CHECK_CODE := $(LIBRARY_CORE) bin/check-config $(wildcard planning_pipeline/check/*.py)
$(eval $(call code-stamp,check,$(CHECK_CODE)))
$(CHECK_DONE): var/code/check.stamp $(wildcard $(addprefix $(COLLECTION_DIR),endpoint.csv source.csv old-resource.csv) \
		pipeline/$(C)/*.csv $(SPECIFICATION_DIR)*.csv) $(ORGANISATION_CSV) | $(VENV_READY)
	@$(PYTHON) bin/check-config --collection $(C) --organisation-path $(ORGANISATION_CSV) >/dev/null
	@mkdir -p $(@D) && touch $@

# goals that must not collect first: restoring yesterday's state, saving it, help
NO_COLLECT_GOALS := save restore help clean
# included, not -included: a collect makefile that cannot be made (a failed check) fails the run
ifeq ($(filter $(NO_COLLECT_GOALS),$(MAKECMDGOALS)),)
include $(COLLECT_MK)
# Make remakes the makefiles it read last first, and a failure under a -included one (the plan) is
# dropped, the check then only "missing": the static makefiles wait for the check too, so a failed
# check is reported as itself and stops the run before any makefile is remade.
$(wildcard makerules/*.mk): | $(CHECK_DONE) ;
endif

$(COLLECT_MK): $(COLLECTION_DIR)endpoint.csv | $(VENV_READY) $(CHECK_DONE)
	@$(PYTHON) bin/plan --collection $(C) --collect $(TODAY) $@

# Index: log.csv and resource.csv, rebuilt from the logs; resource.csv's mtime moves only when
# its content changes, so a night that collects nothing new plans and transforms nothing.
$(VAR_C)index.done: $(ENDPOINT_LOGS) $(COLLECTION_DIR)source.csv | $(VENV_READY) $(CHECK_DONE)
	@$(if $(ENDPOINT_LOGS),$(PYTHON) bin/collect-summary --collection-dir $(COLLECTION_DIR) --date $(TODAY))
	@$(PYTHON) bin/index $(COLLECTION_DIR)
	@mkdir -p $(@D) && touch $@

$(COLLECTION_DIR)log.csv $(COLLECTION_DIR)resource.csv: $(VAR_C)index.done ;

# Plan: which resource feeds which dataset. The Makefile includes $(PLAN_MK) after every stage's
# variables are set, and Make re-reads it once it is rebuilt.
$(PLAN_MK) $(PLAN_CSV) &: $(COLLECTION_DIR)resource.csv $(OLD_RESOURCE_CSV) $(SPECIFICATION_DIR)dataset.csv bin/plan planning_pipeline/collection/plan.py | $(VENV_READY) $(CHECK_DONE)
	@$(PYTHON) bin/plan --collection $(C) $(PLAN_MK) $(PLAN_CSV)

collect: $(ENDPOINT_LOGS)
index: $(COLLECTION_DIR)log.csv $(COLLECTION_DIR)resource.csv
plan: $(PLAN_MK)
.PHONY: collect index plan
