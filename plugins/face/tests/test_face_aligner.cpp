// pcv::FaceAligner (libpcv, driving the face plugin's ops) and face-embedding models that record
// their alignment: the astronaut's face is found and aligned, an image without a face takes the
// fallback, and embed_images aligns raw images as the model's settings say.
#include <pcv/dataset.hpp>
#include <pcv/embedder.hpp>
#include <pcv/face_aligner.hpp>
#include <pcv/image.hpp>
#include <pcv/model.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "support/errors.hpp"
#include "support/golden_cases.hpp"
#include "support/mean_image_model.hpp"
#include "support/temp_dir.hpp"
#include "support/test_plugins.hpp"

namespace pcv {
namespace {

using test::error_of;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

Tensor astronaut() { return read_image(test::kGoldenDir / "face" / "astronaut_face.png"); }

// Mid grey: nothing for a detector to find.
Tensor blank() { return Tensor::from<std::uint8_t>({120, 100, 1}, std::vector<std::uint8_t>(12000, 128)); }

TEST(FaceAligner, AlignsTheAstronautsFaceToTheTemplatesCrop) {
  FaceAlignment settings;
  settings.template_name = "arcface_96x112";
  const FaceAligner aligner(test::builtin_plugins(), settings);
  const AlignedFaces all = aligner.align_all(astronaut());
  ASSERT_EQ(all.count, 1);
  EXPECT_EQ(all.crops.shape(), (Shape{1, 112, 96, 3}));
  EXPECT_EQ(all.landmarks68.shape(), (Shape{1, 68, 2}));
  EXPECT_LT(all.residuals.data<double>()[0], 6.0);
  bool fell_back = true;
  const std::optional<Tensor> face = aligner.main_face(astronaut(), &fell_back);
  ASSERT_TRUE(face.has_value());
  EXPECT_FALSE(fell_back);
  ASSERT_EQ(face->shape(), (Shape{112, 96, 3}));
  const std::vector<std::uint8_t> first(all.crops.data<std::uint8_t>(),
                                        all.crops.data<std::uint8_t>() + face->numel());
  EXPECT_EQ(face->to_vector<std::uint8_t>(), first);
}

TEST(FaceAligner, UpsampleMaxRetriesSmallFacesAtLargerScales) {
  // Halved, the astronaut's face is about 30 px: too small for HOG without doubling the image.
  const Tensor small = resize_image(astronaut(), 80, 80, 3);
  FaceAlignment settings;
  ASSERT_EQ(FaceAligner(test::builtin_plugins(), settings).align_all(small).count, 0);
  settings.upsample_max = 2;
  const AlignedFaces found = FaceAligner(test::builtin_plugins(), settings).align_all(small);
  ASSERT_EQ(found.count, 1);
  EXPECT_GE(found.upsample, 1);
  EXPECT_LT(found.residuals.data<double>()[0], 8.0);
}

TEST(FaceAligner, AnImageWithoutAFaceTakesTheFallback) {
  FaceAlignment settings;
  EXPECT_FALSE(FaceAligner(test::builtin_plugins(), settings).main_face(blank()).has_value());
  settings.fallback = "resize";
  settings.size = 224;
  bool fell_back = false;
  const std::optional<Tensor> face =
      FaceAligner(test::builtin_plugins(), settings).main_face(blank(), &fell_back);
  ASSERT_TRUE(face.has_value());
  EXPECT_TRUE(fell_back);
  EXPECT_EQ(face->shape(), (Shape{224, 224, 1}));
  EXPECT_EQ(face->to_vector<std::uint8_t>(), std::vector<std::uint8_t>(224 * 224, 128));
}

TEST(FaceAligner, SettingsRoundTripAndBadOnesAreNamed) {
  FaceAlignment a;
  a.upsample = 1;
  a.template_name = "arcface_96x112";
  a.fallback = "resize";
  const FaceAlignment b = FaceAlignment::from_json(a.to_json());
  EXPECT_EQ(b.to_json(), a.to_json());
  a.upsample_max = 3;
  EXPECT_EQ(FaceAlignment::from_json(a.to_json()).upsample_max, 3);
  EXPECT_THAT(error_of([] { FaceAlignment::from_json(R"({"upsample_max": 5})", "m"); }),
              HasSubstr("'upsample_max' must be in [0, 4]"));
  EXPECT_THAT(error_of([] { FaceAlignment::from_json(R"({"fallback": "guess"})", "m.safetensors"); }),
              HasSubstr("m.safetensors: face alignment: 'fallback' must be none or resize"));
  EXPECT_THAT(error_of([] { FaceAlignment::from_json(R"({"upsampel": 1})", "m"); }),
              HasSubstr("unknown key 'upsampel'"));
  FaceAlignment bad_template;
  bad_template.template_name = "square";
  EXPECT_THAT(error_of([&] { FaceAligner(test::builtin_plugins(), bad_template); }), HasSubstr("square"));
}

// The mean grey level of the (aligned) 112 x 96 input: enough to see which pixels were embedded.
Model mean_model(const std::string& alignment) {
  Model m = test::mean_image_model(112, 96);
  if (!alignment.empty()) m.metadata[kFaceAlignmentKey] = alignment;
  return m;
}

class FaceEmbeddingTest : public test::TempDirTest {};

TEST_F(FaceEmbeddingTest, ModelsWithAnAlignmentEmbedAlignedFacesAndSayWhichFellBack) {
  write_image(dir_ / "astronaut.png", astronaut());
  write_image(dir_ / "blank.png", blank());
  const std::vector<std::filesystem::path> images = {dir_ / "astronaut.png", dir_ / "blank.png"};
  EmbedOptions options;
  options.flip_sum = false;
  FaceAlignment settings;
  settings.template_name = "arcface_96x112";
  settings.fallback = "resize";
  const Embeddings aligned =
      embed_images(test::builtin_plugins(), mean_model(settings.to_json()), "m", images, options);
  EXPECT_THAT(aligned.fell_back, ElementsAre(1u));
  // The blank image resized is still mid grey; the astronaut's row is the mean of its aligned face.
  EXPECT_NEAR(aligned.values.data<float>()[1], (128 - 127.5) / 128, 1e-6);
  const Preprocessing pre = Preprocessing::from_json(mean_model("").preprocessing);
  const auto mean_of = [&](const Tensor& image) {
    const std::vector<float> x = preprocess_image(image, pre).to_vector<float>();
    double sum = 0;
    for (float v : x) sum += v;
    return sum / double(x.size());
  };
  const double face_mean = mean_of(*FaceAligner(test::builtin_plugins(), settings).main_face(astronaut()));
  const double region_mean = mean_of(astronaut());
  ASSERT_GT(std::abs(face_mean - region_mean), 1e-3);
  EXPECT_NEAR(aligned.values.data<float>()[0], face_mean, 1e-5);
  const Embeddings as_given = embed_images(test::builtin_plugins(), mean_model(""), "m", images, options);
  EXPECT_TRUE(as_given.fell_back.empty());
  EXPECT_NEAR(as_given.values.data<float>()[0], region_mean, 1e-5);

  settings.fallback = "none";
  EXPECT_THAT(error_of([&] {
                embed_images(test::builtin_plugins(), mean_model(settings.to_json()), "m", images, options);
              }),
              HasSubstr("blank.png: no face found"));
}

}  // namespace
}  // namespace pcv
