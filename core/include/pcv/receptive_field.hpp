// Receptive-field arithmetic for stacks of convolution, pooling, transposed-convolution and
// upsampling layers (Dang Ha The Hien's recurrences, with dilation and transposed layers).
//
// Per spatial dimension and per layer: output size n, jump j (input pixels between adjacent
// features; fractional after transposed / upsampling layers), receptive field r (input pixels one
// feature sees, padding included: it is not clipped at the borders) and start (input coordinate of
// the centre of feature 0's receptive field). n_0 = input size, j_0 = 1, r_0 = 1, start_0 = 0 (index
// convention: input pixel i is at i) or 0.5 (pixel-centre convention: pixel i spans [i, i+1)).
// With k_eff = d·(k−1) + 1:
//   conv, pool:      n = floor((n + 2p − k_eff)/s) + 1 (ceil mode: ceil, and a last window starting
//                    in the right padding is dropped), j·= s, r += (k_eff−1)·j, start += ((k_eff−1)/2 − p)·j
//   transposed conv: n = (n−1)·s − 2p + k_eff + output_padding, j /= s,
//                    r += (ceil(k_eff/s) − 1)·j (the max over output phases, see RfRow::flags),
//                    start += (p − (k_eff−1)/2)/s · j  (output o sits where a conv with the same
//                    k, s, p, d would take its input: the inverse of the conv's centre map)
//   upsample ×f:     n = floor(n·f), j /= f, r += 0 (nearest), 1·j (linear), 3·j (cubic);
//                    start += (1/f − 1)/2 · j (half-pixel mapping: output o ↔ input (o + ½)/f − ½,
//                    as PyTorch's align_corners=False); align_corners=True: j ·= (n−1)/(n'−1), start kept
//   pixel_shuffle f: n ·= f, j /= f, r kept, start as upsample ×f
//   pixel_unshuffle f, global pools: like a pool with k = s = f (global: k = s = n, giving n = 1)
// On the right-hand sides j is the jump of the layer's input. The transposed and upsampling start
// is the same for a transposed conv k=f s=f, a pixel shuffle ×f and a nearest upsample ×f: in the
// pixel-centre convention output pixel o of a ×f layer covers [o/f, (o+1)/f) of its input pixels.
// These layers' outputs of different phases (o mod s) see different inputs, so start and jump give
// the regular sub-pixel grid, and one output's RF centre may lie off it (by less than half the
// input's jump when d = 1): nearest ×2 output 1 copies input 0 but sits at 0.25 on the grid.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pcv {

struct Model;

enum class RfKind {
  conv,             // convolution (also 1×1 convs: r unchanged)
  pool,             // max / average pooling (stride defaults to the kernel)
  deconv,           // transposed convolution
  upsample,         // nearest / linear / cubic interpolation by a factor or to a size
  pixel_shuffle,    // sub-pixel rearrangement ×f
  pixel_unshuffle,  // its inverse: a k=f s=f window
  global_pool,      // pools all positions: ends the spatial part
  pass,             // element-wise, activation, normalisation, dropout: nothing changes
};

enum class RfUpsampleMode { nearest, linear, cubic };

// Where start_0 lies: 0 (index of the first input pixel) or 0.5 (its centre in pixel units).
enum class RfStart { index, pixel_centre };

// One layer. Spatial lists hold one entry per spatial dimension, or a single entry for all.
struct RfLayer {
  RfKind kind = RfKind::pass;
  std::vector<std::int64_t> kernel{1};
  std::vector<std::int64_t> stride{};  // empty: 1, or the kernel for pools
  std::vector<std::int64_t> padding{0};
  std::vector<std::int64_t> dilation{1};
  std::vector<std::int64_t> output_padding{0};  // transposed conv
  std::vector<double> factor{};                 // upsample, pixel_shuffle, pixel_unshuffle
  std::vector<std::int64_t> size{};             // upsample to this size instead of by a factor
  RfUpsampleMode mode = RfUpsampleMode::nearest;
  bool align_corners = false;  // upsample (linear / cubic)
  bool ceil_mode = false;      // pool

  // The layer in the text-spec form, defaults left out: "conv k=5 s=2", "upsample f=2 mode=linear".
  std::string describe() const;
};

// One spatial dimension of a layer's output.
struct RfDim {
  std::int64_t size = 0;
  double jump = 1;
  double rf = 1;
  double start = 0;
};

struct RfRow {
  std::string name;   // graph node name; "" for text specs
  std::string op;     // graph node op ("nn.conv3d"); "" for text specs
  std::string layer;  // RfLayer::describe(), or "join" / "global_pool" for graph nodes
  std::vector<RfDim> dims;
  // Things to know about this row, e.g. that a transposed conv's RF alternates between output
  // phases (the max is reported), or that the paths joined here are misaligned.
  std::vector<std::string> flags;
};

struct RfReport {
  std::vector<std::int64_t> input_size;  // per spatial dimension
  RfStart convention = RfStart::index;
  std::vector<RfRow> rows;         // one per layer (text spec) or per spatial node (graph)
  std::vector<std::string> notes;  // report-wide remarks (ops assumed pass-through, ...)
  bool spatial = true;             // false: a model without spatial layers (rows is empty)
};

// Parses "conv k=5 s=2; conv k=3; pool k=2 s=2; deconv k=4 s=2 p=1; upsample f=2 mode=linear".
// Layers are separated by ';'. Kinds: conv, pool, deconv, upsample, pixel_shuffle,
// pixel_unshuffle, global_pool, and pass (alias id, act, relu, bn, dropout, add). Keys: k, s, p, d,
// op (output padding), f (factor), mode (nearest, linear, cubic), align_corners (0/1),
// ceil (0/1); a per-dimension value is written 3x3x1. Defaults: s=1 (pool: s=k), p=0, d=1.
// Errors name the layer number and the bad token.
std::vector<RfLayer> parse_rf_layers(std::string_view spec);

// The calculator for a chain of layers on an input of input_size (one entry per spatial
// dimension, or one for all; the layers' lists may set the number of dimensions).
RfReport receptive_field(const std::vector<RfLayer>& layers, std::vector<std::int64_t> input_size,
                         RfStart convention = RfStart::index);

// The same for a model's graph, following every path from the spatial graph inputs (rank ≥ 3:
// [N, C, *S]). Nodes that do not change the geometry are left out of the rows. Where paths join
// (add, concat, ...) the output takes the path with the largest RF and is flagged when the joined
// jumps or starts differ. flatten, reshape, linear and global pools end the spatial part.
// input_size empty: the graph input's shape.
RfReport receptive_field(const Model& model, std::vector<std::int64_t> input_size,
                         RfStart convention = RfStart::index);

}  // namespace pcv
