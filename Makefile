# opensandbox.h -- build, test, demo, benchmarks.
#   make demo    build, start the dev server, run the quickstart, stop it
#   make test    everything that must pass before a change lands
#   make check   the C suites under ASan+UBSan (gcc and clang) and valgrind
#   make fuzz    every fuzz harness for FUZZ_SECONDS under ASan+UBSan
CC      ?= cc
CFLAGS  ?= -O2 -g
WARN     = -std=c99 -Wall -Wextra -Werror -pedantic
PREFIX  ?= /usr/local
PYTHON  ?= python3
FUZZ_SECONDS ?= 60
B        = build

TEST_SRCS := $(wildcard tests/test_*.c)
TEST_BINS := $(patsubst tests/%.c,$(B)/%,$(TEST_SRCS))
# suites that need BearSSL
TLS_LIBS  = -lbearssl
LDLIBS_test_tls = $(TLS_LIBS)
LDLIBS_test_upload = $(TLS_LIBS)
LDLIBS_test_ws = $(TLS_LIBS)
LDLIBS_test_proxy = $(TLS_LIBS)
LDLIBS_test_multi = $(TLS_LIBS)
LDLIBS_test_alloc = -DOSB_TEST_TLS=1 $(TLS_LIBS)
LDLIBS_test_security = -DOSB_TEST_TLS=1 $(TLS_LIBS)

.PHONY: all deps test check fuzz demo install clean unit matrix conformance static

all: $(TEST_BINS)

deps:
	@tools/ensure-deps.sh

$(B):
	@mkdir -p $(B)

TEST_DEPS = opensandbox.h $(wildcard tests/*.h) $(wildcard tests/fuzz/*.h)
$(B)/test_%: tests/test_%.c $(TEST_DEPS) | $(B)
	$(CC) $(WARN) $(CFLAGS) -I. $< -o $@ $(LDLIBS_test_$*) -lm
# test_osb_text compiles the CLI in whole.
$(B)/test_osb_text: $(wildcard tools/osb/*.c tools/osb/*.h)

# Each C suite is its own program printing "N passed, N failed".
unit: deps $(TEST_BINS)
	@tests/run-suites.sh $(foreach t,$(TEST_BINS),"$(notdir $(t))=$(t)")

matrix: deps
	@tests/compile/matrix.sh

SUITES = $(foreach t,$(TEST_BINS),"$(notdir $(t))=$(t)") \
	"compile-matrix=tests/compile/matrix.sh" \
	"feature-switches=tests/compile/switches.sh"
# test_tls again with the size build's TLS choices: the curves through
# BearSSL's generic code (OSB_TLS_SMALL_EC), portable AES-GCM and Poly1305
# (OSB_TLS_SMALL_CIPHERS)
$(B)/test_tls_small: tests/test_tls.c $(TEST_DEPS) | $(B)
	$(CC) $(WARN) $(CFLAGS) -DOSB_TLS_SMALL_EC=1 -DOSB_TLS_SMALL_CIPHERS=1 -I. $< -o $@ $(TLS_LIBS) -lm
SUITES += "test_tls_small=$(B)/test_tls_small"
TEST_EXTRA += $(B)/test_tls_small
# test_net's socket test again as on systems whose socket() takes no
# SOCK_NONBLOCK/SOCK_CLOEXEC (the flags set by fcntl after it)
$(B)/test_net_fcntl: tests/test_net.c $(TEST_DEPS) | $(B)
	$(CC) $(WARN) $(CFLAGS) -DTEST_SOCKET_FCNTL=1 -I. $< -o $@ -lm
SUITES += "test_net_fcntl=$(B)/test_net_fcntl sockets_"
TEST_EXTRA += $(B)/test_net_fcntl
ifneq ($(wildcard tests/devserver/test_devserver.py),)
SUITES += "devserver=$(PYTHON) tests/devserver/test_devserver.py"
SUITES += "devserver-isolation=$(PYTHON) tests/devserver/test_isolation.py"
endif
ifneq ($(wildcard tests/devserver/test_strict.py),)
SUITES += "devserver-strict=$(PYTHON) tests/devserver/test_strict.py"
endif
ifneq ($(wildcard tests/jssdk/run.sh),)
SUITES += "jssdk-flow=tests/jssdk/run.sh"
endif
ifneq ($(wildcard tools/osb/main.c),)
SUITES += "cli=$(PYTHON) tests/test_cli.py"
SUITES += "shell=$(PYTHON) tests/test_shell.py"
TEST_EXTRA += $(B)/osb
endif
ifneq ($(wildcard tests/json_diff.py),)
SUITES += "json-differential=$(PYTHON) tests/json_diff.py"
endif
ifneq ($(wildcard tests/toml_diff.py),)
SUITES += "toml-differential=$(PYTHON) tests/toml_diff.py"
endif
ifneq ($(wildcard tests/conformance/test_filter.py),)
SUITES += "conformance-filter=$(PYTHON) tests/conformance/test_filter.py"
endif

test: deps $(TEST_BINS) $(TEST_EXTRA)
	@tests/run-suites.sh $(SUITES)

# The C suites again with sanitizers, under gcc and clang, then valgrind.
SAN = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
check: deps
	@mkdir -p $(B)/asan-gcc $(B)/asan-clang $(B)/vg
	@set -e; for t in $(TEST_SRCS); do n=$$(basename $$t .c); \
	  case $$n in test_tls|test_upload|test_ws|test_proxy|test_multi) libs="$(TLS_LIBS)";; test_alloc|test_security) libs="-DOSB_TEST_TLS=1 $(TLS_LIBS)";; *) libs="";; esac; \
	  gcc $(WARN) -O1 -g $(SAN) -I. $$t -o $(B)/asan-gcc/$$n $$libs -lm; \
	  clang $(WARN) -O1 -g $(SAN) -I. $$t -o $(B)/asan-clang/$$n $$libs -lm; \
	  gcc $(WARN) -O1 -g -I. $$t -o $(B)/vg/$$n $$libs -lm; done
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 tests/run-suites.sh \
	  $(foreach t,$(TEST_SRCS),"asan-gcc/$(basename $(notdir $(t)))=$(B)/asan-gcc/$(basename $(notdir $(t)))") \
	  $(foreach t,$(TEST_SRCS),"asan-clang/$(basename $(notdir $(t)))=$(B)/asan-clang/$(basename $(notdir $(t)))") \
	  $(foreach t,$(TEST_SRCS),"valgrind/$(basename $(notdir $(t)))=valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect $(B)/vg/$(basename $(notdir $(t)))")

install:
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/bin
	install -m 644 opensandbox.h $(DESTDIR)$(PREFIX)/include/opensandbox.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e "s|@VERSION@|$$(sed -n 's/^#define OSB_VERSION_STRING "\(.*\)"/\1/p' opensandbox.h)|" \
	  opensandbox.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/opensandbox.pc
	@if [ -x $(B)/osb ]; then install -m 755 $(B)/osb $(DESTDIR)$(PREFIX)/bin/osb; fi

clean:
	rm -rf $(B)

# Fragments: static builds, the command-line tool, examples and demo,
# conformance, fuzzing, benchmarks.
include $(wildcard mk/*.mk)
