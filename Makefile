# Two commands: `make demo` and `make test`. Each installs what is missing, configures and builds (Release),
# then runs. BUILD and JOBS may be overridden.
BUILD ?= build
JOBS ?= $(shell nproc)
# OpenBLAS single-threaded while torch runs network work (docs/dependencies.md §0); stable OpenMP timing.
RUN_ENV = OPENBLAS_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE

.PHONY: all deps configure build build-cli demo test bench bench-build fuzz sanitize clean

all: build

deps:
	bash scripts/install-deps.sh

configure: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release

build: configure
	cmake --build $(BUILD) -j$(JOBS)

# The demo needs the program alone, not the test suite's executables.
build-cli: configure
	cmake --build $(BUILD) --target tension_cli -j$(JOBS)

demo: build-cli
	$(RUN_ENV) $(BUILD)/tension demo --out out/demo

test: build
	cd $(BUILD) && $(RUN_ENV) ctest --output-on-failure --timeout 900

bench: build
	$(RUN_ENV) /usr/bin/python3 bench/attribution.py $(BUILD)
	$(RUN_ENV) /usr/bin/python3 bench/featurevis.py $(BUILD)
	$(RUN_ENV) /usr/bin/python3 bench/toy.py $(BUILD)
	$(RUN_ENV) /usr/bin/python3 bench/atlas_umap.py $(BUILD)
	$(RUN_ENV) /usr/bin/python3 bench/atlas.py $(BUILD)
	$(RUN_ENV) /usr/bin/python3 bench/startup.py $(BUILD)
	$(RUN_ENV) /usr/bin/python3 bench/uniqueness.py $(BUILD)
	$(RUN_ENV) /usr/bin/python3 bench/store_memory.py $(BUILD)
	$(RUN_ENV) /usr/bin/python3 bench/pass_memory.py $(BUILD)
	$(RUN_ENV) /usr/bin/python3 bench/scale.py $(BUILD)

# About an hour: the program built from scratch four ways (docs/benchmarks.md "Build").
bench-build: deps
	bash bench/build_variants.sh

# The whole project under AddressSanitizer + UndefinedBehaviorSanitizer in build-asan/, then the test suite under
# it (docs/hardening.md "Sanitizers"). tests/sanitizers/ lists, with reasons, the reports inside LibTorch that are
# suppressed; none of ours. SANITIZE_TESTS narrows the tests (a ctest -R pattern). Left out: the memory tests skip
# themselves (peak RSS counts ASan's quarantine), and SANITIZE_SKIP names the toy claim test that reads a trained loss
# against 1e-6, which the -O2 build's float order misses (2.3e-6) with no sanitizer report.
SANITIZE_TESTS ?= .
SANITIZE_SKIP ?= ToyPresets.ThePaperPresetMakesAbsM12PerfectAndDiagonal
SANITIZE_ENV = ASAN_OPTIONS=detect_leaks=1:detect_odr_violation=0:abort_on_error=1 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/sanitizers/lsan.supp \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:suppressions=$(CURDIR)/tests/sanitizers/ubsan.supp
sanitize: deps
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTENSION_SANITIZE=ON -DTENSION_BUILD_BENCH=OFF
	cmake --build build-asan -j$(JOBS)
	cd build-asan && $(RUN_ENV) $(SANITIZE_ENV) ctest --output-on-failure --timeout 1800 -j$(JOBS) \
		-R '$(SANITIZE_TESTS)' -E '$(SANITIZE_SKIP)'

# The libFuzzer targets (docs/hardening.md "Fuzzing"), built with clang++ in build-fuzz/, each run FUZZ_SECONDS.
FUZZ_SECONDS ?= 120
FUZZ_TARGETS ?= idx jpeg image pth unpickle npy feature tap run_store
fuzz: deps
	cmake -S fuzz -B build-fuzz -DCMAKE_CXX_COMPILER=clang++
	cmake --build build-fuzz -j$(JOBS)
	bash fuzz/run.sh build-fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

clean:
	rm -rf $(BUILD) out
