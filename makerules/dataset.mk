# Assemble each dataset of $(COLLECTION) into sqlite3, then bake its published files.

ASSEMBLE_CODE := $(LIBRARY_CORE) bin/assemble $(wildcard planning_pipeline/assemble/*.py)
$(eval $(call code-stamp,assemble,$(ASSEMBLE_CODE)))
ASSEMBLE_DEPENDENCIES := var/code/assemble.stamp $(ORGANISATION_CSV) $(COLLECTION_DIR)resource.csv \
	$(wildcard $(PIPELINE_DIR)old-entity.csv) $(addprefix $(SPECIFICATION_DIR),schema-field.csv field.csv dataset.csv)
BAKE_CODE := $(LIBRARY_CORE) bin/bake $(wildcard planning_pipeline/bake/*.py)
EXPECTATIONS_CODE := $(LIBRARY_CORE) bin/expectations $(wildcard planning_pipeline/expectations/*.py)

# Assemble writes a candidate, var/assembled/DATASET.sqlite3 (and its issue CSV); the regression gate
# (makerules/gate.mk) publishes it as dataset/DATASET.sqlite3 or holds it back.
ASSEMBLED_DIR := var/assembled/

# $(call build-dataset,DATASET,TRANSFORMED_FILES): $@ is var/assembled/DATASET.sqlite3.
# Transformed files no longer in the plan (a retired resource) are removed first, logs and all.
define build-dataset
	@mkdir -p $(@D) $(TRANSFORMED_DIR)$(1) $(ISSUE_DIR)$(1) $(COLUMN_FIELD_DIR)$(1) $(DATASET_RESOURCE_DIR)$(1)
	@for f in $(notdir $(filter-out $(2),$(wildcard $(TRANSFORMED_DIR)$(1)/*.csv))); do \
	  echo "assemble: $(1): dropping $$f, no longer planned"; \
	  rm -f $(TRANSFORMED_DIR)$(1)/$$f $(ISSUE_DIR)$(1)/$$f $(COLUMN_FIELD_DIR)$(1)/$$f $(DATASET_RESOURCE_DIR)$(1)/$$f; done
	$(PYTHON) bin/assemble --dataset $(1) --specification-dir $(SPECIFICATION_DIR) \
	  --organisation-path $(ORGANISATION_CSV) --resource-path $(COLLECTION_DIR)resource.csv \
	  --old-entity-path $(PIPELINE_DIR)old-entity.csv --transformed-dir $(TRANSFORMED_DIR)$(1) \
	  --issue-dir $(ISSUE_DIR)$(1) --plan-issue $(VAR_C)plan-issue/$(1).csv --column-field-dir $(COLUMN_FIELD_DIR)$(1) \
	  --dataset-resource-dir $(DATASET_RESOURCE_DIR)$(1) --issue-csv $(ASSEMBLED_DIR)$(1)-issue.csv --output $@
endef

# datasette's inspect file, in its own rule so a failure here never deletes the sqlite file
$(DATASET_DIR)%.sqlite3.json: $(DATASET_DIR)%.sqlite3
	@tmp=$$(mktemp $(@D)/.$(@F).XXXXXX.tmp) && { $(VENV)/bin/datasette inspect $< --inspect-file $$tmp && chmod 644 $$tmp && mv $$tmp $@ || { rm -f $$tmp; exit 1; }; }


# bake: the entity CSV, and the flattened CSV, JSON, GeoParquet (and GeoJSON for geography datasets)
$(DATASET_DIR)%.csv $(FLATTENED_DIR)%.csv $(FLATTENED_DIR)%.json $(FLATTENED_DIR)%.parquet &: $(DATASET_DIR)%.sqlite3 $(BAKE_CODE) \
		$(addprefix $(SPECIFICATION_DIR),dataset-schema.csv schema-field.csv field.csv)
	$(PYTHON) bin/bake --dataset $* --specification-dir $(SPECIFICATION_DIR) $< --output-dir $(DATASET_DIR)

# expectations: data-quality results the digital-land pipeline reads
$(EXPECTATION_DIR)%.csv: $(DATASET_DIR)%.sqlite3 $(wildcard $(PIPELINE_DIR)expect.csv) $(ORGANISATION_CSV) $(EXPECTATIONS_CODE)
	@mkdir -p $(@D)
	$(PYTHON) bin/expectations --dataset $* --expect-path $(PIPELINE_DIR)expect.csv --organisation-path $(ORGANISATION_CSV) --output $@ $<

DATASET_OUTPUTS = $(foreach d,$(DATASETS),$(DATASET_DIR)$(d).sqlite3 $(DATASET_DIR)$(d).sqlite3.json $(DATASET_DIR)$(d).csv \
	$(FLATTENED_DIR)$(d).csv $(FLATTENED_DIR)$(d).json $(FLATTENED_DIR)$(d).parquet $(EXPECTATION_DIR)$(d).csv)

# the plan (and so $(DATASETS)) is read after this file: expand the list when the target is built
.SECONDEXPANSION:
bake: $$(DATASET_OUTPUTS)
.PHONY: dataset bake
