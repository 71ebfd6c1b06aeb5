// Reusable pieces of graphs, appended node by node to a Graph.
#pragma once

#include <pcv/graph.hpp>

#include <cstdint>
#include <string>

namespace pcv {

// Resize-convolution (Odena, Dumoulin and Olah, "Deconvolution and Checkerboard Artifacts",
// Distill 2016): upsample with a fixed interpolation, then a stride-1 convolution that keeps the
// upsampled size. Every output position sees the same number of input taps, so unlike a
// transposed convolution whose kernel size is not a multiple of its stride it cannot produce
// checkerboard patterns.
struct ResizeConv {
  std::string name;    // node name prefix: nodes "<name>.resize" and "<name>.conv"
  std::string input;   // tensor [N, C_in, *S]
  std::string output;  // tensor [N, C_out, *S·scale]
  int spatial_dims = 2;
  double scale = 2;              // per spatial dim
  std::string mode = "nearest";  // upsample.interpolate's mode: "nearest" or "linear"-family
  std::string weight;            // stored tensor [C_out, C_in, k…], k odd
  std::string bias;              // stored tensor [C_out], or empty for none
  std::int64_t kernel_size = 3;  // odd: padding kernel_size / 2 keeps the size
};

// Appends the two nodes (upsample.interpolate, then nn.conv<D>d with padding kernel_size / 2).
// The upsampled tensor is named "<name>.upsampled". Refuses an even kernel size, a rank other
// than 1-3, or a scale that is not positive.
void add_resize_conv(Graph& graph, const ResizeConv& spec);

}  // namespace pcv
