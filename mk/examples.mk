# mk/examples.mk -- `make examples` and `make demo`. Included from the Makefile.
#
#   make examples   build/examples/<name> from each examples/<name>.c
#   make demo       build, start the dev server on a free port, run the
#                   quickstart against it, stop the server; with
#                   OPEN_SANDBOX_DOMAIN set, run it against that server instead
#
# Examples build with the same strict flags as the tests and need nothing but
# the header (and libc).

EXAMPLE_SRCS := $(wildcard examples/*.c)
EXAMPLE_BINS := $(patsubst examples/%.c,build/examples/%,$(EXAMPLE_SRCS))
# -O0: each example compiles the whole implementation; this keeps builds quick
EXAMPLE_CFLAGS ?= -std=c99 -Wall -Wextra -Werror -pedantic -O0 -g

.PHONY: examples demo

examples: $(EXAMPLE_BINS)

build/examples/%: examples/%.c opensandbox.h
	@mkdir -p build/examples
	$(CC) $(EXAMPLE_CFLAGS) -I. $< -o $@ -lm

demo: build/examples/quickstart
	@if [ -n "$$OPEN_SANDBOX_DOMAIN" ]; then \
	    echo "== quickstart against $$OPEN_SANDBOX_DOMAIN"; \
	    build/examples/quickstart; \
	else \
	    echo "== starting the dev server (tools/devserver) on a free loopback port"; \
	    OPEN_SANDBOX_PROTOCOL=http OPEN_SANDBOX_USE_SERVER_PROXY=false \
	    $(PYTHON) tools/devserver/with_devserver.py --command-grace 0.2 -- build/examples/quickstart \
	      && echo "== dev server stopped; demo done"; \
	fi

# `make test` runs every example against the dev server and checks its output.
SUITES += "examples=tests/examples.sh"
