# Transform every planned (dataset, resource) of $(COLLECTION).
#
# A transformed file depends on its resource, the transform code, the organisations, and a stamp of
# its *effective* configuration (the general rows plus the rows scoped to its endpoints or to it),
# which bin/config-stamps rewrites only when that content changes: editing one endpoint's mapping
# re-transforms that endpoint's resources and nothing else. Of lookup.csv a stamp hashes only the
# rows that answer a lookup key the resource's last transform asked (recorded beside the stamp), so
# entity numbers assigned to a new resource's references re-transform that resource alone.

CONFIG_STAMP_DIR := $(VAR_C)config-stamp/
PIPELINE_DIR := pipeline/$(C)/

TRANSFORM_CODE := $(LIBRARY_CORE) bin/transform \
	$(wildcard planning_pipeline/transform/*.py planning_pipeline/convert/*.py planning_pipeline/datatype/*.py)
$(eval $(call code-stamp,transform,$(TRANSFORM_CODE)))
TRANSFORM_DEPENDENCIES := var/code/transform.stamp $(ORGANISATION_CSV)

# lookup.csv indexed once per change, so each transform reads only its blocks of it; an index that
# does not match lookup.csv as it is is ignored (lookup_index.py), so order-only is enough here
LOOKUP_INDEX := $(VAR_C)lookup-index.sqlite3
export PLANNING_LOOKUP_INDEX := $(CURDIR)/$(LOOKUP_INDEX)
$(LOOKUP_INDEX): $(wildcard $(PIPELINE_DIR)lookup.csv) var/code/transform.stamp | $(VENV_READY) $(CHECK_DONE)
	@mkdir -p $(@D)
	$(PYTHON) bin/lookup-index --pipeline-dir $(PIPELINE_DIR) --output $@

$(VAR_C)config-stamps.done: $(PLAN_CSV) $(wildcard $(PIPELINE_DIR)*.csv) | $(VENV_READY) $(CHECK_DONE) $(LOOKUP_INDEX)
	@$(PYTHON) bin/config-stamps --pipeline-dir $(PIPELINE_DIR) --plan $(PLAN_CSV) --stamp-dir $(CONFIG_STAMP_DIR)
	@mkdir -p $(@D) && touch $@

$(CONFIG_STAMP_DIR)%.json: $(VAR_C)config-stamps.done ;

# $(call run-transform,DATASET,OPTIONS): $< is the resource, $@ the transformed file, the second
# prerequisite its configuration stamp (which the transform brings up to date with the lookup keys it asked)
define run-transform
	@mkdir -p $(@D)
	$(PYTHON) bin/transform --dataset $(1) --pipeline-dir $(PIPELINE_DIR) --specification-dir $(SPECIFICATION_DIR) \
	  --config-stamp $(word 2,$^) \
	  --organisation-path $(ORGANISATION_CSV) --issue-dir $(ISSUE_DIR)$(1) --column-field-dir $(COLUMN_FIELD_DIR)$(1) \
	  --dataset-resource-dir $(DATASET_RESOURCE_DIR)$(1) --converted-resource-dir $(CONVERTED_RESOURCE_DIR)$(1) \
	  --converted-dir $(CONVERTED_DIR) $(2) $< $@
endef

transform: transformed | $(CHECK_DONE)
.PHONY: transform transformed
