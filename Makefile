# Convenience targets; see README.md.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)

.PHONY: build run test deps clean

deps:
	bash scripts/install-deps.sh

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	bash scripts/run-dev.sh $(ARGS)

test: build
	bash scripts/test.sh

clean:
	rm -rf $(BUILD_DIR)
