// face.detect, face.landmarks and face.align end to end on the committed astronaut region
// (public domain): one face, and after alignment its eyes level at the template's y ≈ 51.6 with a
// small fit residual; plus the ops' errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "support/errors.hpp"
#include "support/golden_cases.hpp"
#include "support/test_plugins.hpp"

namespace pcv {
namespace {

using test::error_of;
using ::testing::HasSubstr;

Tensor astronaut() {
  const cv::Mat image =
      cv::imread((test::kGoldenDir / "face" / "astronaut_face.png").string(), cv::IMREAD_UNCHANGED);
  EXPECT_FALSE(image.empty());
  return Tensor::from<std::uint8_t>({image.rows, image.cols, image.channels()},
                                    std::vector<std::uint8_t>(image.datastart, image.dataend));
}

Kernel kernel(const std::string& op, AttrMap attrs = {}) {
  return test::builtin_plugins().create_kernel("face." + op, attrs);
}

TEST(FacePipeline, AstronautAlignsWithLevelEyes) {
  const Tensor image = astronaut();
  const auto boxes = kernel("detect").forward({image});
  ASSERT_EQ(boxes[0].shape(), (Shape{1, 4}));
  // Doubling the image finds the same face (a window of another scale), its box mapped back to
  // this image's pixels.
  const auto doubled = kernel("detect", {{"upsample", std::int64_t{1}}}).forward({image});
  ASSERT_EQ(doubled[0].shape(), (Shape{1, 4}));
  const float* p = boxes[0].data<float>();
  const float* q = doubled[0].data<float>();
  const float overlap = std::max(0.0f, std::min(p[2], q[2]) - std::max(p[0], q[0])) *
                        std::max(0.0f, std::min(p[3], q[3]) - std::max(p[1], q[1]));
  const float area_p = (p[2] - p[0]) * (p[3] - p[1]), area_q = (q[2] - q[0]) * (q[3] - q[1]);
  EXPECT_GT(overlap / (area_p + area_q - overlap), 0.6f) << "IoU of the two boxes";
  const float* b = boxes[0].data<float>();
  EXPECT_GT(boxes[1].data<float>()[0], 0.0f);
  // The box holds the landmark positions the reference gives for this face (region coordinates).
  EXPECT_LT(b[0], 61.0f);
  EXPECT_GT(b[2], 107.0f);
  EXPECT_LT(b[1], 72.0f);
  EXPECT_GT(b[3], 111.0f);

  const auto marks = kernel("landmarks").forward({image, boxes[0]});
  ASSERT_EQ(marks[0].shape(), (Shape{1, 68, 2}));
  ASSERT_EQ(marks[1].shape(), (Shape{1, 5, 2}));
  const float* five = marks[1].data<float>();
  // Within a few pixels of the reference's points for this face (eyelid means vs. pupils).
  const double reference[10] = {63.1667, 71.5, 106.8333, 74, 85, 97, 61, 110, 105, 111};
  for (int i = 0; i < 10; ++i) EXPECT_NEAR(five[i], reference[i], 3.0) << "coordinate " << i;

  const auto aligned = kernel("align").forward({image, marks[1]});
  // The least-squares fit trades the eyes against the mouth: for this face it puts the eyes level
  // about 3 px below the template's 51.6 (54.4 with the reference's own points), with an RMS
  // residual of 5.0 there (1.9 to 5.8 over the reference's 25 photos).
  const double* m = aligned[1].data<double>();
  double eye_y[2];
  for (int eye = 0; eye < 2; ++eye) {
    const double x = five[2 * eye], y = five[2 * eye + 1];
    eye_y[eye] = m[3] * x + m[4] * y + m[5];
    EXPECT_NEAR(eye_y[eye], 51.6, 4.0) << "eye " << eye << " height in the crop";
  }
  EXPECT_LT(std::abs(eye_y[0] - eye_y[1]), 1.0) << "the eyes are level";
  EXPECT_LT(aligned[2].data<double>()[0], 6.0) << "RMS residual, crop pixels";
  EXPECT_EQ(aligned[0].shape(), (Shape{1, 112, 112, 3}));
}

TEST(FacePipeline, LandmarksReadAColourPhotoAsDlibsChannelMean) {
  // dlib's predictor reads an RGB pixel as (r + g + b) / 3: a colour photo and its channel-mean
  // grey image give the same points (OpenCV's weighted grey would move some by a pixel or more).
  const Tensor colour = astronaut();
  const std::int64_t pixels = colour.shape()[0] * colour.shape()[1];
  std::vector<std::uint8_t> mean(static_cast<std::size_t>(pixels));
  const std::uint8_t* p = colour.data<std::uint8_t>();
  for (std::int64_t i = 0; i < pixels; ++i)
    mean[i] = static_cast<std::uint8_t>((p[3 * i] + p[3 * i + 1] + p[3 * i + 2]) / 3);
  const Tensor grey = Tensor::from<std::uint8_t>({colour.shape()[0], colour.shape()[1], 1}, mean);
  const Tensor boxes = kernel("detect").forward({colour})[0];
  ASSERT_EQ(boxes.shape()[0], 1);
  const Kernel landmarks = kernel("landmarks");
  EXPECT_EQ(landmarks.forward({colour, boxes})[0].to_vector<float>(),
            landmarks.forward({grey, boxes})[0].to_vector<float>());
}

TEST(FacePipeline, Errors) {
  EXPECT_THAT(error_of([] {
                kernel("detect", {{"detector", std::string("mtcnn")}});
              }),
              HasSubstr("'mtcnn' is not hog or cascade"));
  EXPECT_THAT(
      error_of([] {
        kernel("detect", {{"detector", std::string("cascade")}, {"cascade", std::string("/nope.xml")}});
      }),
      HasSubstr("/nope.xml not found"));
  EXPECT_THAT(error_of([] {
                kernel("landmarks", {{"model", std::string("/nope.dat")}});
              }),
              HasSubstr("landmark model /nope.dat not found"));
  const Tensor grey2 = Tensor::from<std::uint8_t>({4, 4, 2}, std::vector<std::uint8_t>(32, 0));
  EXPECT_THAT(error_of([&] { kernel("detect").forward({grey2}); }), HasSubstr("C = 1, 3 or 4"));
}

TEST(FacePipeline, CascadeFindsTheFaceToo) {
  const auto boxes = kernel("detect", {{"detector", std::string("cascade")}}).forward({astronaut()});
  ASSERT_GE(boxes[0].shape()[0], 1);
  EXPECT_EQ(boxes[1].data<float>()[0], 1.0f);
}

}  // namespace
}  // namespace pcv
