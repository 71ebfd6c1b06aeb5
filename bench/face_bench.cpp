// pcv_bench_face: images per second through the face pipeline (decode, face.detect,
// face.landmarks, face.align) on the committed test images, and each stage's share. One thread,
// as the reference's timings (face_and_losses.md §1.5); kernels are created once, outside the timing.
#include <pcv/image.hpp>
#include <pcv/registry.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  const fs::path dir = argc > 1 ? argv[1] : "tests/data/golden/face";
  const int repeats = argc > 2 ? std::stoi(argv[2]) : 20;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (pcv::is_image_file(e.path())) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    std::fprintf(stderr, "pcv_bench_face: no images in %s\n", dir.c_str());
    return 1;
  }
  pcv::Registry registry;
  registry.load_all(pcv::Registry::default_search_path());
  const auto start_up = Clock::now();
  const pcv::Kernel detect = registry.create_kernel("face.detect");
  const auto detector_ready = Clock::now();
  const pcv::Kernel landmarks = registry.create_kernel("face.landmarks");
  const auto predictor_ready = Clock::now();
  const pcv::Kernel align = registry.create_kernel("face.align");
  const auto seconds = [](Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
  };
  std::printf("face pipeline bench: %zu images x %d, 1 thread\n", files.size(), repeats);
  std::printf("start-up: HOG detector %.0f ms, 68-point model %.0f ms (once per process)\n\n",
              1e3 * seconds(start_up, detector_ready), 1e3 * seconds(detector_ready, predictor_ready));
  pcv::RunOptions one;
  one.num_threads = 1;
  // A warm-up pass: the first image read loads OpenCV's codecs (libpcv's image module).
  for (const fs::path& f : files) {
    const pcv::Tensor image = pcv::read_image(f);
    const auto boxes = detect.forward({image}, one);
    if (boxes[0].shape()[0] > 0) align.forward({image, landmarks.forward({image, boxes[0]}, one)[1]}, one);
  }
  double stage[4] = {0, 0, 0, 0};
  long faces = 0, images = 0;
  std::printf("%-32s %9s %6s %9s %9s %9s %9s\n", "image", "size", "faces", "decode", "detect", "landmark",
              "align");
  for (const fs::path& f : files) {
    double per[4] = {0, 0, 0, 0};
    long found = 0;
    pcv::Tensor image;
    for (int r = 0; r < repeats; ++r) {
      const auto t0 = Clock::now();
      image = pcv::read_image(f);
      const auto t1 = Clock::now();
      const auto boxes = detect.forward({image}, one);
      const auto t2 = Clock::now();
      found = boxes[0].shape()[0];
      if (found == 0) {
        per[0] += seconds(t0, t1), per[1] += seconds(t1, t2);
        continue;
      }
      const auto marks = landmarks.forward({image, boxes[0]}, one);
      const auto t3 = Clock::now();
      align.forward({image, marks[1]}, one);
      const auto t4 = Clock::now();
      per[0] += seconds(t0, t1), per[1] += seconds(t1, t2), per[2] += seconds(t2, t3),
          per[3] += seconds(t3, t4);
    }
    char size[32];
    std::snprintf(size, sizeof size, "%lldx%lld", static_cast<long long>(image.shape()[1]),
                  static_cast<long long>(image.shape()[0]));
    std::printf("%-32s %9s %6ld", f.filename().c_str(), size, found);
    for (int s = 0; s < 4; ++s) {
      std::printf(" %7.2fms", 1e3 * per[s] / repeats);
      stage[s] += per[s];
    }
    std::printf("\n");
    faces += found;
    ++images;
  }
  const double total = stage[0] + stage[1] + stage[2] + stage[3];
  std::printf(
      "\n%.1f images/s (%ld images, %ld faces per pass); time split: decode %.0f%%, detect %.0f%%, "
      "landmarks %.0f%%, align %.0f%%\n",
      double(images * repeats) / total, images, faces, 100 * stage[0] / total, 100 * stage[1] / total,
      100 * stage[2] / total, 100 * stage[3] / total);
  return 0;
}
