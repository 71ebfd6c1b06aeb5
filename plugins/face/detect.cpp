#include "detect.hpp"

#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/image_transforms.h>
#include <opencv2/objdetect.hpp>

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <vector>

#include "dlib_image.hpp"

namespace pcv::face {

namespace {
constexpr const char* kOp = "face.detect";
constexpr const char* kDefaultCascade = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml";
}  // namespace

struct Detect::Impl {
  std::string detector;
  std::int64_t upsample = 0;
  double min_score = 0;
  // dlib's scanner keeps scratch state: one call at a time per kernel.
  std::mutex mutex;
  dlib::frontal_face_detector hog;
  cv::CascadeClassifier cascade;
};

sdk::OpSpec Detect::spec() {
  return sdk::OpSpec(
             "detect",
             "Face boxes in an image, best first: dlib's HOG frontal-face detector (faces of about "
             "80 x 80 px and more; upsample for smaller ones) or an OpenCV cascade. Not differentiable")
      .input("image", "[H, W, C] uint8, C = 1, 3 (BGR) or 4 (BGRA)", "uint8")
      .output("boxes", "[F, 4] left, top, right, bottom in pixels", "float32")
      .output("scores", "[F] detection scores (dlib's SVM margin; 1 for a cascade)", "float32")
      .attr("detector", "hog (dlib) or cascade (OpenCV)", std::string("hog"))
      .attr("upsample", "hog: times the image is doubled before detection (0: as it is)", std::int64_t{0})
      .attr("min_score", "hog: drop detections scoring less", 0.0)
      .attr("cascade", "cascade: the classifier file", std::string(kDefaultCascade));
}

Detect::Detect(const sdk::Attributes& a) : impl_(std::make_shared<Impl>()) {
  impl_->detector = a.get<std::string>("detector");
  impl_->upsample = a.get_in_range<std::int64_t>("upsample", 0, 4);
  impl_->min_score = a.get<double>("min_score");
  if (impl_->detector == "hog") {
    impl_->hog = dlib::get_frontal_face_detector();
  } else if (impl_->detector == "cascade") {
    const std::string file = a.get<std::string>("cascade");
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec))
      sdk::fail(PCV_ERR_INVALID_ARGUMENT, kOp, ": cascade file ", file, " not found (Debian: opencv-data)");
    if (!impl_->cascade.load(file))
      sdk::fail(PCV_ERR_INVALID_ARGUMENT, kOp, ": ", file, " is not an OpenCV cascade");
  } else {
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, kOp, ": detector '", impl_->detector, "' is not hog or cascade");
  }
}

Detect::~Detect() = default;

void Detect::infer_shapes(sdk::ShapeContext& ctx) const {
  check_image_shape(ctx.input_shape(0), kOp);
  ctx.set_output(0, kFloat32, sdk::Shape{-1, 4});
  ctx.set_output(1, kFloat32, sdk::Shape{-1});
}

void Detect::forward(sdk::ForwardContext& ctx) const {
  const cv::Mat image = mat_of(ctx.input<std::uint8_t>(0));
  struct Found {
    float box[4];
    float score;
  };
  std::vector<Found> found;
  if (impl_->detector == "hog") {
    // On a copy doubled `upsample` times with dlib's pyramid_up, as dlib's own upsampling does;
    // boxes are mapped back through the same pyramid.
    std::vector<dlib::rect_detection> dets;
    dlib::pyramid_down<2> pyramid;
    with_dlib_image(image, [&](auto& img) {
      for (std::int64_t i = 0; i < impl_->upsample; ++i) dlib::pyramid_up(img, pyramid);
      const std::lock_guard lock(impl_->mutex);
      impl_->hog(img, dets, 0.0);
    });
    for (const auto& d : dets) {
      if (d.detection_confidence < impl_->min_score) continue;
      const dlib::drectangle r =
          pyramid.rect_down(dlib::drectangle(d.rect), static_cast<unsigned>(impl_->upsample));
      found.push_back({{float(r.left()), float(r.top()), float(r.right() + 1), float(r.bottom() + 1)},
                       float(d.detection_confidence)});
    }
  } else {
    std::vector<cv::Rect> rects;
    impl_->cascade.detectMultiScale(grey_of(image), rects);
    for (const cv::Rect& r : rects)
      found.push_back({{float(r.x), float(r.y), float(r.x + r.width), float(r.y + r.height)}, 1.0f});
  }
  std::stable_sort(found.begin(), found.end(),
                   [](const Found& a, const Found& b) { return a.score > b.score; });
  const auto n = static_cast<std::int64_t>(found.size());
  auto boxes = ctx.output<float>(0, sdk::Shape{n, 4});
  auto scores = ctx.output<float>(1, sdk::Shape{n});
  for (std::int64_t i = 0; i < n; ++i) {
    std::copy_n(found[i].box, 4, boxes.data() + 4 * i);
    scores.data()[i] = found[i].score;
  }
}

}  // namespace pcv::face
