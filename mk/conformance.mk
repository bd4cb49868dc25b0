# mk/conformance.mk -- `make conformance`: run the integration suites against
# the dev server with every exchange recorded (tests/testdev.h passes
# --record $OSB_RECORD to it), then validate the log against the specs.
# Fails on Error-level violations not explained in
# tests/conformance/allowlist.txt. Included from the Makefile.

CONFORMANCE_LOG  = $(B)/conformance.jsonl
CONFORMANCE_BINS = $(B)/test_lifecycle $(B)/test_sandbox $(wildcard $(B)/test_execd) \
                   $(if $(wildcard tests/test_execd.c),$(B)/test_execd)

conformance: deps $(sort $(CONFORMANCE_BINS))
	@rm -f $(CONFORMANCE_LOG)
	@set -e; for t in $(sort $(CONFORMANCE_BINS)); do \
	  echo "conformance: $$t"; \
	  OSB_RECORD=$(CURDIR)/$(CONFORMANCE_LOG) $$t; done
	@echo "conformance: $$(wc -l < $(CONFORMANCE_LOG)) exchanges recorded"
	tests/conformance/check.sh $(CONFORMANCE_LOG)
