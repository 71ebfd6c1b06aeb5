#include <pcv/error.hpp>
#include <pcv/optimizer.hpp>

#include <cmath>

#include "train/json_fields.hpp"

namespace pcv {
namespace {

// Calls f(T{}) with the float type of t.
template <class F>
void with_float(const Tensor& t, const std::string& name, F&& f) {
  if (same_dtype(t.dtype(), kFloat32))
    f(float{});
  else if (same_dtype(t.dtype(), kFloat64))
    f(double{});
  else
    throw Error("parameter '" + name + "' has dtype " + dtype_name(t.dtype()) +
                "; optimisers need float32/float64");
}

void check_gradient(const std::string& name, const Tensor& p, const Tensor& g) {
  if (g.shape() != p.shape() || !same_dtype(g.dtype(), p.dtype()))
    throw Error("the gradient of '" + name + "' is " + dtype_name(g.dtype()) + shape_string(g.shape()) +
                    ", the parameter is " + dtype_name(p.dtype()) + shape_string(p.shape()),
                PCV_ERR_SHAPE);
}

// PyTorch's SGD: g += wd·p; buf = momentum·buf + g (buf = g at the first step);
// g = nesterov ? g + momentum·buf : buf; p -= lr·g.
class Sgd : public Optimizer {
 public:
  explicit Sgd(const OptimizerConfig& c) : c_(c) {}

  void step(TensorMap& parameters, const TensorMap& gradients, double lr) override {
    for (auto& [name, p] : parameters) {
      auto git = gradients.find(name);
      if (git == gradients.end()) continue;
      check_gradient(name, p, git->second);
      with_float(p, name, [&](auto zero) {
        using T = decltype(zero);
        T* w = p.template data<T>();
        const T* g = git->second.template data<T>();
        T* buf = nullptr;
        bool first = false;
        if (c_.momentum != 0) {
          auto [it, fresh] = buffers_.try_emplace(name + "/momentum_buffer");
          if (fresh) it->second = Tensor(p.dtype(), p.shape());
          buf = it->second.template data<T>();
          first = fresh;
        }
        for (std::int64_t i = 0; i < p.numel(); ++i) {
          double d = double(g[i]) + c_.weight_decay * double(w[i]);
          if (buf) {
            const double b = first ? d : c_.momentum * double(buf[i]) + d;
            buf[i] = T(b);
            d = c_.nesterov ? d + c_.momentum * b : b;
          }
          w[i] = T(double(w[i]) - lr * d);
        }
      });
    }
  }
  TensorMap state() const override { return buffers_; }
  void load_state(const TensorMap& state) override {
    buffers_.clear();
    for (const auto& [name, t] : state) buffers_[name] = t.clone();
  }

 private:
  OptimizerConfig c_;
  TensorMap buffers_;
};

// PyTorch's AdamW: p *= 1 − lr·wd; m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;
// p −= lr·(m / (1−β1^t)) / (sqrt(v / (1−β2^t)) + eps).
class AdamW : public Optimizer {
 public:
  explicit AdamW(const OptimizerConfig& c) : c_(c) {}

  void step(TensorMap& parameters, const TensorMap& gradients, double lr) override {
    ++t_;
    const double bias1 = 1 - std::pow(c_.beta1, double(t_)), bias2 = 1 - std::pow(c_.beta2, double(t_));
    for (auto& [name, p] : parameters) {
      auto git = gradients.find(name);
      if (git == gradients.end()) continue;
      check_gradient(name, p, git->second);
      with_float(p, name, [&](auto zero) {
        using T = decltype(zero);
        T* w = p.template data<T>();
        const T* g = git->second.template data<T>();
        T* m = buffer(name + "/exp_avg", p).template data<T>();
        T* v = buffer(name + "/exp_avg_sq", p).template data<T>();
        for (std::int64_t i = 0; i < p.numel(); ++i) {
          const double gi = g[i];
          double wi = double(w[i]) * (1 - lr * c_.weight_decay);
          const double mi = c_.beta1 * double(m[i]) + (1 - c_.beta1) * gi;
          const double vi = c_.beta2 * double(v[i]) + (1 - c_.beta2) * gi * gi;
          m[i] = T(mi);
          v[i] = T(vi);
          wi -= lr * (mi / bias1) / (std::sqrt(vi / bias2) + c_.eps);
          w[i] = T(wi);
        }
      });
    }
  }
  TensorMap state() const override {
    TensorMap s = buffers_;
    s["step"] = Tensor::from<std::int64_t>({}, {t_});
    return s;
  }
  void load_state(const TensorMap& state) override {
    buffers_.clear();
    t_ = 0;
    for (const auto& [name, t] : state) {
      if (name == "step")
        t_ = t.data<std::int64_t>()[0];
      else
        buffers_[name] = t.clone();
    }
  }

 private:
  Tensor& buffer(const std::string& key, const Tensor& like) {
    auto [it, fresh] = buffers_.try_emplace(key);
    if (fresh) it->second = Tensor(like.dtype(), like.shape());
    return it->second;
  }
  OptimizerConfig c_;
  TensorMap buffers_;
  std::int64_t t_ = 0;
};

}  // namespace

std::unique_ptr<Optimizer> Optimizer::create(const OptimizerConfig& c) {
  if (c.name == "sgd") return std::make_unique<Sgd>(c);
  if (c.name == "adamw") return std::make_unique<AdamW>(c);
  throw Error("unknown optimizer '" + c.name + "' (use sgd or adamw)");
}

OptimizerConfig OptimizerConfig::from_json(std::string_view text, const std::string& where) {
  detail::JsonFields f(text, where + ": optimizer");
  OptimizerConfig c;
  f.read("name", c.name);
  f.read("lr", c.lr);
  f.read("weight_decay", c.weight_decay);
  f.read("momentum", c.momentum);
  f.read("nesterov", c.nesterov);
  f.read("beta1", c.beta1);
  f.read("beta2", c.beta2);
  f.read("eps", c.eps);
  f.finish();
  if (c.name != "sgd" && c.name != "adamw")
    f.fail("'name' must be \"sgd\" or \"adamw\", not \"" + c.name + "\"");
  if (!(c.lr > 0)) f.fail("'lr' must be > 0");
  if (c.weight_decay < 0 || c.momentum < 0) f.fail("'weight_decay' and 'momentum' must be >= 0");
  if (c.nesterov && c.momentum <= 0) f.fail("'nesterov' needs 'momentum' > 0");
  if (!(c.beta1 >= 0 && c.beta1 < 1 && c.beta2 >= 0 && c.beta2 < 1))
    f.fail("'beta1' and 'beta2' must be in [0, 1)");
  return c;
}

std::string OptimizerConfig::to_json() const {
  return nlohmann::json{{"name", name},
                        {"lr", lr},
                        {"weight_decay", weight_decay},
                        {"momentum", momentum},
                        {"nesterov", nesterov},
                        {"beta1", beta1},
                        {"beta2", beta2},
                        {"eps", eps}}
      .dump();
}

ScheduleConfig ScheduleConfig::from_json(std::string_view text, const std::string& where) {
  detail::JsonFields f(text, where + ": schedule");
  ScheduleConfig c;
  f.read("kind", c.kind);
  f.read("step_size", c.step_size);
  f.read("gamma", c.gamma);
  f.read("min_lr", c.min_lr);
  f.read("warmup_epochs", c.warmup_epochs);
  f.finish();
  if (c.kind != "constant" && c.kind != "step" && c.kind != "cosine")
    f.fail("'kind' must be \"constant\", \"step\" or \"cosine\", not \"" + c.kind + "\"");
  if (c.step_size < 1) f.fail("'step_size' must be >= 1");
  if (c.warmup_epochs < 0) f.fail("'warmup_epochs' must be >= 0");
  return c;
}

std::string ScheduleConfig::to_json() const {
  return nlohmann::json{{"kind", kind},
                        {"step_size", step_size},
                        {"gamma", gamma},
                        {"min_lr", min_lr},
                        {"warmup_epochs", warmup_epochs}}
      .dump();
}

double ScheduleConfig::lr_at(std::int64_t epoch, std::int64_t epochs, double base_lr) const {
  if (epoch < warmup_epochs) return base_lr * double(epoch + 1) / double(warmup_epochs + 1);
  const std::int64_t e = epoch - warmup_epochs, total = std::max<std::int64_t>(1, epochs - warmup_epochs);
  if (kind == "step") return base_lr * std::pow(gamma, double(e / step_size));
  if (kind == "cosine") {
    const double pi = std::acos(-1.0);
    return min_lr + (base_lr - min_lr) * (1 + std::cos(pi * double(e) / double(total))) / 2;
  }
  return base_lr;
}

}  // namespace pcv
