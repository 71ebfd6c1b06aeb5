// Images as tensors: a PNG round trip keeps every byte (grey, BGR, BGRA), and errors name the file.
#include <pcv/error.hpp>
#include <pcv/image.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <vector>

#include "support/errors.hpp"
#include "support/temp_dir.hpp"

namespace pcv {
namespace {

using test::error_of;
using ::testing::AllOf;
using ::testing::HasSubstr;

class ImageIoTest : public test::TempDirTest {};

TEST_F(ImageIoTest, PngRoundTripKeepsEveryByte) {
  for (std::int64_t channels : {1, 3, 4}) {
    std::vector<std::uint8_t> pixels;
    for (std::int64_t i = 0; i < 5 * 7 * channels; ++i)
      pixels.push_back(static_cast<std::uint8_t>(37 * i % 251));
    const Tensor image = Tensor::from<std::uint8_t>({5, 7, channels}, pixels);
    const auto path = dir_ / ("i" + std::to_string(channels) + ".png");
    write_image(path, image);
    const Tensor back = read_image(path);
    EXPECT_EQ(back.shape(), (Shape{5, 7, channels}));
    EXPECT_EQ(back.to_vector<std::uint8_t>(), pixels);
  }
}

TEST_F(ImageIoTest, ErrorsNameTheFile) {
  EXPECT_THAT(error_of([&] { read_image(dir_ / "missing.png"); }), HasSubstr("missing.png: file not found"));
  std::ofstream(dir_ / "empty.png").close();
  EXPECT_THAT(error_of([&] { read_image(dir_ / "empty.png"); }), HasSubstr("empty.png: the file is empty"));
  std::ofstream(dir_ / "text.jpg") << "not an image";
  EXPECT_THAT(error_of([&] { read_image(dir_ / "text.jpg"); }),
              AllOf(HasSubstr("text.jpg"), HasSubstr("not a readable image")));
  const Tensor image = Tensor::from<std::uint8_t>({2, 2, 1}, std::vector<std::uint8_t>(4, 9));
  EXPECT_THAT(error_of([&] { write_image(dir_ / "x.gif", image); }), HasSubstr("written as .png or .jpg"));
  EXPECT_THAT(error_of([&] {
                write_image(dir_ / "x.png", Tensor::from<float>({2, 2}, {1, 2, 3, 4}));
              }),
              HasSubstr("uint8 [H, W, C]"));
  EXPECT_TRUE(is_image_file("a/B.JPEG"));
  EXPECT_FALSE(is_image_file("a/b.pcd"));
}

}  // namespace
}  // namespace pcv
