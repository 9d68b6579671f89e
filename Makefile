# Sigil: `make run` starts a dev server, `make test` runs every test.
JOBS ?= $(shell nproc)
SIGIL_WERROR ?= OFF
CMAKE_FLAGS ?=
BUILD := build
ASAN_BUILD := build-asan
FUZZ_BUILD := build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_RUNS ?= 20000

.PHONY: all deps test-deps build run test unit asan fuzz-smoke fuzz bench bench-smoke soak e2e clean

all: build

deps:
	@scripts/install-deps.sh build

test-deps:
	@scripts/install-deps.sh test
	@scripts/npm-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DSIGIL_WERROR=$(SIGIL_WERROR) $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

run: build
	./$(BUILD)/sigil server --dev

unit: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSIGIL_SANITIZE=ON -DSIGIL_BENCH=OFF -DSIGIL_WERROR=$(SIGIL_WERROR)
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j$(JOBS) -LE slow -E '^Pkcs11'
	# SoftHSM leaks a few OpenSSL objects of its own: suppressed by module name,
	# which needs the slow unwinder to see through libcrypto (these tests only).
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/scripts/lsan.supp ctest --output-on-failure -j$(JOBS) -LE slow -R '^Pkcs11'

$(FUZZ_BUILD)/CMakeCache.txt:
	CXX=clang++ CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSIGIL_FUZZ=ON -DSIGIL_TESTS=OFF -DSIGIL_BENCH=OFF

fuzz-smoke: deps $(FUZZ_BUILD)/CMakeCache.txt
	cmake --build $(FUZZ_BUILD) -j$(JOBS)
	scripts/run-fuzz.sh $(FUZZ_BUILD) runs $(FUZZ_SMOKE_RUNS)

fuzz: deps $(FUZZ_BUILD)/CMakeCache.txt
	cmake --build $(FUZZ_BUILD) -j$(JOBS)
	scripts/run-fuzz.sh $(FUZZ_BUILD) seconds $(FUZZ_SECONDS)

bench: build test-deps
	scripts/run-bench.sh $(BUILD)

# Every benchmark once, briefly: proves they run; the figures mean little.
bench-smoke: build test-deps
	BENCH_ARGS=--benchmark_min_time=0.01 SIGIL_BENCH_SECONDS=0.5 SIGIL_BENCH_SMOKE=1 scripts/run-bench.sh $(BUILD)

# The crash-and-restart loop, much longer than in `make test`.
SOAK_ROUNDS ?= 500
soak: build test-deps
	cd tests/e2e && SIGIL_BIN=$(CURDIR)/$(BUILD)/sigil SIGIL_CRASH_ROUNDS=$(SOAK_ROUNDS) \
	  node --test --test-timeout=0 crash_recovery.test.mjs

e2e: build test-deps
	scripts/run-e2e.sh $(BUILD)

test: test-deps build unit asan fuzz-smoke bench-smoke e2e
	@echo "make test: all suites passed"

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
