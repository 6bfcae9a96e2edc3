# Thin front over CMake. Every target installs missing dependencies and configures as needed.
BUILD ?= build
JOBS ?= $(shell nproc)
DEMO ?= out/demo

.PHONY: all deps build test demo bench clean

all: build

deps:
	@scripts/install-deps

$(BUILD)/build.ninja: | deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null

build: deps $(BUILD)/build.ninja
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600

demo: build
	@scripts/demo $(BUILD)/bin $(DEMO)

bench: build
	@scripts/bench $(BUILD)/bin

clean:
	rm -rf $(BUILD)

# --- Hardening: fuzzing and sanitizers (docs/testing.md) ------------------------------------
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 30
FUZZ_CXX ?= clang++-16
FUZZ_TARGETS := fuzz_offer fuzz_plan fuzz_csv fuzz_jsonl fuzz_http_request fuzz_engage_api
SANITIZE_BUILD ?= build-sanitize

.PHONY: fuzz test-sanitize

$(FUZZ_BUILD)/build.ninja: | deps
	@cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCF_FUZZ=ON \
	  -DCMAKE_C_COMPILER=$(subst clang++,clang,$(FUZZ_CXX)) -DCMAKE_CXX_COMPILER=$(FUZZ_CXX) >/dev/null

# Builds every target, then runs each for FUZZ_SECONDS over its checked-in seeds (new inputs go
# to $(FUZZ_BUILD)/corpus/<target>, crashes to $(FUZZ_BUILD)/crash/<target>/); fails on a crash.
fuzz: deps $(FUZZ_BUILD)/build.ninja
	@cmake --build $(FUZZ_BUILD) -j $(JOBS) --target $(FUZZ_TARGETS)
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_BUILD)/corpus/$$t $(FUZZ_BUILD)/crash/$$t; \
	  echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
	  $(FUZZ_BUILD)/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 -print_final_stats=0 \
	    -artifact_prefix=$(FUZZ_BUILD)/crash/$$t/ $(FUZZ_BUILD)/corpus/$$t fuzz/corpus/$$t \
	    >$(FUZZ_BUILD)/$$t.log 2>&1 || { tail -40 $(FUZZ_BUILD)/$$t.log; exit 1; }; \
	  grep DONE $(FUZZ_BUILD)/$$t.log | tail -1; \
	done

$(SANITIZE_BUILD)/build.ninja: | deps
	@cmake -S . -B $(SANITIZE_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCF_SANITIZE=ON >/dev/null

# The whole suite built with ASan and UBSan (gcc); any report fails the test that hit it.
# The full build is hours on a loaded 2-core machine (docs/testing.md), so a part can be built
# and run: make test-sanitize SANITIZE_TARGETS="data_test http_test" SANITIZE_CTEST="-E '_NOT_BUILT|^browser_|^engage_pg_|^console_|^DemoScript'"
SANITIZE_TARGETS ?= all
SANITIZE_CTEST ?=
test-sanitize: deps $(SANITIZE_BUILD)/build.ninja
	@cmake --build $(SANITIZE_BUILD) -j $(JOBS) --target $(SANITIZE_TARGETS)
	@cd $(SANITIZE_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS) --timeout 1800 $(SANITIZE_CTEST)
