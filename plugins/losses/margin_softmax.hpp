// losses.margin_softmax: softmax cross-entropy over class centres with the margins of NormFace,
// SphereFace, CosFace, ArcFace and the combined margin, fused: one B×C buffer (the probabilities,
// an output, which backward reads instead of recomputing the logits).
#pragma once

#include <pcv/sdk.hpp>

#include <cstdint>
#include <string>

namespace pcv::losses {

enum class MarginKind { softmax, normface, sphereface, cosface, arcface, combined };

struct MarginOptions {
  MarginKind kind = MarginKind::arcface;
  double scale = 64;
  double m1 = 1, m2 = 0, m3 = 0;              // every kind but softmax and sphereface, as a combined margin
  int sphere_m = 4;                           // sphereface's integer multiplier
  bool easy_margin = false, fallback = true;  // arcface
  bool straight_through = false;
  double label_smoothing = 0;
  bool mean = true;
  double lambda = 0;  // sphereface without a step input
  double lambda_base = 1000, lambda_gamma = 0.12, lambda_power = 1, lambda_min = 5;
  double sample_rate = 1;  // PartialFC class-centre sampling in training when < 1
};

class MarginSoftmax {
 public:
  static sdk::OpSpec spec();
  explicit MarginSoftmax(const sdk::Attributes& attrs);
  void infer_shapes(sdk::ShapeContext& ctx) const;
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;

 private:
  MarginOptions options_;
};

}  // namespace pcv::losses
