# make demo   set up, build, train a small classifier on bundled shapes, evaluate and classify
# make test   set up, build, and run every test
# make bench  set up, build, and time pcv against PyTorch CPU on the same shapes
# make build  set up and build only;  make format  clang-format the sources
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_ARGS ?=

.PHONY: all setup configure build demo test bench format clean

all: build

setup:
	@scripts/setup-deps

$(BUILD)/build.ninja: | setup
	cmake -S . -B $(BUILD) -G Ninja $(CMAKE_ARGS)

configure: $(BUILD)/build.ninja

build: configure
	cmake --build $(BUILD) -j $(JOBS)

# The main job on bundled data: train a small PointNet-style classifier on data/demo/shapes,
# evaluate it, and classify a few clouds with the trained model file; then classify synthetic
# furniture (data/demo/furniture) with the shipped ModelNet10 PointConv model, and label the
# ground of a synthetic terrain scan (data/demo/terrain) with the shipped ground model, scored
# against the scene's own ground truth.
demo: build
	$(BUILD)/bin/pcv plugins
	@echo
	$(BUILD)/bin/pcv train data/demo/train.json --output-dir $(BUILD)/demo
	@echo
	$(BUILD)/bin/pcv eval $(BUILD)/demo/model.safetensors data/demo/shapes
	@echo
	$(BUILD)/bin/pcv classify $(BUILD)/demo/model.safetensors data/demo/shapes/*/*_000.xyz
	@echo
	$(BUILD)/bin/pcv classify data/models/pointconv_cls_mn10.safetensors data/demo/furniture/*.xyz
	@echo
	$(BUILD)/bin/pcv segment data/models/pointconv_seg_ground.safetensors data/demo/terrain/scene.xyz --out $(BUILD)/demo/scene_segmented.ply
	$(BUILD)/bin/pcv label data/demo/terrain/scene.xyz --subset data/demo/terrain/scene-ground.xyz --out $(BUILD)/demo/terrain/scene.ply
	$(BUILD)/bin/pcv eval data/models/pointconv_seg_ground.safetensors $(BUILD)/demo/terrain

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

# Benchmarks need PyTorch (scripts/setup-deps --tools). BENCH_THREADS defaults to every CPU.
BENCH_THREADS ?= $(JOBS)
bench: configure
	@scripts/setup-deps --tools
	cmake -S . -B $(BUILD) > /dev/null  # finds what --tools added (nanoflann for the kNN comparison)
	cmake --build $(BUILD) -j $(JOBS) --target pcv_bench_ops pcv_bench_knn pcv_bench_face pcv_cli pcv_nn pcv_upsample pcv_losses pcv_pointconv pcv_face
	/usr/bin/python3 tools/bench/nn_bench.py --pcv-bench $(BUILD)/bin/pcv_bench_ops --threads $(BENCH_THREADS)
	@echo
	/usr/bin/python3 tools/bench/upsample_bench.py --pcv-bench $(BUILD)/bin/pcv_bench_ops --threads $(BENCH_THREADS)
	@echo
	/usr/bin/python3 tools/bench/losses_bench.py --pcv-bench $(BUILD)/bin/pcv_bench_ops --threads $(BENCH_THREADS) --memory
	@echo
	/usr/bin/python3 tools/bench/pointconv_bench.py --pcv $(BUILD)/bin/pcv --threads $(BENCH_THREADS)
	@echo
	PCV_NUM_THREADS=$(BENCH_THREADS) $(BUILD)/bin/pcv_bench_knn
	@echo
	$(BUILD)/bin/pcv_bench_face tests/data/golden/face

format:
	git ls-files '*.c' '*.h' '*.cpp' '*.hpp' | grep -v '^tests/abi/baseline/' | xargs clang-format -i

clean:
	rm -rf $(BUILD)
