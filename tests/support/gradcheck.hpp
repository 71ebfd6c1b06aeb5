// Finite-difference check of an op's backward, in float64: the gradient-check utility every
// plugin's tests use.
#pragma once

#include <pcv/kernel.hpp>
#include <pcv/registry.hpp>

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "tensor_matchers.hpp"

namespace pcv::test {

// For L = sum_k w_k * y_k over the float64 outputs y with fixed random weights w, compares the
// gradient from Kernel::backward with central differences (L(x + eps) - L(x - eps)) / 2eps for
// every element of every input backward differentiates: float64, present, and neither a state
// input nor one the op declares no_grad. Inputs must stay away from kinks by more than eps.
// Each forward gets fresh copies of the inputs, so ops that update state inputs in training
// mode (batch norm) are checked as well.
inline void expect_backward_matches_differences(const Kernel& kernel, const std::vector<Tensor>& inputs,
                                                const RunOptions& options = {}, double eps = 1e-6,
                                                double tol = 1e-7) {
  const auto& specs = kernel.op().inputs;
  std::vector<bool> wanted;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const ArgInfo& spec = specs[std::min(i, specs.size() - 1)];
    wanted.push_back(inputs[i].defined() && same_dtype(inputs[i].dtype(), kFloat64) && !spec.state &&
                     !spec.no_grad);
  }
  const auto copies = [](const std::vector<Tensor>& in) {
    std::vector<Tensor> out;
    for (const Tensor& t : in) out.push_back(t.defined() ? t.clone() : t);
    return out;
  };
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal;
  // Backward gets the inputs as this forward left them (state updated), as in the graph runtime.
  const std::vector<Tensor> forward_inputs = copies(inputs);
  const std::vector<Tensor> outputs = kernel.forward(forward_inputs, options);
  // Zero for outputs that are not float64 (masks, indices) or that the op does not differentiate.
  std::vector<Tensor> weights;
  for (std::size_t k = 0; k < outputs.size(); ++k) {
    const Tensor& y = outputs[k];
    Tensor w(y.dtype(), y.shape());
    if (same_dtype(y.dtype(), kFloat64) && !kernel.op().outputs[k].no_grad)
      for (std::int64_t i = 0; i < w.numel(); ++i) w.data<double>()[i] = normal(rng);
    weights.push_back(w);
  }
  const auto loss = [&](const std::vector<Tensor>& x) {
    double sum = 0;
    const auto ys = kernel.forward(copies(x), options);
    for (std::size_t k = 0; k < ys.size(); ++k)
      if (same_dtype(ys[k].dtype(), kFloat64))
        for (std::int64_t i = 0; i < ys[k].numel(); ++i)
          sum += ys[k].data<double>()[i] * weights[k].data<double>()[i];
    return sum;
  };
  const std::vector<Tensor> analytic = kernel.backward(forward_inputs, outputs, weights, wanted, options);
  for (std::size_t n = 0; n < inputs.size(); ++n) {
    if (!wanted[n]) continue;
    std::vector<Tensor> x = copies(inputs);
    Tensor numeric(kFloat64, inputs[n].shape());
    double* v = x[n].data<double>();
    for (std::int64_t i = 0; i < x[n].numel(); ++i) {
      const double saved = v[i];
      v[i] = saved + eps;
      const double up = loss(x);
      v[i] = saved - eps;
      const double down = loss(x);
      v[i] = saved;
      numeric.data<double>()[i] = (up - down) / (2 * eps);
    }
    EXPECT_TRUE(tensors_near<double>(analytic[n], numeric, tol, 1e-6))
        << "gradient of input " << n << " of " << kernel.op().full_name;
  }
}

}  // namespace pcv::test
