// Finite-difference check of an op's backward, in float64.
#pragma once

#include <pcv/kernel.hpp>
#include <pcv/registry.hpp>

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "tensor_matchers.hpp"

namespace pcv::test {

// For L = sum_k w_k * y_k over all outputs y with fixed random weights w, compares the
// gradient from Kernel::backward with central differences (L(x + eps) - L(x - eps)) / 2eps,
// for every element of every float64 input (absent and integer inputs are skipped). Inputs must
// stay away from kinks by more than eps.
inline void expect_backward_matches_differences(const Kernel& kernel, const std::vector<Tensor>& inputs,
                                                double eps = 1e-6, double tol = 1e-7) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal;
  const std::vector<Tensor> outputs = kernel.forward(inputs);
  std::vector<Tensor> weights;
  for (const Tensor& y : outputs) {
    Tensor w(kFloat64, y.shape());
    for (std::int64_t i = 0; i < w.numel(); ++i) w.data<double>()[i] = normal(rng);
    weights.push_back(w);
  }
  const auto loss = [&](const std::vector<Tensor>& x) {
    double sum = 0;
    const auto ys = kernel.forward(x);
    for (std::size_t k = 0; k < ys.size(); ++k)
      for (std::int64_t i = 0; i < ys[k].numel(); ++i)
        sum += ys[k].data<double>()[i] * weights[k].data<double>()[i];
    return sum;
  };
  // Absent optional inputs and integer inputs (indices, targets) have no gradient.
  std::vector<bool> wanted;
  for (const Tensor& t : inputs) wanted.push_back(t.defined() && same_dtype(t.dtype(), kFloat64));
  const std::vector<Tensor> analytic = kernel.backward(inputs, outputs, weights, wanted);
  for (std::size_t n = 0; n < inputs.size(); ++n) {
    if (!wanted[n]) continue;
    std::vector<Tensor> x;
    for (const Tensor& t : inputs) x.push_back(t.defined() ? t.clone() : t);
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
