# Assemble each dataset of $(COLLECTION) into sqlite3, then bake its published files.

ASSEMBLE_CODE := $(LIBRARY_CORE) bin/assemble $(wildcard planning_pipeline/assemble/*.py)
$(eval $(call code-stamp,assemble,$(ASSEMBLE_CODE)))
ASSEMBLE_DEPENDENCIES := var/code/assemble.stamp $(ORGANISATION_CSV) $(COLLECTION_DIR)resource.csv \
	$(wildcard $(PIPELINE_DIR)old-entity.csv)

# $(call build-dataset,DATASET,TRANSFORMED_FILES): $@ is dataset/DATASET.sqlite3
define build-dataset
	@mkdir -p $(@D)
	$(PYTHON) bin/assemble --dataset $(1) --specification-dir $(SPECIFICATION_DIR) \
	  --organisation-path $(ORGANISATION_CSV) --resource-path $(COLLECTION_DIR)resource.csv \
	  --old-entity-path $(PIPELINE_DIR)old-entity.csv --issue-dir $(ISSUE_DIR)$(1) \
	  --column-field-dir $(COLUMN_FIELD_DIR)$(1) --dataset-resource-dir $(DATASET_RESOURCE_DIR)$(1) \
	  --output $@ $(2)
endef

dataset::
.PHONY: dataset
