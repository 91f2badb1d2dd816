# The digital-land pipeline: the specification and every collection's state, configuration, issues
# and expectation results in dataset/digital-land.sqlite3; provider performance in
# dataset/performance.sqlite3. Run by `make digital-land` after every collection.

DIGITAL_LAND_SQLITE := $(DATASET_DIR)digital-land.sqlite3
PERFORMANCE_SQLITE := $(DATASET_DIR)performance.sqlite3
DIGITAL_LAND_INPUTS = $(wildcard $(SPECIFICATION_DIR)*.csv collection/*/*.csv pipeline/*/*.csv $(EXPECTATION_DIR)*.csv) \
	$(filter-out $(DIGITAL_LAND_SQLITE) $(PERFORMANCE_SQLITE),$(wildcard $(DATASET_DIR)*.sqlite3)) \
	$(wildcard $(DATASET_DIR)organisation.csv) bin/digital-land-sqlite $(wildcard planning_pipeline/digital_land/*.py)

$(DIGITAL_LAND_SQLITE): $(DIGITAL_LAND_INPUTS) | $(VENV_READY)
	@mkdir -p $(@D)
	$(PYTHON) bin/digital-land-sqlite --specification-dir $(SPECIFICATION_DIR) --collection-dir collection \
	  --pipeline-dir pipeline --dataset-dir $(DATASET_DIR) --expectation-dir $(EXPECTATION_DIR) \
	  --organisation $(DATASET_DIR)organisation.csv --output $@

# performance is recorded once a day even when nothing changed (a history without gaps): the
# day's stamp is a prerequisite, made on the day's first run
RUN_DAY_STAMP := var/run-day/$(TODAY)
$(RUN_DAY_STAMP):
	@mkdir -p $(@D) && rm -f $(@D)/* && touch $@

$(PERFORMANCE_SQLITE): $(DIGITAL_LAND_SQLITE) bin/performance-sqlite $(RUN_DAY_STAMP) \
		$(wildcard $(DATASET_DIR)*-changes.json $(DATASET_DIR)held/*-changes.json)
	$(PYTHON) bin/performance-sqlite --digital-land $< --dataset-dir $(DATASET_DIR) --run-date $(TODAY) --output $@

digital-land-files: $(DIGITAL_LAND_SQLITE) $(PERFORMANCE_SQLITE)
.PHONY: digital-land-files

# the reference tables (dataset, organisation, typology, ...) swapped into PostGIS, when DATABASE_URL is set
var/load/reference.stamp: $(DIGITAL_LAND_SQLITE) bin/load-reference
	$(PYTHON) bin/load-reference $<
	@$(if $(DATABASE_URL),mkdir -p $(@D) && touch $@)

load-reference: var/load/reference.stamp
digital-land-files: $(if $(DATABASE_URL),load-reference)
.PHONY: load-reference
