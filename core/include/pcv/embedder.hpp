// Embeddings of images with a model file (a face-embedding model trained by pcv train), for
// verification over pairs of images.
#pragma once

#include <pcv/model.hpp>
#include <pcv/registry.hpp>
#include <pcv/tensor.hpp>
#include <pcv/verification.hpp>

#include <filesystem>
#include <functional>
#include <vector>

namespace pcv {

struct EmbedOptions {
  int threads = 0;  // 0: the library default
  std::int64_t batch_size = 32;
  // Embed each image and its mirror image and sum the two (insightface's verification protocol).
  bool flip_sum = true;
};

// Embeddings [N, d] float32, one row per image, and the rows whose image had no face found and was
// used through the model's fallback.
struct Embeddings {
  Tensor values;
  std::vector<std::size_t> fell_back;
};

// Runs `model` (one graph input, image preprocessing: see Preprocessing::input) on each image and
// stacks its first output. A model that records a face alignment (kFaceAlignmentKey, written by
// the script that made it: its training crops came from pcv faces align with those settings)
// gets each image's largest face aligned the same way; an image without a face takes the
// recorded fallback, or is an error naming it when there is none. Other models take the images
// as they are. An image that cannot be read is an error naming it. `progress` hears of each batch.
Embeddings embed_images(const Registry& registry, Model model, const std::string& where,
                        const std::vector<std::filesystem::path>& images, const EmbedOptions& options = {},
                        const std::function<void(std::size_t done, std::size_t total)>& progress = {});

// A pairs file of images: one pair per line, "image1 image2 same" where same is same/1 or diff/0,
// separated by spaces or tabs; paths are relative to the pairs file's folder unless absolute;
// blank lines and '#' comments are skipped. The distinct images, in first-use order, and the pairs
// as rows of that list. Errors name the file and line.
struct ImagePairs {
  std::vector<std::filesystem::path> images;
  std::vector<VerificationPair> pairs;
};
ImagePairs read_image_pairs(const std::filesystem::path& path);

}  // namespace pcv
