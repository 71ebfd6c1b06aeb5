# make demo   set up, build, and show the plugins and ops pcv finds
# make test   set up, build, and run every test
# make build  set up and build only;  make format  clang-format the sources
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_ARGS ?=

.PHONY: all setup configure build demo test format clean

all: build

setup:
	@scripts/setup-deps

$(BUILD)/build.ninja: | setup
	cmake -S . -B $(BUILD) -G Ninja $(CMAKE_ARGS)

configure: $(BUILD)/build.ninja

build: configure
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	$(BUILD)/bin/pcv plugins
	@echo
	$(BUILD)/bin/pcv ops

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

format:
	git ls-files '*.c' '*.h' '*.cpp' '*.hpp' | grep -v '^tests/abi/baseline/' | xargs clang-format -i

clean:
	rm -rf $(BUILD)
