// Optimisers and schedules against torch.optim trajectories (tests/data/golden/optim.json).
#include <pcv/error.hpp>
#include <pcv/optimizer.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/golden.hpp"

namespace pcv {
namespace {

const nlohmann::json& golden() {
  static const nlohmann::json j = test::read_json(std::filesystem::path(PCV_GOLDEN_DIR) / "optim.json");
  return j;
}

template <class T>
void replay_trajectories(double tol) {
  ASSERT_FALSE(golden().at("optimizers").empty());
  for (const auto& c : golden().at("optimizers")) {
    SCOPED_TRACE(c.at("config").dump());
    const OptimizerConfig config = OptimizerConfig::from_json(c.at("config").dump(), "golden");
    auto optimizer = Optimizer::create(config);
    TensorMap params;
    const auto shapes = c.at("shapes").get<std::vector<Shape>>();
    const auto name = [](std::size_t i) { return "p" + std::to_string(i); };
    for (std::size_t i = 0; i < shapes.size(); ++i) {
      const auto v = c.at("start")[i].get<std::vector<double>>();
      params[name(i)] = Tensor::from<T>(shapes[i], std::vector<T>(v.begin(), v.end()));
    }
    for (const auto& step : c.at("steps")) {
      TensorMap grads;
      for (std::size_t i = 0; i < shapes.size(); ++i) {
        const auto g = step.at("grads")[i].get<std::vector<double>>();
        grads[name(i)] = Tensor::from<T>(shapes[i], std::vector<T>(g.begin(), g.end()));
      }
      optimizer->step(params, grads, step.at("lr").get<double>());
      for (std::size_t i = 0; i < shapes.size(); ++i) {
        const auto want = step.at("params")[i].get<std::vector<double>>();
        const T* have = params[name(i)].template data<T>();
        for (std::size_t k = 0; k < want.size(); ++k)
          EXPECT_NEAR(have[k], want[k], tol * (1 + std::abs(want[k])));
      }
    }
  }
}

TEST(Optimizer, MatchesTorchOptimInFloat64) { replay_trajectories<double>(1e-12); }
TEST(Optimizer, MatchesTorchOptimInFloat32) { replay_trajectories<float>(1e-6); }

TEST(Optimizer, StateRoundTripContinuesTheSameTrajectory) {
  for (const char* config :
       {R"({"name": "sgd", "lr": 0.1, "momentum": 0.9})", R"({"name": "adamw", "lr": 0.01})"}) {
    const OptimizerConfig c = OptimizerConfig::from_json(config, "test");
    auto a = Optimizer::create(c), b = Optimizer::create(c);
    TensorMap pa{{"w", Tensor::from<double>({2}, {1.0, -2.0})}};
    TensorMap grads{{"w", Tensor::from<double>({2}, {0.5, 0.25})}};
    a->step(pa, grads, 0.1);
    TensorMap pb{{"w", pa.at("w").clone()}};
    b->load_state(a->state());
    a->step(pa, grads, 0.1);
    b->step(pb, grads, 0.1);
    EXPECT_EQ(pa.at("w").to_vector<double>(), pb.at("w").to_vector<double>()) << config;
  }
}

TEST(Schedule, MatchesTorchSchedulers) {
  for (const auto& s : golden().at("schedules")) {
    ScheduleConfig c;
    c.kind = s.at("kind").get<std::string>();
    c.step_size = s.value("step_size", 30);
    c.gamma = s.value("gamma", 0.1);
    c.min_lr = s.value("min_lr", 0.0);
    const auto lrs = s.at("lrs").get<std::vector<double>>();
    const std::int64_t epochs = s.at("epochs").get<std::int64_t>();
    for (std::int64_t e = 0; e < epochs; ++e)
      EXPECT_NEAR(c.lr_at(e, epochs, s.at("base_lr").get<double>()), lrs[e], 1e-12)
          << c.kind << " epoch " << e;
  }
}

TEST(Schedule, WarmupRampsUpLinearly) {
  ScheduleConfig c;
  c.warmup_epochs = 3;
  EXPECT_DOUBLE_EQ(c.lr_at(0, 10, 0.4), 0.1);
  EXPECT_DOUBLE_EQ(c.lr_at(2, 10, 0.4), 0.3);
  EXPECT_DOUBLE_EQ(c.lr_at(3, 10, 0.4), 0.4);
}

TEST(OptimizerConfig, RefusesTyposAndBadValues) {
  const auto error = [](const char* json) {
    try {
      OptimizerConfig::from_json(json, "train.json");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_THAT(error(R"({"name": "sgd", "lr": 0.1, "momentun": 0.9})"),
              ::testing::HasSubstr("unknown key 'momentun'"));
  EXPECT_THAT(error(R"({"name": "adam"})"), ::testing::HasSubstr("'name' must be \"sgd\" or \"adamw\""));
  EXPECT_THAT(error(R"({"lr": -1})"), ::testing::HasSubstr("'lr' must be > 0"));
  EXPECT_THAT(error(R"({"lr": "fast"})"), ::testing::HasSubstr("'lr' has the wrong type"));
  EXPECT_THAT(error(R"({"nesterov": true})"), ::testing::HasSubstr("'nesterov' needs 'momentum' > 0"));
  EXPECT_THAT(error(R"([1])"), ::testing::HasSubstr("train.json: optimizer: must be a JSON object"));
}

}  // namespace
}  // namespace pcv
