# Chorus — thin wrapper over scripts/ and CMake (DESIGN §4): deps → configure → build → act.
#   make run     install what is missing, build Release, run build/bin/chorusd with the embedded defaults
#   make test    install what is missing (test peers too), build, run every test (what CI runs)
#   make build   configure and build Release into build/
#   make package build the Debian package build/chorus_<version>_<arch>.deb (CPack: packaging/)
#   make bench   build and run the benchmarks in bench/ (figures go to bench/RESULTS.md)
#   make fuzz    build the libFuzzer targets and run each for FUZZ_SECONDS (default 60)
SHELL := /bin/bash
BUILD_DIR ?= build
ASAN_DIR ?= build-asan
FUZZ_DIR ?= build-fuzz
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 60
# make test fuzzes each target for less time than `make fuzz`, to keep CI under its 30-minute aim.
TEST_FUZZ_SECONDS ?= 8
ARGS ?=
# clang-19's sanitizer runtime does not find a symbolizer by itself: without one, reports have no
# file:line and tests/lsan.supp (function names) matches nothing. llvm-19 (install-deps.sh) has it.
SYMBOLIZER ?= $(shell command -v llvm-symbolizer-19 || command -v llvm-symbolizer)
CMAKE_FLAGS ?=
# Unity builds (CMakeLists.txt says what they ask of the code): each library's and test binary's files
# compiled in batches of 16, so the headers they share are parsed once per batch. From a clean clone the
# ASan tree builds in about a fifth of the CPU time (bench/RESULTS.md, "make test"). An edit recompiles
# its whole batch, so for day-to-day work configure a tree of your own with UNITY=OFF.
UNITY ?= ON
UNITY_FLAGS = -DCMAKE_UNITY_BUILD=$(UNITY) -DCMAKE_UNITY_BUILD_BATCH_SIZE=16

.PHONY: all deps deps-build build chorusd package run test unit-test integration-test sanitize sanitize-build sanitize-test tidy-sanitize-tree fuzz fuzz-build bench format format-check tidy clean

all: build

deps:
	@scripts/install-deps.sh

deps-build:
	@scripts/install-deps.sh --build-only

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release $(UNITY_FLAGS) $(CMAKE_FLAGS)

build: $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

# The .deb's dependencies are computed by dpkg-shlibdeps (dpkg-dev, installed by deps-build).
package: deps-build build
	cmake --build $(BUILD_DIR) --target package

run: deps-build build
	$(BUILD_DIR)/bin/chorusd $(ARGS)

# Every test, in the time CI has on two cores: the format check; the integration and conformance
# tests against a Release chorusd; every unit test and the conformance run again under ASan/UBSan
# (sanitize); clang-tidy (DESIGN §4); each fuzz target for TEST_FUZZ_SECONDS under ASan/UBSan. The
# Release tree builds only chorusd here: the unit tests run in the sanitizer tree, and compiling
# them twice cost CI 14 minutes. clang-tidy reads the sanitizer tree's compile commands: they are
# clang's, so it reuses that tree's precompiled headers and takes half the time it takes over
# GCC's (about 6 minutes instead of 13).
# The integration tests leave about one core idle (they wait on peers playing in real time, on
# timers and on the RUN_SERIAL tests), so the sanitizer tree, clang-tidy and the fuzz targets are
# built meanwhile at idle priority (SCHED_IDLE: the CPU goes to them only when no test wants it, and
# a waking test preempts them at once; nice 19 where SCHED_IDLE is refused). Their output goes to
# BACKGROUND_LOG, shown if they fail. The tests made of many small wake-ups (Chromium, the recorder:
# label "quiet") wait for those builds (a woken task preempts an idle-priority compiler only slowly on
# these VMs: scripts/run-tests.sh), and so do
# the sanitized tests and the fuzzers, which run afterwards, alone: they are timed by CPU-hungry peers
# and clocks.
BACKGROUND_LOG ?= $(BUILD_DIR)/test-background.log
test: deps format-check chorusd
	@idle="chrt --idle 0"; $$idle true 2>/dev/null || idle="nice -n 19"; \
	  $$idle $(MAKE) --no-print-directory sanitize-build tidy-sanitize-tree fuzz-build > $(BACKGROUND_LOG) 2>&1 & \
	  background=$$!; \
	  scripts/run-tests.sh $(BUILD_DIR) integration-beside-builds; tests=$$?; \
	  echo "test: waiting for the builds beside the integration tests ($(BACKGROUND_LOG))"; \
	  wait $$background; built=$$?; \
	  if [ $$built != 0 ]; then tail -n 200 $(BACKGROUND_LOG); echo "test: a build beside the tests failed" >&2; fi; \
	  scripts/run-tests.sh $(BUILD_DIR) quiet; quiet=$$?; \
	  [ $$tests = 0 ] && [ $$built = 0 ] && [ $$quiet = 0 ]
	$(MAKE) sanitize-test
	scripts/run-fuzzers.sh $(FUZZ_DIR) $(TEST_FUZZ_SECONDS)

# chorusd alone (with the prompts it speaks), without the unit tests and the load tools.
chorusd: $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS) --target chorusd

unit-test: build
	ctest --test-dir $(BUILD_DIR) -L unit --output-on-failure -j $(JOBS)

integration-test: chorusd
	scripts/run-tests.sh $(BUILD_DIR) integration

# ASan/UBSan over the unit tests and the conformance run against a sanitized chorusd.
# clang-19 at -O0 -g1: sanitizer reports keep file:line, and the tree builds 2.5x quicker than with
# GCC at -O1 (measured per file: 16 s against 41 s for a REST test), which keeps CI inside its time.
sanitize:
	$(MAKE) sanitize-build
	$(MAKE) sanitize-test

sanitize-build:
	cmake -S . -B $(ASAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++-19 \
	  -DCMAKE_CXX_FLAGS_DEBUG="-O0 -g1" -DCHORUS_SANITIZE=ON $(UNITY_FLAGS) $(CMAKE_FLAGS)
	cmake --build $(ASAN_DIR) -j $(JOBS)

sanitize-test:
	ASAN_SYMBOLIZER_PATH=$(SYMBOLIZER) ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(ASAN_DIR) -L 'unit|sanitize' --output-on-failure -j $(JOBS)

# clang-tidy over the sanitizer tree's compile commands (built by sanitize-build).
tidy-sanitize-tree:
	scripts/tidy.sh $(ASAN_DIR)

fuzz-build:
	cmake -S . -B $(FUZZ_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-19 \
	  -DCHORUS_FUZZ=ON -DCHORUS_TESTS=OFF $(UNITY_FLAGS) $(CMAKE_FLAGS)
	cmake --build $(FUZZ_DIR) -j $(JOBS) --target fuzz_targets

fuzz: fuzz-build
	scripts/run-fuzzers.sh $(FUZZ_DIR) $(FUZZ_SECONDS)

bench: build
	scripts/run-benchmarks.sh $(BUILD_DIR)

format:
	scripts/format.sh fix

format-check:
	scripts/format.sh check

tidy: build
	scripts/tidy.sh $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(FUZZ_DIR)
