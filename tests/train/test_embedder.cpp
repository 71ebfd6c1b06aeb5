// Embedding images with a model file, and pairs files of images (pcv verify MODEL --pairs).
#include <pcv/embedder.hpp>
#include <pcv/error.hpp>
#include <pcv/image.hpp>
#include <pcv/model.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <vector>

#include "support/errors.hpp"
#include "support/mean_image_model.hpp"
#include "support/temp_dir.hpp"
#include "support/test_plugins.hpp"

namespace pcv {
namespace {

using test::error_of;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class EmbedderTest : public test::TempDirTest {};

Model mean_model() { return test::mean_image_model(8, 6); }

TEST_F(EmbedderTest, EmbedsEachImageWithTheModelsPreprocessing) {
  for (int v : {0, 100, 255})
    write_image(dir_ / ("g" + std::to_string(v) + ".png"),
                Tensor::from<std::uint8_t>({16, 12, 1}, std::vector<std::uint8_t>(192, std::uint8_t(v))));
  const std::vector<std::filesystem::path> images = {dir_ / "g255.png", dir_ / "g0.png", dir_ / "g100.png"};
  EmbedOptions options;
  options.threads = 1;
  options.batch_size = 2;
  options.flip_sum = false;
  const Embeddings result =
      embed_images(test::builtin_plugins(), mean_model(), "mean model", images, options);
  EXPECT_TRUE(result.fell_back.empty());
  const Tensor& e = result.values;
  ASSERT_EQ(e.shape(), (Shape{3, 1}));
  EXPECT_THAT(e.to_vector<float>(), ElementsAre((255 - 127.5f) / 128, -127.5f / 128, (100 - 127.5f) / 128));
  // The mean of an image and of its mirror image are the same, so the flip-sum doubles it.
  options.flip_sum = true;
  EXPECT_THAT(embed_images(test::builtin_plugins(), mean_model(), "mean model", images, options)
                  .values.to_vector<float>(),
              ElementsAre(2 * (255 - 127.5f) / 128, 2 * -127.5f / 128, 2 * (100 - 127.5f) / 128));
  EXPECT_THAT(
      error_of([&] { embed_images(test::builtin_plugins(), mean_model(), "m", {dir_ / "nope.png"}); }),
      HasSubstr("nope.png: file not found"));
}

TEST_F(EmbedderTest, ImagePairsFilesNameImagesOnceRelativeToTheFile) {
  std::ofstream(dir_ / "pairs.txt") << "# faces\na.png b.png same\nb.png c.png diff\n\na.png c.png 0\n";
  const ImagePairs p = read_image_pairs(dir_ / "pairs.txt");
  ASSERT_EQ(p.images.size(), 3u);
  EXPECT_EQ(p.images[0], dir_ / "a.png");
  ASSERT_EQ(p.pairs.size(), 3u);
  EXPECT_TRUE(p.pairs[0].same);
  EXPECT_EQ(p.pairs[1].first, 1);
  EXPECT_EQ(p.pairs[2].second, 2);
  EXPECT_EQ(p.pairs[2].line, 5);
  std::ofstream(dir_ / "bad.txt") << "a.png b.png maybe\n";
  EXPECT_THAT(error_of([&] { read_image_pairs(dir_ / "bad.txt"); }),
              HasSubstr("bad.txt:1: 'maybe' is not same"));
  std::ofstream(dir_ / "one.txt") << "a.png b.png same\n";
  EXPECT_THAT(error_of([&] { read_image_pairs(dir_ / "one.txt"); }), HasSubstr("needs both same and diff"));
}

}  // namespace
}  // namespace pcv
