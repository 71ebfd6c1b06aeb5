#include <pcv/error.hpp>
#include <pcv/graph_patterns.hpp>

#include <vector>

namespace pcv {

void add_resize_conv(Graph& graph, const ResizeConv& spec) {
  const std::string where = "resize-conv '" + spec.name + "'";
  if (spec.spatial_dims < 1 || spec.spatial_dims > 3)
    throw Error(where + ": spatial_dims = " + std::to_string(spec.spatial_dims) + ", expected 1, 2 or 3",
                PCV_ERR_INVALID_ARGUMENT);
  if (spec.kernel_size < 1 || spec.kernel_size % 2 == 0)
    throw Error(where + ": kernel_size = " + std::to_string(spec.kernel_size) +
                    " must be odd, so that padding kernel_size / 2 keeps the upsampled size",
                PCV_ERR_INVALID_ARGUMENT);
  if (!(spec.scale > 0))
    throw Error(where + ": scale = " + std::to_string(spec.scale) + " must be positive",
                PCV_ERR_INVALID_ARGUMENT);
  // interpolate names its linear mode after the rank: linear, bilinear, trilinear.
  std::string mode = spec.mode;
  if (mode == "linear" || mode == "bilinear" || mode == "trilinear") {
    static const char* const kLinear[] = {"linear", "bilinear", "trilinear"};
    mode = kLinear[spec.spatial_dims - 1];
  }
  const std::string upsampled = spec.name + ".upsampled";
  graph.nodes.push_back(GraphNode{spec.name + ".resize",
                                  "upsample.interpolate",
                                  {{"mode", mode}, {"scale_factor", std::vector<double>{spec.scale}}},
                                  {spec.input},
                                  {upsampled}});
  std::vector<std::string> conv_inputs{upsampled, spec.weight};
  if (!spec.bias.empty()) conv_inputs.push_back(spec.bias);
  graph.nodes.push_back(GraphNode{spec.name + ".conv",
                                  "nn.conv" + std::to_string(spec.spatial_dims) + "d",
                                  {{"padding", std::vector<std::int64_t>{spec.kernel_size / 2}}},
                                  std::move(conv_inputs),
                                  {spec.output}});
}

}  // namespace pcv
