// Optimisers (PyTorch's update rules) and learning-rate schedules.
#pragma once

#include <pcv/runtime.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace pcv {

struct OptimizerConfig {
  std::string name = "sgd";  // "sgd" or "adamw"
  double lr = 0.01;
  double weight_decay = 0.0;                      // sgd: L2 added to the gradient; adamw: decoupled decay
  double momentum = 0.0;                          // sgd
  bool nesterov = false;                          // sgd; needs momentum > 0
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  // adamw

  // {"name": "adamw", "lr": 0.001, ...}; unknown keys and bad values are errors naming `where`.
  static OptimizerConfig from_json(std::string_view json, const std::string& where);
  std::string to_json() const;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  static std::unique_ptr<Optimizer> create(const OptimizerConfig& config);

  // One update of every parameter that has a gradient, in place, with learning rate lr.
  virtual void step(TensorMap& parameters, const TensorMap& gradients, double lr) = 0;
  // State to checkpoint ("<param>/<buffer>" plus "step"), and to restore on resume.
  virtual TensorMap state() const = 0;
  virtual void load_state(const TensorMap& state) = 0;
};

struct ScheduleConfig {
  std::string kind = "constant";  // "constant", "step" or "cosine"
  std::int64_t step_size = 30;    // step: multiply by gamma every step_size epochs
  double gamma = 0.1;
  double min_lr = 0.0;             // cosine: the floor the learning rate approaches at the end
  std::int64_t warmup_epochs = 0;  // linear ramp from lr/(warmup+1) before the schedule

  static ScheduleConfig from_json(std::string_view json, const std::string& where);
  std::string to_json() const;
  // Learning rate for a 0-based epoch of `epochs`, like PyTorch's StepLR / CosineAnnealingLR
  // stepped once per epoch.
  double lr_at(std::int64_t epoch, std::int64_t epochs, double base_lr) const;
};

}  // namespace pcv
