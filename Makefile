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
