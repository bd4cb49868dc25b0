# mk/bench.mk -- `make bench`: the benchmarks against the peers on a local
# nginx (bench/run.py), writing bench/RESULTS.md. Takes about 3-4 minutes on
# 2 cores. Included from the Makefile. No timing is asserted in `make test`.
#
#   make bench                   everything, 5 runs per row
#   make bench BENCH_RUNS=7      more runs
#   make bench BENCH_ONLY=W1,T1  some workloads (W1 W2 W3 W4 W5 T1 cold idle)

BENCH_CFLAGS ?= -std=c99 -O2 -Wall -Wextra
BENCH_BINS = build/bench/osb_bench build/bench/osb_bench_tls build/bench/osb_bench_io128 \
             build/bench/curl_bench build/bench/tok_bench build/bench/sink
BENCH_HDRS = opensandbox.h $(wildcard parts/*.h)

bench: bench-deps $(BENCH_BINS) build/osb
	@BENCH_RUNS=$(or $(BENCH_RUNS),5) BENCH_ONLY=$(BENCH_ONLY) $(PYTHON) bench/run.py

bench-deps:
	@bench/deps.sh

build/bench/osb_bench: bench/osb_bench.c $(BENCH_HDRS)
	@mkdir -p build/bench
	$(CC) $(BENCH_CFLAGS) -I. $< -o $@

build/bench/osb_bench_tls: bench/osb_bench.c $(BENCH_HDRS)
	@mkdir -p build/bench
	$(CC) $(BENCH_CFLAGS) -DOSB_TLS=1 -I. $< -o $@ -lbearssl

# the same with a 128 KiB receive buffer, for the W3 / transport variant rows
build/bench/osb_bench_io128: bench/osb_bench.c $(BENCH_HDRS)
	@mkdir -p build/bench
	$(CC) $(BENCH_CFLAGS) -DOSB_IO_BUFFER=131072 -I. $< -o $@

build/bench/curl_bench: bench/curl_bench.c
	@mkdir -p build/bench
	$(CC) $(BENCH_CFLAGS) $< -o $@ -lcurl -lcjson

# W4's upload sink (a server: takes the upload route, drops the body)
build/bench/sink: bench/sink.c
	@mkdir -p build/bench
	$(CC) $(BENCH_CFLAGS) $< -o $@ -lpthread

build/bench/tok_bench: bench/tok_bench.c $(BENCH_HDRS)
	@mkdir -p build/bench
	$(CC) $(BENCH_CFLAGS) -I. $< -o $@ -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc -lcjson

.PHONY: bench bench-deps
