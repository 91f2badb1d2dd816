# Transform every planned (dataset, resource) of $(COLLECTION).
#
# A transformed file depends on its resource, the transform code, the organisations, and a stamp of
# its *effective* configuration (the general rows plus the rows scoped to its endpoints or to it),
# which bin/config-stamps rewrites only when that content changes: editing one endpoint's mapping
# re-transforms that endpoint's resources and nothing else.

CONFIG_STAMP_DIR := $(VAR_C)config-stamp/
PIPELINE_DIR := pipeline/$(C)/

TRANSFORM_CODE := $(LIBRARY_CORE) bin/transform \
	$(wildcard planning_pipeline/transform/*.py planning_pipeline/convert/*.py planning_pipeline/datatype/*.py)
$(eval $(call code-stamp,transform,$(TRANSFORM_CODE)))
TRANSFORM_DEPENDENCIES := var/code/transform.stamp $(ORGANISATION_CSV)

$(VAR_C)config-stamps.done: $(PLAN_CSV) $(wildcard $(PIPELINE_DIR)*.csv) | $(VENV_READY) $(CHECK_DONE)
	@$(PYTHON) bin/config-stamps --pipeline-dir $(PIPELINE_DIR) --plan $(PLAN_CSV) --stamp-dir $(CONFIG_STAMP_DIR)
	@mkdir -p $(@D) && touch $@

$(CONFIG_STAMP_DIR)%.json: $(VAR_C)config-stamps.done ;

# $(call run-transform,DATASET,OPTIONS): $< is the resource, $@ the transformed file
define run-transform
	@mkdir -p $(@D)
	$(PYTHON) bin/transform --dataset $(1) --pipeline-dir $(PIPELINE_DIR) --specification-dir $(SPECIFICATION_DIR) \
	  --organisation-path $(ORGANISATION_CSV) --issue-dir $(ISSUE_DIR)$(1) --column-field-dir $(COLUMN_FIELD_DIR)$(1) \
	  --dataset-resource-dir $(DATASET_RESOURCE_DIR)$(1) --converted-resource-dir $(CONVERTED_RESOURCE_DIR)$(1) \
	  --converted-dir $(CONVERTED_DIR) $(2) $< $@
endef

transform: transformed | $(CHECK_DONE)
.PHONY: transform transformed
