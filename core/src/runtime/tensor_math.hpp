// The little arithmetic the host itself does on tensors (summing gradients, optimiser steps).
#pragma once

#include <pcv/tensor.hpp>

namespace pcv::detail {

// a + b, elementwise; same dtype (float32 or float64) and shape.
Tensor add(const Tensor& a, const Tensor& b);
// a += b.
void add_into(Tensor& a, const Tensor& b);

}  // namespace pcv::detail
