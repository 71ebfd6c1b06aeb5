// A stand-in embedding "model" for tests: global average pooling of a preprocessed grey
// height x width image, so each embedding is the image's mean and easy to predict.
#pragma once

#include <pcv/model.hpp>

#include <string>

namespace pcv::test {

inline Model mean_image_model(int height, int width) {
  const std::string h = std::to_string(height), w = std::to_string(width);
  Model m;
  m.graph = Graph::from_json(
      R"({"inputs": [{"name": "image", "dtype": "float32", "shape": [-1, 1, )" + h + ", " + w +
          R"(]}], "outputs": ["e"], "nodes": [{"name": "pool", "op": "nn.global_avg_pool",
                                 "inputs": ["image"], "outputs": ["e"]}]})",
      "mean image model");
  m.labels = {"a"};
  m.preprocessing =
      R"({"input": "image", "height": )" + h + R"(, "width": )" + w + R"(, "image_channels": 1})";
  return m;
}

}  // namespace pcv::test
