# What a run prints: one short line per step (the step's own result line and the time it took, by
# bin/step) instead of every command line; `make V=1` prints the commands as they run, as Make does.
# Only a collection's graph is quiet: tests, serve and bench keep their output as it comes.
ifneq ($(V),1)
SHELL := $(CURDIR)/bin/step
.SHELLFLAGS = $@ -c
MAKEFLAGS += --silent
endif
