# make fuzz: build the libFuzzer targets in fuzz/ on the stable toolchain and
# run each for FUZZ_SECONDS. libFuzzer comes from the libfuzzer-sys crate
# (built with the C++ compiler build-essential brings); coverage comes from
# LLVM's sanitizer-coverage pass, enabled with stable -C flags. --target
# keeps those flags off build scripts, which are not linked with libFuzzer.
# The committed seeds in fuzz/corpus/<target>/ are read, never written: new
# inputs go to fuzz/target/corpus/<target>/, crashes to
# fuzz/target/artifacts/<target>/ (the run stops and `make` fails).
#   make fuzz FUZZ_SECONDS=300 FUZZ_TARGETS="codec broker"

FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= codec broker conf passwd acl
FUZZ_TRIPLE  := $(shell rustc -vV | sed -n 's/^host: //p')
FUZZ_BIN     := fuzz/target/$(FUZZ_TRIPLE)/release
FUZZ_RUSTFLAGS := -Cpasses=sancov-module \
	-Cllvm-args=-sanitizer-coverage-level=4 \
	-Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
	-Cllvm-args=-sanitizer-coverage-pc-table \
	-Cllvm-args=-sanitizer-coverage-trace-compares \
	--cfg fuzzing

.PHONY: fuzz fuzz-build

fuzz-build:
	cd fuzz && RUSTFLAGS="$(FUZZ_RUSTFLAGS)" nice -n 10 $(CARGO) build --release \
		--target $(FUZZ_TRIPLE) --target-dir target --bins

fuzz: fuzz-build
	@set -e; for t in $(FUZZ_TARGETS); do \
		mkdir -p fuzz/target/corpus/$$t fuzz/target/artifacts/$$t; \
		echo "== fuzz $$t for $(FUZZ_SECONDS) s"; \
		nice -n 10 $(FUZZ_BIN)/$$t -max_total_time=$(FUZZ_SECONDS) \
			-print_final_stats=1 -artifact_prefix=fuzz/target/artifacts/$$t/ \
			fuzz/target/corpus/$$t fuzz/corpus/$$t 2>&1 \
			| grep -E '^(stat::number_of_executed_units|Done|INFO: seed)|panicked|ERROR|SUMMARY' \
			|| true; \
		if [ -n "$$(ls fuzz/target/artifacts/$$t)" ]; then \
			echo "fuzz $$t: findings in fuzz/target/artifacts/$$t"; exit 1; fi; \
	done
