# mk/cli.mk -- the `osb` command-line tool (tools/osb/). Included from the Makefile.
#
# tools/osb/main.c includes the other files of tools/osb/: one compiler call,
# one translation unit, so the tool's helpers stay static.
#
#   make build/osb   the tool; with https (BearSSL) when /usr/include/bearssl.h exists
#   make cli-test    its end-to-end tests against the dev server (tests/test_cli.py)
#
# `make static` (mk/static.mk) builds the static musl binaries from the same source.

OSB_CLI_TLS_CFLAGS := $(if $(wildcard /usr/include/bearssl.h),-DOSB_TLS=1)
OSB_CLI_TLS_LIBS   := $(if $(wildcard /usr/include/bearssl.h),-lbearssl)

all: build/osb

OSB_CLI_SRC := $(wildcard tools/osb/*.c tools/osb/*.h)

build/osb: $(OSB_CLI_SRC) opensandbox.h
	@mkdir -p build
	$(CC) -std=c99 -Wall -Wextra -Werror -pedantic -O2 $(OSB_CLI_TLS_CFLAGS) -I. tools/osb/main.c -o $@ $(OSB_CLI_TLS_LIBS)

cli-test: build/osb
	$(PYTHON) tests/test_cli.py

.PHONY: cli-test
