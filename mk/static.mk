# mk/static.mk -- `make static`: fully static, stripped musl binaries of the
# command-line tool (or, until it exists, a small example), with and without
# TLS. Included from the Makefile.
#
#   build/osb-static         OSB_TLS=1, BearSSL linked in
#   build/osb-static-notls   OSB_TLS=0
#
# Needs musl-gcc (Debian: musl-tools) and, for TLS, libbearssl-dev. Debian's
# libbearssl.a was built with _FORTIFY_SOURCE: tools/musl_fortify_shim.c
# supplies the __*_chk functions musl lacks (build only, not in the header).
# BearSSL's headers are taken from their own directory so that no glibc header
# reaches the musl build.

MUSL_CC ?= musl-gcc
BEARSSL_INC ?= /usr/include/bearssl
# the host's own multiarch directory first (other architectures' copies may be installed too)
BEARSSL_LIB ?= $(firstword $(wildcard /usr/lib/$(shell $(CC) -dumpmachine 2>/dev/null)/libbearssl.a \
                 /usr/lib/*/libbearssl.a /usr/lib/libbearssl.a /usr/local/lib/libbearssl.a))
STATIC_CFLAGS ?= -std=c99 -Os -ffunction-sections -fdata-sections
STATIC_LDFLAGS ?= -static -Wl,--gc-sections -s
# The program: the tool once it exists, else an example, else the size probe.
STATIC_SRC ?= $(firstword $(wildcard tools/osb/main.c examples/quickstart.c) tests/tls/size_probe.c)
# main.c includes the rest of tools/osb/.
STATIC_DEPS := $(wildcard tools/osb/*.c tools/osb/*.h)
# Where opensandbox.h is looked up first (override to build another copy).
STATIC_HEADER_DIR ?= .

static: build/osb-static build/osb-static-notls
	@for f in build/osb-static build/osb-static-notls; do \
	    printf '%-26s %8d bytes\n' $$f $$(wc -c < $$f); done

build/osb-static: $(STATIC_SRC) $(STATIC_DEPS) opensandbox.h tools/musl_fortify_shim.c
	@mkdir -p build
	@test -n "$(BEARSSL_LIB)" || { echo "libbearssl.a not found (apt-get install libbearssl-dev)"; exit 1; }
	$(MUSL_CC) $(STATIC_CFLAGS) -DOSB_TLS=1 -I$(STATIC_HEADER_DIR) -I. -I$(BEARSSL_INC) \
	    $(STATIC_SRC) tools/musl_fortify_shim.c $(BEARSSL_LIB) $(STATIC_LDFLAGS) -o $@

build/osb-static-notls: $(STATIC_SRC) $(STATIC_DEPS) opensandbox.h
	@mkdir -p build
	$(MUSL_CC) $(STATIC_CFLAGS) -DOSB_TLS=0 -I$(STATIC_HEADER_DIR) -I. \
	    $(STATIC_SRC) $(STATIC_LDFLAGS) -o $@

.PHONY: static
