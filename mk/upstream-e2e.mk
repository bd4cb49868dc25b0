# mk/upstream-e2e.mk -- `make test-upstream-e2e UPSTREAM=<checkout>`: the upstream
# project's own Go end-to-end suite (<checkout>/tests/go, with the Go SDK of
# <checkout>/sdks/sandbox/go) run against the dev server, configured as upstream CI
# configures the real server for it. Not part of `make test` or CI (the suite is not in
# this project, and CI has no checkout of it). Included from the Makefile.
#
#   UPSTREAM=DIR             a checkout of opensandbox-group/OpenSandbox (required)
#   UPSTREAM_E2E_RUN=RE      only the tests matching RE (`go test -run`)
#   CODE_INTERPRETER=false   skip the code-interpreter tests (default true: the dev server
#                            has one; upstream CI runs them on request)
#   SERVER_PROXY=true        reach execd through the lifecycle server's proxy
#   VAULT_TARGET=true        run the Credential Vault tests against the checkout's echo
#                            target (default: they skip, no target)
# Output: build/upstream-e2e/test-output.txt; last line "N passed, N failed, N skipped".

UPSTREAM ?=
UPSTREAM_E2E_RUN ?=
CODE_INTERPRETER ?= true
SERVER_PROXY ?= false
VAULT_TARGET ?= false

test-upstream-e2e:
	@if [ -z "$(UPSTREAM)" ]; then \
	  echo "make test-upstream-e2e: pass UPSTREAM=<a checkout of opensandbox-group/OpenSandbox>" >&2; \
	  echo "  runs <checkout>/tests/go against the dev server (Go and testify from apt);" >&2; \
	  echo "  optional: UPSTREAM_E2E_RUN=<go test -run pattern> CODE_INTERPRETER=false SERVER_PROXY=true VAULT_TARGET=true" >&2; \
	  exit 2; fi
	@tools/ensure-deps.sh upstream-e2e
	@RUN_CODE_INTERPRETER_E2E=$(CODE_INTERPRETER) OPENSANDBOX_TEST_USE_SERVER_PROXY=$(SERVER_PROXY) VAULT_TARGET=$(VAULT_TARGET) \
	  UPSTREAM_E2E_RUN='$(UPSTREAM_E2E_RUN)' tests/upstream-e2e.sh "$(UPSTREAM)"

.PHONY: test-upstream-e2e
