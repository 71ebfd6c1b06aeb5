// face.align against insightface's own computation (tools/golden/face_align.py: skimage's
// SimilarityTransform and cv2.warpAffine) on a committed photo region: the matrix to 1e-9 and
// every crop pixel to ±1 level, for the 112, 224, 256 and 96 x 112 templates.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include <cstdlib>
#include <string>
#include <vector>

#include "support/golden_cases.hpp"
#include "support/test_plugins.hpp"

namespace pcv {
namespace {

Tensor tensor_of(const cv::Mat& image) {
  std::vector<std::uint8_t> bytes(image.datastart, image.dataend);
  return Tensor::from<std::uint8_t>({image.rows, image.cols, image.channels()}, bytes);
}

TEST(FaceAlignGolden, MatchesInsightfaceCrops) {
  const auto dir = test::kGoldenDir / "face";
  const nlohmann::json golden = test::read_json(dir / "align.json");
  const cv::Mat image =
      cv::imread((dir / golden.at("image").get<std::string>()).string(), cv::IMREAD_UNCHANGED);
  ASSERT_FALSE(image.empty());
  ASSERT_EQ(image.channels(), 3);
  for (const auto& c : golden.at("cases")) {
    const std::string name =
        c.at("template").get<std::string>() + " " + std::to_string(c.at("size").get<int>());
    std::vector<double> landmarks;
    for (const auto& p : c.at("landmarks"))
      landmarks.insert(landmarks.end(), {p[0].get<double>(), p[1].get<double>()});
    Kernel align = test::builtin_plugins().create_kernel(
        "face.align",
        {{"template", c.at("template").get<std::string>()}, {"size", c.at("size").get<std::int64_t>()}});
    const auto out = align.forward({tensor_of(image), Tensor::from<double>({1, 5, 2}, landmarks)});
    for (int r = 0; r < 2; ++r)
      for (int k = 0; k < 3; ++k)
        EXPECT_NEAR(out[1].data<double>()[3 * r + k], c.at("matrix")[r][k].get<double>(), 1e-9) << name;
    const cv::Mat expected =
        cv::imread((dir / c.at("crop").get<std::string>()).string(), cv::IMREAD_UNCHANGED);
    ASSERT_EQ(out[0].shape(), (Shape{1, expected.rows, expected.cols, 3})) << name;
    const std::uint8_t* ours = out[0].data<std::uint8_t>();
    int worst = 0;
    std::int64_t differing = 0;
    for (std::size_t i = 0; i < expected.total() * 3; ++i) {
      const int d = std::abs(int(ours[i]) - int(expected.data[i]));
      worst = std::max(worst, d);
      differing += d != 0;
    }
    EXPECT_LE(worst, 1) << name << ": " << differing << " values differ";
  }
}

}  // namespace
}  // namespace pcv
