# mk/wine.mk -- Windows builds (mingw-w64), run under wine. Included from the
# Makefile.
#
#   make win          build/win/: every example, quickstart-tls.exe, osb.exe
#                     (https through BearSSL) and osb-notls.exe, static
#   make test-wine    runs them under wine against the dev server on loopback
#                     (tests/edge_flow.py: the quickstart, the osb flow with a
#                     10 MB upload/download, https with a test CA file, trust
#                     anchors from the Windows ROOT store: tls_anchors.exe)
#
# BearSSL for mingw-w64 is built from Debian's source package
# (tools/bearssl-build.sh); tools/ensure-deps.sh wine installs wine64 and adds
# the deb-src line that needs. The wine prefix is build/wine-prefix (made on
# the first run, ~10 s).

WIN_CC ?= x86_64-w64-mingw32-gcc
WIN_CFLAGS ?= -std=c99 -Wall -Wextra -Werror -pedantic -Os -ffunction-sections -fdata-sections
WIN_LDFLAGS ?= -static -s -Wl,--gc-sections
WIN_LIBS = -lws2_32
WIN_BEARSSL = build/mingw/libbearssl.a
WIN_TLS = -DOSB_TLS=1 -Ibuild/bearssl-src/inc
WIN_TLS_LIBS = $(WIN_BEARSSL) -ladvapi32 -lcrypt32
WIN_EXAMPLES := $(patsubst examples/%.c,build/win/examples/%.exe,$(wildcard examples/*.c))
WIN_BINS = $(WIN_EXAMPLES) build/win/quickstart-tls.exe build/win/osb.exe build/win/osb-notls.exe \
    build/win/tls_anchors.exe
WIN_OSB_SRC := $(wildcard tools/osb/*.c tools/osb/*.h)

$(WIN_BEARSSL):
	tools/bearssl-build.sh $(WIN_CC) $@

build/win/examples/%.exe: examples/%.c opensandbox.h
	@mkdir -p $(@D)
	$(WIN_CC) $(WIN_CFLAGS) -I. $< -o $@ $(WIN_LDFLAGS) $(WIN_LIBS)

build/win/quickstart-tls.exe: examples/quickstart.c opensandbox.h $(WIN_BEARSSL)
	@mkdir -p $(@D)
	$(WIN_CC) $(WIN_CFLAGS) $(WIN_TLS) -I. $< -o $@ $(WIN_LDFLAGS) $(WIN_TLS_LIBS) $(WIN_LIBS)

build/win/tls_anchors.exe: tests/tls_anchors.c opensandbox.h $(WIN_BEARSSL)
	@mkdir -p $(@D)
	$(WIN_CC) $(WIN_CFLAGS) $(WIN_TLS) -I. $< -o $@ $(WIN_LDFLAGS) $(WIN_TLS_LIBS) $(WIN_LIBS)

build/win/osb.exe: $(WIN_OSB_SRC) opensandbox.h $(WIN_BEARSSL)
	@mkdir -p $(@D)
	$(WIN_CC) $(WIN_CFLAGS) $(WIN_TLS) -I. tools/osb/main.c -o $@ $(WIN_LDFLAGS) $(WIN_TLS_LIBS) $(WIN_LIBS)

build/win/osb-notls.exe: $(WIN_OSB_SRC) opensandbox.h
	@mkdir -p $(@D)
	$(WIN_CC) $(WIN_CFLAGS) -I. tools/osb/main.c -o $@ $(WIN_LDFLAGS) $(WIN_LIBS)

win-deps:
	@tools/ensure-deps.sh wine

win: win-deps
	@$(MAKE) -s --no-print-directory $(WIN_BINS)

test-wine: win
	@WINEPREFIX=$(CURDIR)/build/wine-prefix WINEDEBUG=-all tests/run-suites.sh \
	  "windows/flow=$(PYTHON) tests/edge_flow.py --label windows --runner wine --exe .exe --dir build/win"

.PHONY: win win-deps test-wine
