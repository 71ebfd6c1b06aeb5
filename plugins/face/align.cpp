#include "align.hpp"

#include <opencv2/imgproc.hpp>

#include <stdexcept>
#include <vector>

#include "similarity_transform.hpp"
#include "templates.hpp"

namespace pcv::face {
namespace {

constexpr const char* kOp = "face.align";
enum Input { kImage, kLandmarks, kTemplate };
enum Output { kCrops, kTransforms, kResiduals, kScales };

template <class T>
std::vector<Point> points_of(const T* xy, std::size_t n) {
  std::vector<Point> p(n);
  for (std::size_t i = 0; i < n; ++i) p[i] = {double(xy[2 * i]), double(xy[2 * i + 1])};
  return p;
}

// Five (x, y) rows of a float32/float64 tensor.
std::vector<Point> read_points(const sdk::ForwardContext& ctx, std::size_t input, std::size_t offset,
                               std::size_t count) {
  std::vector<Point> p;
  sdk::dispatch_float(ctx.raw_input(input).dtype, ctx.names().input(input), [&](auto zero) {
    using T = decltype(zero);
    p = points_of(ctx.template input<T>(input).data() + 2 * offset, count);
  });
  return p;
}

}  // namespace

sdk::OpSpec Align::spec() {
  return sdk::OpSpec("align",
                     "Face crops from five landmarks each (image-left eye, image-right eye, nose tip, "
                     "image-left and image-right mouth corners): the least-squares similarity onto the "
                     "template (Umeyama without reflection, = skimage SimilarityTransform as insightface "
                     "uses it), then cv::warpAffine bilinear with a constant 0 border (insightface "
                     "norm_crop). Not differentiable")
      .input("image", "[H, W, C] uint8, C = 1, 3 or 4 (channel order is kept)", "uint8")
      .input("landmarks", "[F, 5, 2] (x, y) pixel positions of F faces in the image")
      .optional_input("template", "[5, 2] destination points in crop pixels; replaces the named template")
      .output("crops", "[F, height, width, C] uint8", "uint8")
      .output("transforms", "[F, 2, 3] image -> crop matrices [[a, -b, tx], [b, a, ty]]", "float64")
      .output("residuals", "[F] RMS distance (crop pixels) of the mapped landmarks from the template",
              "float64")
      .output("scales", "[F] the similarity's scale; small with a large residual: swapped landmarks",
              "float64")
      .attr("template", "arcface (insightface's; size a multiple of 112 or 128) or arcface_96x112",
            std::string("arcface"))
      .attr("size", "crop side for the arcface template (112, 224, 128, 256, ...)", std::int64_t{112})
      .attr("width", "crop width with a template input (0: size)", std::int64_t{0})
      .attr("height", "crop height with a template input (0: size)", std::int64_t{0});
}

Align::Align(const sdk::Attributes& a)
    : template_name_(a.get<std::string>("template")),
      size_(a.get_in_range<std::int64_t>("size", 1, 16384)),
      width_(a.get_in_range<std::int64_t>("width", 0, 16384)),
      height_(a.get_in_range<std::int64_t>("height", 0, 16384)) {
  try {
    crop_template(template_name_, size_);  // refuse bad names and sizes when the op is created
  } catch (const std::invalid_argument& e) {
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, kOp, ": ", e.what());
  }
}

void Align::infer_shapes(sdk::ShapeContext& ctx) const {
  const auto image = ctx.input_shape(kImage), landmarks = ctx.input_shape(kLandmarks);
  if (image.size() != 3 || (image[2] != 1 && image[2] != 3 && image[2] != 4))
    sdk::fail(PCV_ERR_SHAPE, kOp, ": input 'image' has shape ", shape_string(image),
              ", expected [H, W, C], C = 1, 3 or 4");
  if (landmarks.size() != 3 || landmarks[1] != 5 || landmarks[2] != 2)
    sdk::fail(PCV_ERR_SHAPE, kOp, ": input 'landmarks' has shape ", shape_string(landmarks),
              ", expected [F, 5, 2]");
  std::int64_t width = 0, height = 0;
  if (ctx.has_input(kTemplate)) {
    const auto t = ctx.input_shape(kTemplate);
    if (t.size() != 2 || t[0] != 5 || t[1] != 2)
      sdk::fail(PCV_ERR_SHAPE, kOp, ": input 'template' has shape ", shape_string(t), ", expected [5, 2]");
    width = width_ > 0 ? width_ : size_;
    height = height_ > 0 ? height_ : size_;
  } else {
    const CropTemplate t = crop_template(template_name_, size_);
    width = t.width, height = t.height;
  }
  const std::int64_t faces = landmarks[0];
  ctx.set_output(kCrops, kUInt8, sdk::Shape{faces, height, width, image[2]});
  ctx.set_output(kTransforms, kFloat64, sdk::Shape{faces, 2, 3});
  ctx.set_output(kResiduals, kFloat64, sdk::Shape{faces});
  ctx.set_output(kScales, kFloat64, sdk::Shape{faces});
}

void Align::forward(sdk::ForwardContext& ctx) const {
  const auto image = ctx.input<std::uint8_t>(kImage);
  const auto shape = image.shape();
  const std::int64_t faces = sdk::shape_of(ctx.raw_input(kLandmarks))[0];
  std::vector<Point> dst;
  std::int64_t width = 0, height = 0;
  if (ctx.has_input(kTemplate)) {
    dst = read_points(ctx, kTemplate, 0, 5);
    width = width_ > 0 ? width_ : size_;
    height = height_ > 0 ? height_ : size_;
  } else {
    const CropTemplate t = crop_template(template_name_, size_);
    dst.assign(t.points.begin(), t.points.end());
    width = t.width, height = t.height;
  }
  const int channels = static_cast<int>(shape[2]);
  auto crops = ctx.output<std::uint8_t>(kCrops, sdk::Shape{faces, height, width, channels});
  auto transforms = ctx.output<double>(kTransforms, sdk::Shape{faces, 2, 3});
  auto residuals = ctx.output<double>(kResiduals, sdk::Shape{faces});
  auto scales = ctx.output<double>(kScales, sdk::Shape{faces});
  // OpenCV reads the image in place (it is not written).
  const cv::Mat source(static_cast<int>(shape[0]), static_cast<int>(shape[1]), CV_8UC(channels),
                       const_cast<std::uint8_t*>(image.data()));
  for (std::int64_t f = 0; f < faces; ++f) {
    const std::vector<Point> src = read_points(ctx, kLandmarks, static_cast<std::size_t>(5 * f), 5);
    const Similarity s = fit_similarity(src, dst);
    if (!s.ok)
      sdk::fail(PCV_ERR_INVALID_ARGUMENT, kOp, ": face ", f,
                "'s landmarks coincide or are not finite: no similarity fits them");
    std::copy(s.m.begin(), s.m.end(), transforms.data() + 6 * f);
    residuals.data()[f] = s.rms_residual;
    scales.data()[f] = s.scale;
    const cv::Mat m(2, 3, CV_64F, const_cast<double*>(s.m.data()));
    cv::Mat crop(static_cast<int>(height), static_cast<int>(width), CV_8UC(channels),
                 crops.data() + f * height * width * channels);
    cv::warpAffine(source, crop, m, crop.size(), cv::INTER_LINEAR, cv::BORDER_CONSTANT, cv::Scalar::all(0));
  }
}

}  // namespace pcv::face
