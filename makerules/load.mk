# Load each assembled dataset of $(COLLECTION) onto the platform: PostGIS (when DATABASE_URL is
# set), the directory datasette serves, and vector tiles. Stamps under var/load/ record what was
# loaded, so an unchanged dataset is not loaded again.

DATASETTE_DIR ?= var/datasette/
LOAD_DIR := var/load/
# the stamps record what was loaded: never delete them as intermediate files
.PRECIOUS: $(LOAD_DIR)%.stamp
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

DATASTORE_ENDPOINT_OPTION = $(if $(DATASTORE_ENDPOINT),--endpoint-url $(DATASTORE_ENDPOINT))
save:
	$(PYTHON) bin/datastore save --collection $(C) --bucket $(DATASTORE_BUCKET) $(DATASTORE_ENDPOINT_OPTION)
restore:
	$(PYTHON) bin/datastore restore --collection $(C) --bucket $(DATASTORE_BUCKET) $(DATASTORE_ENDPOINT_OPTION)

.PHONY: load load-postgis tiles publish save restore
