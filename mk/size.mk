# mk/size.mk -- `make size`: static, stripped sizes of the quickstart and of
# osb, with and without TLS, against the goals, and where the bytes go.
# Included from the Makefile.
#
#   make size                 the table (build/size/sizes.md) and, per binary,
#                             build/size/NAME.txt: bytes by origin (program,
#                             libc.a, libbearssl.a) and the largest parts,
#                             from the linker's map file (tools/size-report.py)
#
# musl (musl-gcc), -Os, one section per function and datum, no unwind
# tables, --gc-sections, the edge profile (SIZE_PROFILE, below). BearSSL is compiled for this build from Debian's
# source package with the same flags (tools/bearssl-build.sh), so unused
# functions drop out; without the source it falls back to Debian's
# libbearssl.a (plus tools/musl_fortify_shim.c).

SIZE_CC ?= musl-gcc
# -malign-data=abi: arrays and structures at the x86-64 ABI's alignment (16
# bytes at most), not GCC's default of 32 for any array of 32 bytes or more,
# so the read-only data has less padding (1.5 KB in osb).
SIZE_CFLAGS ?= -std=c99 -Os -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables \
    -fno-unwind-tables -malign-data=abi
# The edge profile: compile-time choices for small static binaries, part of
# every size build. OSB_DNS=1: the built-in resolver instead of getaddrinfo
# (no libc resolver, no resolver thread, so no pthreads). `make size
# SIZE_PROFILE=` measures the default build.
SIZE_PROFILE ?= -DOSB_DNS=1
# common-page-size=64: the data segment starts right after the code in the
# file (same offset modulo the page size as its address), not on the next
# 4 KB boundary of the file. --sort-section=alignment: input sections by
# falling alignment, so fewer gaps between them.
SIZE_LDFLAGS ?= -static -Wl,--gc-sections -Wl,--build-id=none -Wl,-z,norelro -Wl,-z,noseparate-code \
    -Wl,-z,common-page-size=64 -Wl,--sort-section=alignment
# The quickstart rows also switch off every family the quickstart does not
# use (README "Sizes"); osb uses them all. The small-program choices: no
# config file (settings from the environment or the program), execd events
# through the general JSON decoder only, system error texts from a short
# table, uploads from a descriptor by read() (OSB_NO_SENDFILE: the
# quickstart uploads from memory). With TLS, OSB_TLS_SMALL_EC: the same curves through BearSSL's
# generic code (9 KB less, about twice the client CPU per new TLS
# connection); OSB_TLS_SMALL_CIPHERS: AES-GCM and Poly1305 through the
# portable code only (6 KB less, bulk AES-GCM about 9x slower on x86-64).
SIZE_QUICKSTART = -DOSB_NO_EGRESS=1 -DOSB_NO_VAULT=1 -DOSB_NO_CODE=1 -DOSB_NO_SESSION=1 -DOSB_NO_MANAGER=1 \
    -DOSB_NO_WS=1 -DOSB_NO_MULTI=1 -DOSB_NO_PROXY=1 -DOSB_NO_CONFIG_FILE=1 -DOSB_NO_FAST_EVENTS=1 \
    -DOSB_SHORT_ERRNO_TEXT=1 -DOSB_NO_SENDFILE=1
# Every row links tools/size_malloc.c instead of musl's allocator: power-of-
# two blocks from 64 KiB mappings, larger ones mapped apiece (8 KB less; the
# same output, a little more memory for a short-lived client).
SIZE_MALLOC = tools/size_malloc.c
SIZE_BEARSSL = build/size/libbearssl.a
SIZE_TLS = -DOSB_TLS=1 -I/usr/include/bearssl
SIZE_OSB_SRC := $(wildcard tools/osb/*.c tools/osb/*.h)
# name | source | extra flags | goal in bytes
SIZE_ROWS = quickstart-tls quickstart osb-tls osb
size_src_quickstart = examples/quickstart.c
size_src_quickstart-tls = examples/quickstart.c
size_src_osb = tools/osb/main.c
size_src_osb-tls = tools/osb/main.c
# Both programs are one translation unit, so their rows share the one-file
# choices: position-dependent code (the static link makes a fixed-address
# executable anyway, so -fPIE only costs longer address loads: osb 2.2 KB,
# quickstart 1.3 KB), the library's functions static (OPENSANDBOX_STATIC:
# the compiler sees every caller and drops, specialises or inlines what no
# other unit could call: osb 7 KB, quickstart 7.1 KB), -Oz (fewer bytes
# even where that takes more instructions, e.g. small constants by
# push/pop: osb 3.5 KB, quickstart 1.3 KB; both mostly wait on the
# network; BearSSL keeps -Os). Output is the same.
SIZE_ONE_FILE = -Oz -fno-pie -no-pie -DOPENSANDBOX_STATIC=1
# osb: as in the quickstart rows OSB_NO_FAST_EVENTS (execd events through
# the general decoder only: 3.6 KB), OSB_SHORT_ERRNO_TEXT (osb's own
# messages take their system error texts from the library too: 1.5 KB),
# OSB_NO_SENDFILE (file uploads by read() and send(), not sendfile: 1.3 KB)
# and, with TLS, OSB_TLS_SMALL_EC and OSB_TLS_SMALL_CIPHERS; switches as
# compare chains, not jump tables, and fewer small functions inlined
# (-fno-jump-tables -fno-inline-small-functions: 1 KB). Streams decode and TLS transfers run slower than in build/osb.
SIZE_OSB = $(SIZE_ONE_FILE) -fno-jump-tables -fno-inline-small-functions \
    -DOSB_NO_FAST_EVENTS=1 -DOSB_SHORT_ERRNO_TEXT=1 -DOSB_NO_SENDFILE=1
# the TLS rows' BearSSL choices (see above)
SIZE_TLS_SMALL = -DOSB_TLS_SMALL_EC=1 -DOSB_TLS_SMALL_CIPHERS=1
size_flags_osb = $(SIZE_OSB)
size_flags_osb-tls = $(SIZE_OSB) $(SIZE_TLS_SMALL)
size_flags_quickstart = $(SIZE_ONE_FILE) $(SIZE_QUICKSTART)
size_flags_quickstart-tls = $(SIZE_ONE_FILE) $(SIZE_QUICKSTART) $(SIZE_TLS_SMALL)
size_goal_quickstart = 98304
size_goal_quickstart-tls = 163840
size_goal_osb = 204800
size_goal_osb-tls = 307200

# Rebuilt when this file (and so SIZE_CFLAGS) changes.
$(SIZE_BEARSSL): mk/size.mk
	@mkdir -p $(@D)
	@tools/bearssl-build.sh $(SIZE_CC) $@ $(SIZE_CFLAGS) >/dev/null 2>&1 || { \
	    echo "size: BearSSL source not available; using Debian's libbearssl.a"; \
	    cp $(BEARSSL_LIB) $@; }

# Only the TLS rows need BearSSL built (tests/examples.sh runs the others).
build/size/quickstart-tls build/size/osb-tls: $(SIZE_BEARSSL)
build/size/%: $(SIZE_OSB_SRC) examples/quickstart.c opensandbox.h tools/musl_fortify_shim.c $(SIZE_MALLOC) mk/size.mk
	@mkdir -p $(@D)
	@$(SIZE_CC) $(SIZE_CFLAGS) $(SIZE_PROFILE) $(size_flags_$*) -I. $(if $(findstring -tls,$*),$(SIZE_TLS)) $(size_src_$*) $(SIZE_MALLOC) \
	    $(if $(findstring -tls,$*),tools/musl_fortify_shim.c $(SIZE_BEARSSL)) \
	    $(SIZE_LDFLAGS) -Wl,-Map,build/size/$*.map -o build/size/$*.full
	@strip -o $@ build/size/$*.full
	@$(PYTHON) tools/size-report.py build/size/$*.map 8 > build/size/$*.txt

size: $(addprefix build/size/,$(SIZE_ROWS))
	@{ echo "| static, stripped (musl, x86-64) | bytes | KB | goal |"; echo "|---|---|---|---|"; \
	  for r in $(SIZE_ROWS); do case $$r in \
	    quickstart-tls) g=$(size_goal_quickstart-tls);; quickstart) g=$(size_goal_quickstart);; \
	    osb-tls) g=$(size_goal_osb-tls);; osb) g=$(size_goal_osb);; esac; \
	    n=$$(wc -c < build/size/$$r); \
	    printf '| %s | %d | %d | %s %d KB |\n' $$r $$n $$(( (n + 1023) / 1024 )) \
	      "$$( [ $$n -le $$g ] && echo met, '<=' || echo over, '<=' )" $$((g / 1024)); \
	  done; } | tee build/size/sizes.md
	@for r in $(SIZE_ROWS); do head -n 4 build/size/$$r.txt | tail -n 3 | sed "s|^ *|$$r: |"; done

.PHONY: size
