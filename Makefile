# FerroMQ: C examples, the whole test suite, the benchmark.
#   make examples  build c-examples/*.c against include/ and target/release
#   make test      the full suite (release build, examples, every cargo test)
#   make lint      cargo fmt --check and clippy on every target, warnings denied
#   make bench     FerroMQ vs Paho C and mosquitto, ratio table (not a test)
#   make fuzz      run each fuzz target in fuzz/ for FUZZ_SECONDS (mk/fuzz.mk)
#   make crashtest kill -9 the broker with persistence on CRASH_ITERATIONS times

CARGO  ?= cargo
CC     ?= cc
CFLAGS ?= -O2
WARN   := -Wall -Wextra -Werror
LIBDIR := target/release
LIB    := $(LIBDIR)/libferromq.so

EXAMPLE_SRCS := $(wildcard c-examples/*.c)
EXAMPLES     := $(patsubst c-examples/%.c,build/%,$(EXAMPLE_SRCS))

.PHONY: all lib examples test lint bench clean crashtest

all: examples

# Always ask cargo: it knows whether the library is up to date.
lib:
	$(CARGO) build --release

examples: lib
	$(MAKE) --no-print-directory $(EXAMPLES)

build/%: c-examples/%.c $(LIB)
	@mkdir -p build
	$(CC) $(CFLAGS) $(WARN) -I include $< -o $@ \
		-L $(LIBDIR) -Wl,-rpath,$(abspath $(LIBDIR)) -lferromq -pthread

# One profile (release) for the library, the examples and the tests, so the
# crate is compiled once.
test: examples
	$(CARGO) test --release --no-fail-fast

# The broker crash test at length (`make test` runs a few kills of it).
CRASH_ITERATIONS ?= 50
crashtest:
	FERROMQ_CRASH_ITERATIONS=$(CRASH_ITERATIONS) $(CARGO) test --release --test broker_crash -- --nocapture

# Formatting and clippy; .ci/run runs this before `make test`.
lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

# `lib` also builds target/paho/lib (Paho's names) for the client runs.
bench: lib
	python3 bench/run_all.py $(BENCH_ARGS)

clean:
	rm -rf build
	$(CARGO) clean

# Paho C names, make install / make uninstall, pkg-config and CMake package.
include mk/install.mk

# Fuzz targets (stable toolchain, libFuzzer); not part of `make test`.
include mk/fuzz.mk
