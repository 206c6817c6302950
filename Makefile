# Two commands: `make demo` and `make test`. Each installs what is missing, configures and builds (Release),
# then runs. BUILD and JOBS may be overridden.
BUILD ?= build
JOBS ?= $(shell nproc)
# OpenBLAS single-threaded while torch runs network work (docs/dependencies.md §0); stable OpenMP timing.
RUN_ENV = OPENBLAS_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE

.PHONY: all deps configure build build-cli demo test bench bench-build clean

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

# About an hour: the program built from scratch four ways (docs/benchmarks.md "Build").
bench-build: deps
	bash bench/build_variants.sh

clean:
	rm -rf $(BUILD) out
