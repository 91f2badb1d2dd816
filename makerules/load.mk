# Load each assembled dataset of $(COLLECTION) onto the platform: PostGIS (when DATABASE_URL is
# set), the directory datasette serves, and vector tiles. Stamps under var/load/ record what was
# loaded, so an unchanged dataset is not loaded again.

DATASETTE_DIR ?= var/datasette/
LOAD_DIR := var/load/
# the stamps record what was loaded: never delete them as intermediate files (.PRECIOUS matches
# a pattern rule by its exact target pattern)
.PRECIOUS: $(LOAD_DIR)postgis/%.stamp $(LOAD_DIR)tiles/%.stamp $(LOAD_DIR)datasette/%.stamp
LOAD_CODE := $(LIBRARY_CORE) $(wildcard planning_pipeline/load/*.py planning_pipeline/load/sql/*.sql)

$(LOAD_DIR)postgis/%.stamp: $(DATASET_DIR)%.sqlite3 $(LOAD_CODE) bin/load-postgis
	$(PYTHON) bin/load-postgis --dataset $* $< --stamp $@

# a geography dataset with no geometry makes no mbtiles, hence a stamp
$(LOAD_DIR)tiles/%.stamp: $(DATASET_DIR)%.sqlite3 $(LOAD_CODE) bin/build-tiles
	$(PYTHON) bin/build-tiles --dataset $* $< $(DATASET_DIR)$*.mbtiles
	@mkdir -p $(@D) && touch $@

$(LOAD_DIR)datasette/%.stamp: $(DATASET_DIR)%.sqlite3 $(DATASET_DIR)%.sqlite3.json $(LOAD_DIR)tiles/%.stamp
	$(PYTHON) bin/publish-datasette --dir $(DATASETTE_DIR) $(DATASET_DIR)$*.sqlite3 $(DATASET_DIR)$*.sqlite3.json $(wildcard $(DATASET_DIR)$*.mbtiles)
	@mkdir -p $(@D) && touch $@

load-postgis: $(DATASETS:%=$(LOAD_DIR)postgis/%.stamp)
tiles: $(GEOGRAPHY_DATASETS:%=$(LOAD_DIR)tiles/%.stamp)
publish: $(DATASETS:%=$(LOAD_DIR)datasette/%.stamp)
load: publish load-postgis

# The S3 datastore (bin/datastore, DATASTORE_ARGS in common.mk): the collection's state and outputs,
# and the stamps above, so a fresh machine restores yesterday's workspace (and republishes it into
# DATASETTE_DIR) and runs only what is new.
save restore: | $(VENV_READY)
	$(PYTHON) bin/datastore $@ --collection $(C) $(DATASTORE_ARGS) --datasette-dir $(DATASETTE_DIR)

.PHONY: load load-postgis tiles publish save restore
