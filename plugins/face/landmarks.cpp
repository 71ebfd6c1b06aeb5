#include "landmarks.hpp"

#include <dlib/image_processing/shape_predictor.h>
#include <dlib/serialize.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>

#include "dlib_image.hpp"

namespace pcv::face {

namespace {
constexpr const char* kOp = "face.landmarks";
constexpr const char* kDebianModel = "/usr/share/dlib/shape_predictor_68_face_landmarks.dat";
}  // namespace

std::string default_landmark_model() {
  const char* env = std::getenv("PCV_FACE_LANDMARKS");
  return env && *env ? env : kDebianModel;
}

struct Landmarks::Impl {
  dlib::shape_predictor predictor;  // read-only after loading: calls may run concurrently
};

sdk::OpSpec Landmarks::spec() {
  return sdk::OpSpec("landmarks",
                     "dlib's 68-point face landmarks (iBUG 300-W order) in each box, and the 5 points "
                     "face.align takes: eye centres (means of points 36-41 and 42-47), nose tip (30), mouth "
                     "corners (48, 54). The model is trained on iBUG 300-W data, which dlib says is not for "
                     "commercial use. Not differentiable")
      .input("image", "[H, W, C] uint8, C = 1, 3 (BGR) or 4 (BGRA)", "uint8")
      .input("boxes", "[F, 4] left, top, right, bottom (face.detect's output)", "float32")
      .output("landmarks", "[F, 68, 2] (x, y) pixels", "float32")
      .output("five", "[F, 5, 2] (x, y): image-left eye, image-right eye, nose, mouth corners", "float32")
      .attr("model",
            "shape predictor file; empty: $PCV_FACE_LANDMARKS, else Debian's "
            "/usr/share/dlib/shape_predictor_68_face_landmarks.dat (libdlib-data)",
            std::string(""));
}

// The model is about 100 MB and takes a second to read; every kernel (one per worker thread) that
// names the same unchanged file shares one copy.
std::shared_ptr<const Landmarks::Impl> Landmarks::load(const std::string& file) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec))
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, kOp, ": landmark model ", file,
              " not found (Debian: libdlib-data; or set the model attribute or $PCV_FACE_LANDMARKS)");
  const std::string key =
      std::filesystem::canonical(file, ec).string() + "@" +
      std::to_string(std::filesystem::last_write_time(file, ec).time_since_epoch().count());
  static std::mutex mutex;
  static std::map<std::string, std::weak_ptr<const Impl>> loaded;
  const std::lock_guard lock(mutex);
  if (auto shared = loaded[key].lock()) return shared;
  auto impl = std::make_shared<Impl>();
  try {
    dlib::deserialize(file) >> impl->predictor;
  } catch (const std::exception& e) {
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, kOp, ": ", file, " is not a dlib shape predictor: ", e.what());
  }
  if (impl->predictor.num_parts() != 68)
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, kOp, ": ", file, " predicts ", impl->predictor.num_parts(),
              " points; the 68-point model is needed");
  loaded[key] = impl;
  return impl;
}

Landmarks::Landmarks(const sdk::Attributes& a) {
  std::string file = a.get<std::string>("model");
  if (file.empty()) file = default_landmark_model();
  impl_ = load(file);
}

Landmarks::~Landmarks() = default;

void Landmarks::infer_shapes(sdk::ShapeContext& ctx) const {
  check_image_shape(ctx.input_shape(0), kOp);
  const auto boxes = ctx.input_shape(1);
  if (boxes.size() != 2 || boxes[1] != 4)
    sdk::fail(PCV_ERR_SHAPE, kOp, ": input 'boxes' has shape ", shape_string(boxes), ", expected [F, 4]");
  ctx.set_output(0, kFloat32, sdk::Shape{boxes[0], 68, 2});
  ctx.set_output(1, kFloat32, sdk::Shape{boxes[0], 5, 2});
}

void Landmarks::forward(sdk::ForwardContext& ctx) const {
  dlib::array2d<unsigned char> img;  // what the predictor reads of a colour image, made once
  dlib_intensity(mat_of(ctx.input<std::uint8_t>(0)), img);
  const auto boxes = ctx.input<float>(1);
  const std::int64_t faces = boxes.shape()[0];
  auto points = ctx.output<float>(0, sdk::Shape{faces, 68, 2});
  auto five = ctx.output<float>(1, sdk::Shape{faces, 5, 2});
  for (std::int64_t f = 0; f < faces; ++f) {
    const float* b = boxes.data() + 4 * f;
    // dlib rectangles are inclusive: right = left + width - 1.
    const dlib::rectangle box(std::lround(b[0]), std::lround(b[1]), std::lround(b[2]) - 1,
                              std::lround(b[3]) - 1);
    const dlib::full_object_detection shape = impl_->predictor(img, box);
    float* p = points.data() + f * 136;
    for (unsigned i = 0; i < 68; ++i) {
      p[2 * i] = static_cast<float>(shape.part(i).x());
      p[2 * i + 1] = static_cast<float>(shape.part(i).y());
    }
    const auto mean = [&](int first, int axis) {
      double sum = 0;
      for (int i = first; i < first + 6; ++i) sum += p[2 * i + axis];
      return static_cast<float>(sum / 6);
    };
    float* q = five.data() + f * 10;
    const float reduced[10] = {mean(36, 0), mean(36, 1), mean(42, 0), mean(42, 1), p[60],
                               p[61],       p[96],       p[97],       p[108],      p[109]};
    std::copy_n(reduced, 10, q);
  }
}

}  // namespace pcv::face
