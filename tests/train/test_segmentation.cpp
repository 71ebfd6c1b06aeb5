// Segmentation: the Segmenter's tiling labels every point of a cloud larger than a block (checked
// with a model whose answer is known exactly), IoU from the confusion matrix, and a per-point
// model trained by the Trainer on labelled clouds the test generates.
#include <pcv/error.hpp>
#include <pcv/metrics.hpp>
#include <pcv/model.hpp>
#include <pcv/point_cloud.hpp>
#include <pcv/segmenter.hpp>
#include <pcv/trainer.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "support/errors.hpp"
#include "support/temp_dir.hpp"
#include "support/test_plugins.hpp"

namespace pcv {
namespace {

namespace fs = std::filesystem;
using test::error_of;
using ::testing::HasSubstr;

TEST(ConfusionMatrixIou, PerClassAndMean) {
  ConfusionMatrix m(3);
  for (auto [truth, predicted, times] : {std::tuple{0, 0, 3}, {0, 1, 1}, {1, 0, 2}, {1, 1, 4}})
    for (int i = 0; i < times; ++i) m.add(truth, predicted);
  const std::vector<double> iou = m.iou();
  EXPECT_DOUBLE_EQ(iou[0], 3.0 / 6.0);  // TP 3, FN 1, FP 2
  EXPECT_DOUBLE_EQ(iou[1], 4.0 / 7.0);  // TP 4, FN 2, FP 1
  EXPECT_TRUE(std::isnan(iou[2])) << "class 2 is neither present nor predicted";
  EXPECT_DOUBLE_EQ(m.mean_iou(), (3.0 / 6.0 + 4.0 / 7.0) / 2);
  EXPECT_EQ(ConfusionMatrix(2).mean_iou(), 0.0);
}

Tensor tensor_of(const std::vector<float>& values, Shape shape) {
  Tensor t(kFloat32, std::move(shape));
  std::copy(values.begin(), values.end(), t.data<float>());
  return t;
}

Model linear_segmentation_model(std::vector<float> weight, std::vector<float> bias, const std::string& pre) {
  Model m;
  m.graph = Graph::from_json(R"({
    "inputs": [{"name": "points", "dtype": "float32", "shape": [-1, -1, 3]}],
    "outputs": ["logits"],
    "nodes": [{"name": "fc", "op": "nn.linear", "inputs": ["points", "fc.weight", "fc.bias"], "outputs": ["logits"]}]
  })",
                             "test model");
  const auto classes = static_cast<std::int64_t>(bias.size());
  m.tensors["fc.weight"] = tensor_of(weight, {classes, 3});
  m.tensors["fc.bias"] = tensor_of(bias, {classes});
  m.labels = {"low", "high"};
  m.preprocessing = pre;
  m.metadata[kTaskKey] = "segmentation";
  return m;
}

// A 40 x 30 grid in x-y at 0.5 spacing whose z is +100 or -100 by a checkerboard of 7 x 5 cells.
PointCloud checkerboard() {
  PointCloud c;
  for (int i = 0; i < 80; ++i)
    for (int j = 0; j < 60; ++j) {
      const float x = 0.5f * static_cast<float>(i), y = 0.5f * static_cast<float>(j);
      const bool high = (static_cast<int>(x / 7) + static_cast<int>(y / 5)) % 2 == 1;
      c.points.insert(c.points.end(), {x, y, high ? 100.0f : -100.0f});
    }
  return c;
}

TEST(Segmenter, TilesCoverEveryPointAndUnsampledPointsTakeTheirNearestSample) {
  // logits (-z, z): a sampled point is "high" exactly when z > 0; an unsampled one takes its nearest
  // sample's probabilities, which in a 10 m tile is always one at the same height (200 m away
  // vertically is farther than any tile neighbour).
  const PointCloud cloud = checkerboard();
  for (const char* pre : {R"({"num_points": 32, "sampling": "random", "center": false, "unit_sphere": false,
                              "block_size": 10, "layout": "channels_last"})",
                          R"({"num_points": 500, "sampling": "fps", "center": false, "unit_sphere": false,
                              "block_size": 0, "layout": "channels_last"})"}) {
    Segmenter segmenter(test::builtin_plugins(), linear_segmentation_model({0, 0, -1, 0, 0, 1}, {0, 0}, pre),
                        "test");
    const std::vector<std::int32_t> labels = segmenter.segment(cloud, 1, 3);
    ASSERT_EQ(labels.size(), static_cast<std::size_t>(cloud.size()));
    for (std::size_t i = 0; i < labels.size(); ++i)
      ASSERT_EQ(labels[i], cloud.points[3 * i + 2] > 0 ? 1 : 0) << "point " << i << " with " << pre;
  }
}

TEST(Segmenter, RefusesClassifiersAndEmptyClouds) {
  Model m = linear_segmentation_model({0, 0, -1, 0, 0, 1}, {0, 0}, R"({"layout": "channels_last"})");
  m.metadata.clear();
  EXPECT_THAT(error_of([&] { Segmenter(test::builtin_plugins(), m, "cls.safetensors"); }),
              HasSubstr("cls.safetensors: not a segmentation model"));
  Segmenter s(test::builtin_plugins(), linear_segmentation_model({0, 0, -1, 0, 0, 1}, {0, 0}, "{}"), "seg");
  EXPECT_THAT(error_of([&] { s.segment(PointCloud{}); }), HasSubstr("empty cloud"));
}

// Scenes of "ground" (z near 0) and "boxes" (z 2 to 6) over 30 x 30 m; label 1 = box.
PointCloud scene(std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  PointCloud c;
  for (int i = 0; i < 1500; ++i) {
    const float x = 30 * u(rng), y = 30 * u(rng);
    const bool box = std::fmod(x, 10.0f) < 4 && std::fmod(y, 10.0f) < 4;
    c.points.insert(c.points.end(), {x, y, box ? 2 + 4 * u(rng) : 0.3f * u(rng)});
    c.labels.push_back(box ? 1 : 0);
  }
  return c;
}

class SegmentationTraining : public test::TempDirTest {};

TEST_F(SegmentationTraining, PerPointModelLearnsAndSegmenterEvaluatesIt) {
  fs::create_directories(dir_ / "train");
  fs::create_directories(dir_ / "val");
  for (int i = 0; i < 4; ++i)
    write_point_cloud(dir_ / "train" / ("s" + std::to_string(i) + ".ply"), scene(i));
  for (int i = 0; i < 2; ++i)
    write_point_cloud(dir_ / "val" / ("v" + std::to_string(i) + ".pcd"), scene(10 + i));
  // A per-point MLP on raw coordinates (no centring, so height alone decides).
  Model m;
  m.graph = Graph::from_json(R"({
    "inputs": [{"name": "points", "dtype": "float32", "shape": [-1, 128, 3]}],
    "outputs": ["logits"],
    "nodes": [
      {"name": "fc1", "op": "nn.linear", "inputs": ["points", "fc1.weight", "fc1.bias"], "outputs": ["h"]},
      {"name": "relu", "op": "nn.relu", "inputs": ["h"], "outputs": ["a"]},
      {"name": "fc2", "op": "nn.linear", "inputs": ["a", "fc2.weight", "fc2.bias"], "outputs": ["logits"]}]
  })",
                             "test model");
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<float> u(-0.5f, 0.5f);
  const auto random = [&](Shape shape) {
    Tensor t(kFloat32, std::move(shape));
    for (std::int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = u(rng);
    return t;
  };
  m.tensors = {{"fc1.weight", random({16, 3})},
               {"fc1.bias", random({16})},
               {"fc2.weight", random({2, 16})},
               {"fc2.bias", random({2})}};
  m.labels = {"ground", "box"};
  m.save(dir_ / "init.safetensors");
  Trainer trainer(test::builtin_plugins(), TrainConfig::from_json(R"({
      "task": "segmentation", "model": "init.safetensors",
      "data": {"train": "train", "val": "val", "blocks_per_cloud": 8,
               "preprocessing": {"num_points": 128, "sampling": "random", "center": false,
                                 "unit_sphere": false, "scale": 0.2, "block_size": 12, "layout": "channels_last"}},
      "optimizer": {"name": "adamw", "lr": 0.03},
      "batch_size": 4, "seed": 1, "threads": 1, "epochs": 12, "output_dir": "out"})",
                                                                  dir_, "seg config"));
  trainer.run();
  ASSERT_EQ(trainer.history().size(), 12u);
  EXPECT_LT(trainer.history().back().train_loss, trainer.history().front().train_loss);
  EXPECT_GE(trainer.history().back().val_miou, 0.95);

  const Model trained = Model::load(dir_ / "out" / "model.safetensors");
  EXPECT_EQ(trained.metadata.at(kTaskKey), "segmentation");
  // The best model records the validation it was chosen by.
  const std::string& validation = trained.metadata.at(kValidationKey);
  EXPECT_THAT(validation, HasSubstr("\"miou\""));
  EXPECT_THAT(validation, HasSubstr("\"iou\":{\"box\""));
  Segmenter segmenter(test::builtin_plugins(), trained, "trained");
  EXPECT_EQ(segmenter.preprocessing().block_size, 12);
  const Evaluation e =
      evaluate(segmenter, PointCloudDataset::from_labelled_clouds(dir_ / "val", segmenter.labels()), 1);
  EXPECT_EQ(e.confusion.total(), 2 * 1500);
  EXPECT_TRUE(e.failures.empty());
  EXPECT_GE(e.confusion.mean_iou(), 0.95);
}

}  // namespace
}  // namespace pcv
