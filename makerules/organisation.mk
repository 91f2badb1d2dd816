# The organisation data package: dataset/organisation.csv, built from the organisation collection's
# datasets. Included in the organisation collection's graph, after its plan (for $(DATASETS)).
# The organisation collection itself resolves organisations with the bundled snapshot; every other
# collection reads the package, rewritten only when its content changes.

ORGANISATION_PACKAGE_CODE := $(LIBRARY_CORE) bin/organisation-package $(wildcard planning_pipeline/organisation_package/*.py)

$(VAR_C)package.done: $(addprefix $(DATASET_DIR),$(addsuffix .sqlite3,$(DATASETS))) $(ORGANISATION_PACKAGE_CODE)
	@mkdir -p $(@D)
	$(PYTHON) bin/organisation-package --specification-dir $(SPECIFICATION_DIR) --dataset-dir $(DATASET_DIR) \
	  --flattened-dir $(FLATTENED_DIR) --output $(VAR_C)organisation.csv
	@cmp -s $(VAR_C)organisation.csv $(DATASET_DIR)organisation.csv || cp $(VAR_C)organisation.csv $(DATASET_DIR)organisation.csv
	@touch $@

$(DATASET_DIR)organisation.csv: $(VAR_C)package.done ;

$(DATASET_DIR)organisation-check.csv: $(DATASET_DIR)organisation.csv
	$(PYTHON) bin/organisation-check --input $< --output $@

organisation: $(DATASET_DIR)organisation.csv $(DATASET_DIR)organisation-check.csv
collection: organisation
.PHONY: organisation
