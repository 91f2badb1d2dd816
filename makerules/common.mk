# Names shared by every stage.

TODAY := $(shell date -u +%F)
SPECIFICATION_DIR := specification/
TRANSFORMED_DIR := var/transformed/
ISSUE_DIR := var/issue/
COLUMN_FIELD_DIR := var/column-field/
DATASET_RESOURCE_DIR := var/dataset-resource/
CONVERTED_RESOURCE_DIR := var/converted-resource/
CONVERTED_DIR := var/converted/
EXPECTATION_DIR := var/expectation/
DATASET_DIR := dataset/
FLATTENED_DIR := dataset/flattened/
CACHE_DIR := var/cache/

# Every collection resolves organisations with the organisation package, dataset/organisation.csv;
# the organisation collection, which builds that package, starts from the bundled snapshot.
ORGANISATION_SNAPSHOT := $(CACHE_DIR)organisation.csv
ifeq ($(COLLECTION),organisation)
ORGANISATION_CSV := $(ORGANISATION_SNAPSHOT)
else
ORGANISATION_CSV := $(DATASET_DIR)organisation.csv
ifneq ($(COLLECTION),)
$(ORGANISATION_CSV):
	@$(MAKE) COLLECTION=organisation organisation
endif
endif

$(ORGANISATION_SNAPSHOT): example/organisation.csv
	@mkdir -p $(@D)
	@cmp -s $< $@ || cp $< $@

# A content stamp: the .done file's recipe rewrites the stamp only when its content changes,
# and the stamp's empty recipe makes Make look at its mtime again afterwards.
# $(call code-stamp,NAME,FILES)
define code-stamp
var/code/$(1).done: $(2)
	@mkdir -p var/code
	@tmp=$$$$(mktemp var/code/.$(1).stamp.XXXXXX.tmp) && cat $$^ | sha256sum | cut -c1-64 > $$$$tmp && \
	  { cmp -s $$$$tmp var/code/$(1).stamp && rm $$$$tmp || mv $$$$tmp var/code/$(1).stamp; }
	@touch $$@
var/code/$(1).stamp: var/code/$(1).done ;
endef

LIBRARY_CORE := $(wildcard planning_pipeline/*.py)

# The S3 datastore (bin/datastore) that `make save` / `make restore` sync with: the bucket defaults
# to the workflows' COLLECTION_DATASET_BUCKET_NAME; DATASTORE_ENDPOINT for an S3-compatible server.
DATASTORE_BUCKET ?= $(COLLECTION_DATASET_BUCKET_NAME)
DATASTORE_ARGS = --bucket $(DATASTORE_BUCKET) $(if $(DATASTORE_ENDPOINT),--endpoint-url $(DATASTORE_ENDPOINT))
ifneq ($(filter save restore,$(MAKECMDGOALS)),)
ifeq ($(DATASTORE_BUCKET),)
$(error set DATASTORE_BUCKET (or COLLECTION_DATASET_BUCKET_NAME) to the datastore's bucket)
endif
endif
