# The regression gate between assemble and everything that publishes: each dataset of $(COLLECTION)
# is assembled as a candidate (var/assembled/D.sqlite3) and compared with the published
# dataset/D.sqlite3 by bin/gate. Within the thresholds (pipeline/C/threshold.csv, defaults in
# docs/publication.md), the first time, or when accepted (ACCEPT="D ..."), the candidate is linked
# into place as dataset/D.sqlite3 and the gate's stamp is touched; bake, tiles, datasette, PostGIS and
# the datastore follow from dataset/D.sqlite3 as before. Held, dataset/D.sqlite3 stays the last good
# version (so nothing downstream is rebuilt), the candidate waits in dataset/held/ with a report, the
# stamp stays older than the candidate (so every run looks again), and the run fails at its end.
# Included after the plan.

GATE_DIR := var/gate/
GATE_CODE := $(LIBRARY_CORE) bin/gate $(wildcard planning_pipeline/gate/*.py)

$(ASSEMBLED_DIR)%-issue.csv: $(ASSEMBLED_DIR)%.sqlite3 ;
$(DATASET_DIR)%-issue.csv: $(DATASET_DIR)%.sqlite3 ;

$(GATE_DIR)%.done: $(ASSEMBLED_DIR)%.sqlite3 $(GATE_CODE) $(wildcard $(PIPELINE_DIR)threshold.csv) $(OLD_RESOURCE_CSV)
	@$(PYTHON) bin/gate --dataset $* --collection $(C) --dataset-dir $(DATASET_DIR) --issue-csv $(ASSEMBLED_DIR)$*-issue.csv \
	  --threshold-path $(PIPELINE_DIR)threshold.csv --old-resource-path $(COLLECTION_DIR)old-resource.csv \
	  --specification-dir $(SPECIFICATION_DIR) --organisation-path $(ORGANISATION_CSV) \
	  --accept "$(ACCEPT)" --date $(TODAY) --stamp $@ $<

# the published dataset moves only when the gate links a candidate into place; never deleted by Make
$(DATASET_DIR)%.sqlite3: $(GATE_DIR)%.done ;
.PRECIOUS: $(DATASET_DIR)%.sqlite3 $(DATASET_DIR)%-issue.csv $(ASSEMBLED_DIR)%.sqlite3 $(GATE_DIR)%.done

# a published file deleted by hand is published again from its candidate
$(foreach d,$(DATASETS),$(if $(wildcard $(DATASET_DIR)$(d).sqlite3),,$(shell rm -f $(GATE_DIR)$(d).done)))
