# mk/cross.mk -- builds for other machines, run under emulation. Included
# from the Makefile.
#
#   make cross        static binaries for aarch64 and armv7 Linux, plus s390x
#                     (big-endian): the C suites, the examples and osb
#   make test-cross   runs them under qemu-user on this machine: the unit
#                     suites, the quickstart and the CLI flow against the dev
#                     server on loopback (tests/edge_flow.py); prints the pass
#                     counts per target and in total
#
# Toolchains come from Debian (tools/ensure-deps.sh cross): the gcc cross
# compilers, qemu-user, and through multiarch the target's libbearssl.a and,
# where Debian has it, musl (musl-dev:ARCH ships a specs file for the cross
# gcc). Without the target's musl the build is static glibc. s390x builds
# the tokenizer/multipart, HTTP framing, WebSocket and resolver (test_dns,
# the OSB_DNS=1 resolver against tests/servers/dnsserver.py) suites and runs
# them big-endian.
#
# Output: build/cross/TARGET/{test_*,quickstart,examples/*,osb,osb-notls}

CROSS_TARGETS ?= aarch64 armv7
CROSS_BE_TARGETS ?= s390x
CROSS_CFLAGS ?= -std=c99 -Wall -Wextra -Werror -pedantic -Os -ffunction-sections -fdata-sections
CROSS_LDFLAGS ?= -static -Wl,--gc-sections
CROSS_TEST_CFLAGS ?= -std=c99 -Wall -Wextra -Werror -pedantic -O1

# per target: gcc triplet, Debian multiarch directory, musl directory, qemu
cross_gcc_aarch64 = aarch64-linux-gnu-gcc
cross_lib_aarch64 = aarch64-linux-gnu
cross_musl_aarch64 = aarch64-linux-musl
cross_qemu_aarch64 = qemu-aarch64
cross_gcc_armv7 = arm-linux-gnueabihf-gcc
cross_lib_armv7 = arm-linux-gnueabihf
cross_musl_armv7 = arm-linux-musleabihf
cross_qemu_armv7 = qemu-arm
cross_gcc_s390x = s390x-linux-gnu-gcc
cross_lib_s390x = s390x-linux-gnu
cross_musl_s390x = s390x-linux-musl
cross_qemu_s390x = qemu-s390x

# musl when its specs file is installed, else glibc (static either way)
cross_specs = $(wildcard /usr/lib/$(cross_musl_$(1))/musl-gcc.specs)
cross_cc = $(cross_gcc_$(1))$(if $(call cross_specs,$(1)), -specs $(call cross_specs,$(1)))
cross_libc = $(if $(call cross_specs,$(1)),musl,glibc)
cross_bearssl = /usr/lib/$(cross_lib_$(1))/libbearssl.a
# musl builds take BearSSL's headers from their own directory; Debian's
# libbearssl.a calls glibc's __*_chk: tools/musl_fortify_shim.c has them
cross_tls = -DOSB_TLS=1 -I/usr/include/bearssl \
    $(if $(call cross_specs,$(1)),tools/musl_fortify_shim.c) $(call cross_bearssl,$(1))

CROSS_SUITES := $(patsubst tests/%.c,%,$(TEST_SRCS))
CROSS_BE_SUITES ?= test_tokens test_http test_ws test_dns
CROSS_EXAMPLES := $(patsubst examples/%.c,%,$(wildcard examples/*.c))
CROSS_TLS_SUITES = test_tls test_upload test_ws test_multi test_proxy test_alloc test_security
CROSS_SRC_DEPS = opensandbox.h $(wildcard tests/*.h) tools/musl_fortify_shim.c

define cross_target_rules
build/cross/$(1)/test_%: tests/test_%.c $(CROSS_SRC_DEPS)
	@mkdir -p $$(@D)
	$$(call cross_cc,$(1)) $$(CROSS_TEST_CFLAGS) -I. $$< -o $$@ \
	    $$(if $$(filter $$(notdir $$@),$$(CROSS_TLS_SUITES)),$$(if $$(filter test_tls test_upload test_ws test_multi test_proxy,$$(notdir $$@)),,-DOSB_TEST_TLS=1) $$(call cross_tls,$(1))) \
	    $$(CROSS_LDFLAGS) -lm
build/cross/$(1)/examples/%: examples/%.c opensandbox.h
	@mkdir -p $$(@D)
	$$(call cross_cc,$(1)) $$(CROSS_CFLAGS) -I. $$< -o $$@ $$(CROSS_LDFLAGS) -s -lm
build/cross/$(1)/quickstart-tls: examples/quickstart.c $(CROSS_SRC_DEPS)
	@mkdir -p $$(@D)
	$$(call cross_cc,$(1)) $$(CROSS_CFLAGS) -I. $$< $$(call cross_tls,$(1)) -o $$@ $$(CROSS_LDFLAGS) -s -lm
build/cross/$(1)/osb: $(wildcard tools/osb/*.c tools/osb/*.h) $(CROSS_SRC_DEPS)
	@mkdir -p $$(@D)
	$$(call cross_cc,$(1)) $$(CROSS_CFLAGS) -I. tools/osb/main.c $$(call cross_tls,$(1)) -o $$@ $$(CROSS_LDFLAGS) -s -lm
build/cross/$(1)/osb-notls: $(wildcard tools/osb/*.c tools/osb/*.h) $(CROSS_SRC_DEPS)
	@mkdir -p $$(@D)
	$$(call cross_cc,$(1)) $$(CROSS_CFLAGS) -I. tools/osb/main.c -o $$@ $$(CROSS_LDFLAGS) -s -lm
endef
$(foreach t,$(CROSS_TARGETS) $(CROSS_BE_TARGETS),$(eval $(call cross_target_rules,$(t))))

CROSS_BINS := $(foreach t,$(CROSS_TARGETS),\
    $(addprefix build/cross/$(t)/,$(CROSS_SUITES) quickstart-tls osb osb-notls) \
    $(addprefix build/cross/$(t)/examples/,$(CROSS_EXAMPLES))) \
    $(foreach t,$(CROSS_BE_TARGETS),$(addprefix build/cross/$(t)/,$(CROSS_BE_SUITES)))

cross-deps:
	@tools/ensure-deps.sh cross

cross: cross-deps
	@$(MAKE) -s --no-print-directory cross-bins
	@for t in $(CROSS_TARGETS) $(CROSS_BE_TARGETS); do \
	    printf '%-8s %s\n' $$t "$$(file -b build/cross/$$t/test_tokens | cut -d, -f1-2)"; done

cross-bins: $(CROSS_BINS)

# The suites under qemu (each its own "N passed, N failed"), then the flow;
# one run per target, the targets side by side, then every target's result
# and the sum.
cross_run_specs = $(foreach s,$(if $(filter $(1),$(CROSS_BE_TARGETS)),$(CROSS_BE_SUITES),$(CROSS_SUITES)),\
    "$(1)/$(s)=$(cross_qemu_$(1)) build/cross/$(1)/$(s)") \
    $(if $(filter $(1),$(CROSS_BE_TARGETS)),,\
    "$(1)/flow=$(PYTHON) tests/edge_flow.py --label $(1)-$(call cross_libc,$(1)) --runner $(cross_qemu_$(1)) --dir build/cross/$(1)")

test-cross: cross
	@$(foreach t,$(CROSS_TARGETS) $(CROSS_BE_TARGETS),\
	  tests/run-suites.sh $(call cross_run_specs,$(t)) > build/cross/$(t).log 2>&1 &) wait
	@tests/run-suites.sh $(foreach t,$(CROSS_TARGETS) $(CROSS_BE_TARGETS),"$(t) ($(call cross_libc,$(t)), qemu)=cat build/cross/$(t).log")

.PHONY: cross cross-deps cross-bins test-cross
