# make fuzz: every harness in tests/fuzz under libFuzzer with ASan+UBSan for
# FUZZ_SECONDS each (CI: FUZZ_SECONDS=30). See tests/fuzz/run.sh.
FUZZ_SECONDS ?= 60
.PHONY: fuzz fuzz-replay
fuzz:
	@FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh $(FUZZ_HARNESSES)

# The committed corpora replayed through gcc-built harnesses (no libFuzzer).
fuzz-replay:
	@mkdir -p build/fuzz
	@set -e; for f in tests/fuzz/fuzz_*.c; do n=$$(basename $$f .c); \
	  libs=; [ $$n != fuzz_tls ] || libs=-lbearssl; \
	  gcc -std=c99 -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -I. $$f -o build/fuzz/$$n-replay $$libs -lm; \
	  build/fuzz/$$n-replay tests/fuzz/corpus/$${n#fuzz_}/*; done
