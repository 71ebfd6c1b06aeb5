// Test inputs: random tensors and dtype conversions.
#pragma once

#include <pcv/tensor.hpp>

#include <random>
#include <vector>

namespace pcv::test {

// Uniform values in [-1, 1), float32 or float64.
inline Tensor uniform_tensor(pcv_dtype dtype, Shape shape, std::mt19937& rng) {
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  Tensor t(dtype, std::move(shape));
  for (std::int64_t i = 0; i < t.numel(); ++i) {
    if (same_dtype(dtype, kFloat32))
      t.data<float>()[i] = static_cast<float>(uniform(rng));
    else
      t.data<double>()[i] = uniform(rng);
  }
  return t;
}

// A float64 tensor's values rounded to float32.
inline Tensor as_float32(const Tensor& t) {
  const std::vector<double> v = t.to_vector<double>();
  return Tensor::from<float>(t.shape(), std::vector<float>(v.begin(), v.end()));
}

}  // namespace pcv::test
