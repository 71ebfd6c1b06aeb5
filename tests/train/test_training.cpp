// End to end: a small PointNet-style classifier trained by the Trainer on shapes the test
// generates reaches a stated accuracy in a bounded number of steps, and training is
// deterministic for a fixed seed and thread count (also across a resume).
#include <pcv/classifier.hpp>
#include <pcv/dataset.hpp>
#include <pcv/error.hpp>
#include <pcv/model.hpp>
#include <pcv/point_cloud.hpp>
#include <pcv/runtime.hpp>
#include <pcv/trainer.hpp>
#include <pcv/verification.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <random>

#include <unistd.h>

#include "support/test_plugins.hpp"

#include "support/temp_dir.hpp"

namespace pcv {
namespace {

namespace fs = std::filesystem;

// Three classes that differ in shape, not in position or size: sphere, cube and disk surfaces,
// randomly rotated about z and scaled.
PointCloud make_shape(int cls, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(-1, 1);
  std::normal_distribution<double> n;
  const double angle = 3.14159265 * u(rng), scale = 1 + 0.3 * u(rng);
  PointCloud c;
  for (int i = 0; i < 200; ++i) {
    double p[3];
    if (cls == 0) {  // sphere
      for (double& v : p) v = n(rng);
      const double r = std::sqrt(p[0] * p[0] + p[1] * p[1] + p[2] * p[2]);
      for (double& v : p) v /= r;
    } else if (cls == 1) {  // cube surface
      for (double& v : p) v = u(rng);
      p[i % 3] = (i / 3) % 2 ? 1 : -1;
    } else {  // flat disk
      const double r = std::sqrt(std::abs(u(rng))), t = 3.14159265 * u(rng);
      p[0] = r * std::cos(t), p[1] = r * std::sin(t), p[2] = 0.02 * u(rng);
    }
    const double x = p[0] * std::cos(angle) - p[1] * std::sin(angle),
                 y = p[0] * std::sin(angle) + p[1] * std::cos(angle);
    for (double v : {x, y, p[2]}) c.points.push_back(static_cast<float>(scale * v));
  }
  return c;
}

void write_dataset(const fs::path& root, int per_class, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  const char* names[] = {"sphere", "cube", "disk"};
  for (int cls = 0; cls < 3; ++cls) {
    fs::create_directories(root / names[cls]);
    for (int i = 0; i < per_class; ++i) {
      char file[32];
      std::snprintf(file, sizeof file, "%s_%03d.xyz", names[cls], i);
      write_point_cloud(root / names[cls] / file, make_shape(cls, rng));
    }
  }
}

Tensor uniform(Shape shape, double bound, std::mt19937_64& rng) {
  std::uniform_real_distribution<float> u(static_cast<float>(-bound), static_cast<float>(bound));
  Tensor t(kFloat32, std::move(shape));
  for (std::int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = u(rng);
  return t;
}

// points [B, 3, 64] -> conv1d(3->32, k1) -> relu -> conv1d(32->64, k1) -> relu -> max over
// points -> linear(64->3), with PyTorch's default initialisation bounds (1/sqrt(fan_in)).
void write_initial_model(const fs::path& path) {
  Model m;
  m.graph = Graph::from_json(R"({
    "inputs": [{"name": "points", "dtype": "float32", "shape": [-1, 3, 64]}],
    "outputs": ["logits"],
    "nodes": [
      {"name": "conv1", "op": "nn.conv1d", "inputs": ["points", "conv1.weight", "conv1.bias"], "outputs": ["h1"]},
      {"name": "relu1", "op": "nn.relu", "inputs": ["h1"], "outputs": ["a1"]},
      {"name": "conv2", "op": "nn.conv1d", "inputs": ["a1", "conv2.weight", "conv2.bias"], "outputs": ["h2"]},
      {"name": "relu2", "op": "nn.relu", "inputs": ["h2"], "outputs": ["a2"]},
      {"name": "pool", "op": "nn.global_max_pool", "inputs": ["a2"], "outputs": ["feature"]},
      {"name": "fc", "op": "nn.linear", "inputs": ["feature", "fc.weight", "fc.bias"], "outputs": ["logits"]}
    ]})",
                             "test model");
  std::mt19937_64 rng(99);
  m.tensors["conv1.weight"] = uniform({32, 3, 1}, 1 / std::sqrt(3.0), rng);
  m.tensors["conv1.bias"] = uniform({32}, 1 / std::sqrt(3.0), rng);
  m.tensors["conv2.weight"] = uniform({64, 32, 1}, 1 / std::sqrt(32.0), rng);
  m.tensors["conv2.bias"] = uniform({64}, 1 / std::sqrt(32.0), rng);
  m.tensors["fc.weight"] = uniform({3, 64}, 1 / 8.0, rng);
  m.tensors["fc.bias"] = uniform({3}, 1 / 8.0, rng);
  m.save(path);
}

class Training : public test::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    write_dataset(dir_ / "data", 30, 1);
    write_initial_model(dir_ / "init.safetensors");
  }

  TrainConfig config(const std::string& out, std::int64_t epochs) const {
    return TrainConfig::from_json(R"({
      "model": "init.safetensors",
      "data": {"train": "data", "val_every": 5,
               "preprocessing": {"num_points": 64, "sampling": "fps"},
               "augmentation": {"rotate_up": true, "up_axis": 2, "jitter_sigma": 0.01}},
      "optimizer": {"name": "adamw", "lr": 0.01},
      "schedule": {"kind": "cosine"},
      "batch_size": 8, "seed": 7, "threads": 1,
      "epochs": )" + std::to_string(epochs) +
                                      R"(, "output_dir": ")" + out + R"("})",
                                  dir_, "test config");
  }
};

TEST_F(Training, ReachesAccuracyDeterministicallyAndResumes) {
  // 72 training samples in batches of 8: 9 steps per epoch, 8 epochs = 72 steps.
  Trainer a(test::builtin_plugins(), config("run_a", 8));
  a.run();
  ASSERT_EQ(a.history().size(), 8u);
  EXPECT_GE(a.history().back().val_accuracy, 0.9) << "validation accuracy after 72 steps";
  EXPECT_LT(a.history().back().train_loss, a.history().front().train_loss);
  for (const char* f :
       {"model.safetensors", "checkpoint.safetensors", "log.csv", "curves.png", "confusion.png"})
    EXPECT_TRUE(fs::exists(dir_ / "run_a" / f)) << f;

  // The same seed and thread count give the same run, bit for bit.
  Trainer b(test::builtin_plugins(), config("run_b", 8));
  b.run();
  for (std::size_t e = 0; e < 8; ++e) {
    EXPECT_EQ(a.history()[e].train_loss, b.history()[e].train_loss) << "epoch " << e + 1;
    EXPECT_EQ(a.history()[e].val_accuracy, b.history()[e].val_accuracy) << "epoch " << e + 1;
  }

  // A run interrupted after 4 epochs and resumed continues the same trajectory.
  struct Interrupted {};
  Trainer first(test::builtin_plugins(), config("run_c", 8));
  first.on_epoch = [](const EpochStats& e) {
    if (e.epoch == 4) throw Interrupted{};
  };
  EXPECT_THROW(first.run(), Interrupted);
  Trainer resumed(test::builtin_plugins(), config("run_c", 8));
  resumed.run(/*resume=*/true);
  ASSERT_EQ(resumed.history().size(), 8u);
  EXPECT_EQ(resumed.history().back().train_loss, a.history().back().train_loss);
  EXPECT_EQ(resumed.history().back().val_accuracy, a.history().back().val_accuracy);

  // The best model records the validation it was chosen by.
  const std::string validation =
      Model::load(dir_ / "run_a" / "model.safetensors").metadata.at(kValidationKey);
  EXPECT_NE(validation.find("\"accuracy\""), std::string::npos) << validation;
  EXPECT_NE(validation.find("every 5th sample of each class of data"), std::string::npos) << validation;

  // The trained model file classifies with the preprocessing it recorded.
  Classifier classifier(test::builtin_plugins(), Model::load(dir_ / "run_a" / "model.safetensors"),
                        "trained");
  EXPECT_EQ(classifier.labels(), (std::vector<std::string>{"cube", "disk", "sphere"}));
  const Evaluation e = evaluate(classifier, PointCloudDataset::from_class_folders(dir_ / "data"), 16, 1);
  EXPECT_EQ(e.confusion.total(), 90);
  EXPECT_GE(e.confusion.accuracy(), 0.9);
}

// The same network ending in an 8-d embedding, trained with ArcFace (losses.margin_softmax with
// its class centres as a trained loss weight): embeddings of one class end up close together.
TEST_F(Training, ArcFaceEmbeddingSeparatesTheClasses) {
  Model m = Model::load(dir_ / "init.safetensors");
  m.graph.outputs = {"embedding"};
  m.graph.nodes.back() = GraphNode{"fc", "nn.linear", {}, {"feature", "fc.weight", "fc.bias"}, {"embedding"}};
  std::mt19937_64 rng(5);
  m.tensors["fc.weight"] = uniform({8, 64}, 1 / 8.0, rng);
  m.tensors["fc.bias"] = uniform({8}, 1 / 8.0, rng);
  m.tensors["arcface.weight"] = uniform({3, 8}, 1.0, rng);
  // The initial model's own metadata carries over to the trained one; a stale evaluation does not.
  m.metadata["pcv.face_alignment"] = R"({"upsample": 1})";
  m.metadata[kEvaluationKey] = R"({"accuracy": 0.1})";
  m.save(dir_ / "arcface_init.safetensors");
  Trainer trainer(test::builtin_plugins(), TrainConfig::from_json(R"({
      "model": "arcface_init.safetensors",
      "data": {"train": "data", "val_every": 5, "preprocessing": {"num_points": 64, "sampling": "fps"}},
      "loss": {"op": "losses.margin_softmax", "attrs": {"loss": "arcface", "scale": 16.0, "margin": 0.3},
               "weight": "arcface.weight"},
      "optimizer": {"name": "adamw", "lr": 0.01},
      "batch_size": 8, "seed": 3, "threads": 1, "epochs": 6, "output_dir": "arcface"})",
                                                                  dir_, "arcface config"));
  trainer.run();
  EXPECT_LT(trainer.history().back().train_loss, trainer.history().front().train_loss);

  // Verification over every pair of the 90 clouds: same class when the embeddings' cosine is
  // above a threshold (10-fold protocol, pcv/verification.hpp). Saying "different" always is right
  // for 2/3 of the pairs (chance); the held-out folds must be right for 90 %.
  const Model trained = Model::load(dir_ / "arcface" / "model.safetensors");
  EXPECT_EQ(trained.metadata.at("pcv.face_alignment"), R"({"upsample": 1})");
  EXPECT_FALSE(trained.metadata.contains(kEvaluationKey));
  GraphRuntime runtime(test::builtin_plugins(), trained.graph,
                       TensorMap(trained.tensors.begin(), trained.tensors.end()), "trained");
  const PointCloudDataset data = PointCloudDataset::from_class_folders(dir_ / "data");
  std::vector<std::size_t> all(data.size());
  std::iota(all.begin(), all.end(), std::size_t{0});
  const Batch batch = load_batch(
      data, all, Preprocessing::from_json(R"({"num_points": 64, "sampling": "fps"})"), nullptr, 1, 1);
  const Tensor embedding = runtime.run({{"points", batch.clouds}}).at("embedding");
  std::vector<VerificationPair> pairs;
  const std::int64_t* label = batch.labels.data<std::int64_t>();
  for (std::int64_t i = 0; i < embedding.shape()[0]; ++i)
    for (std::int64_t j = i + 1; j < embedding.shape()[0]; ++j) pairs.push_back({i, j, label[i] == label[j]});
  // Shuffled, as the pairs of a verification list are: folds in index order would each hold the
  // pairs of a few clouds only.
  std::shuffle(pairs.begin(), pairs.end(), std::mt19937_64(17));
  std::vector<std::uint8_t> same;
  for (const VerificationPair& p : pairs) same.push_back(p.same);
  // A fine threshold grid: after 6 short epochs the cosines crowd near 1 (the default grid's
  // 0.005 steps picked 0.995, its last but one), so the default grid cannot separate them.
  VerificationOptions options;
  options.metric = VerificationMetric::cosine;
  for (int k = 0; k <= 20000; ++k) options.thresholds.push_back(-1 + k * 1e-4);
  const VerificationReport report =
      verify(verification_scores(embedding, pairs, VerificationMetric::cosine), same, options);
  EXPECT_GE(report.accuracy, 0.9) << "verification accuracy over " << pairs.size() << " pairs";
  EXPECT_GE(report.auc, 0.95);
}

TEST_F(Training, ConfigErrorsNameTheProblem) {
  EXPECT_THROW(
      TrainConfig::from_json(R"({"model": "m", "data": {"train": "d"}, "epocs": 3})", dir_, "c.json"), Error);
  try {
    TrainConfig::from_json(R"({"model": "m", "data": {"train": "d"}, "epocs": 3})", dir_, "c.json");
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("c.json: unknown key 'epocs'"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace pcv
