// GoogleTest assertions on tensors.
#pragma once

#include <pcv/tensor.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace pcv::test {

// Same shape and every element within atol + rtol * |expected|.
template <class T>
::testing::AssertionResult tensors_near(const Tensor& actual, const Tensor& expected, double atol,
                                        double rtol = 0) {
  if (actual.shape() != expected.shape())
    return ::testing::AssertionFailure()
           << "shape " << shape_string(actual.shape()) << " != expected " << shape_string(expected.shape());
  const T* a = actual.data<T>();
  const T* e = expected.data<T>();
  for (std::int64_t i = 0; i < actual.numel(); ++i) {
    const double diff = std::abs(double(a[i]) - double(e[i]));
    if (!(diff <= atol + rtol * std::abs(double(e[i]))))
      return ::testing::AssertionFailure()
             << "element " << i << ": " << a[i] << " != expected " << e[i] << " (diff " << diff << ")";
  }
  return ::testing::AssertionSuccess();
}

}  // namespace pcv::test
