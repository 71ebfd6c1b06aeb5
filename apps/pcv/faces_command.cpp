// pcv faces align IN_DIR OUT_DIR: detect, find landmarks and align every face of a folder of images
// (the face plugin's face.detect, face.landmarks and face.align), one crop and one JSON record each.
#include <pcv/atomic_file.hpp>
#include <pcv/error.hpp>
#include <pcv/face_aligner.hpp>
#include <pcv/image.hpp>
#include <pcv/threads.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "commands.hpp"
#include "progress_bar.hpp"

namespace pcv::cli {
namespace {

namespace fs = std::filesystem;

struct AlignOptions {
  std::string in_dir, out_dir, landmark_file;
  FaceAlignment face;
  bool recursive = false;
  int jobs = 0;
};

// Five (x, y) points per face, by image file name.
using GivenLandmarks = std::map<std::string, std::vector<std::vector<double>>>;

std::vector<double> five_points(const std::vector<double>& xy, const std::string& where) {
  if (xy.size() != 10)
    throw Error(where +
                ": a face needs 5 points (10 numbers: x, y of the image-left eye, image-right eye, nose, "
                "image-left and image-right mouth corners); got " +
                std::to_string(xy.size()) + " numbers");
  return xy;
}

// --landmarks: JSON {"image.png": [[[x, y] x 5], ...], ...} or CSV lines "image,x1,y1,...,x5,y5"
// (one face per line; '#' comments and a header line starting with "image" are skipped).
GivenLandmarks read_given_landmarks(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw Error(file.string() + ": cannot open the landmark file");
  GivenLandmarks given;
  if (file.extension() == ".json") {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      throw Error(file.string() + ": not valid JSON: " + e.what());
    }
    if (!j.is_object()) throw Error(file.string() + ": expected {\"image\": [face, ...], ...}");
    for (const auto& [image, faces] : j.items()) {
      const std::string where = file.string() + ": " + image;
      try {
        for (const auto& face : faces) {
          std::vector<double> xy;
          for (const auto& p : face) xy.insert(xy.end(), {p.at(0).get<double>(), p.at(1).get<double>()});
          given[image].push_back(five_points(xy, where));
        }
      } catch (const nlohmann::json::exception&) {
        throw Error(where + ": each face is a list of [x, y] pairs");
      }
    }
    return given;
  }
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty() || line[0] == '#' || line.rfind("image", 0) == 0) continue;
    std::stringstream fields(line);
    std::string image, value;
    std::getline(fields, image, ',');
    std::vector<double> xy;
    while (std::getline(fields, value, ',')) {
      try {
        xy.push_back(std::stod(value));
      } catch (const std::exception&) {
        throw Error(file.string() + ":" + std::to_string(n) + ": '" + value + "' is not a number");
      }
    }
    given[image].push_back(five_points(xy, file.string() + ":" + std::to_string(n)));
  }
  return given;
}

std::vector<float> floats(const Tensor& t, std::int64_t offset, std::int64_t count) {
  const float* p = t.data<float>() + offset;
  return {p, p + count};
}

// Aligns one image's faces; writes <stem>_<k>.png and <stem>.json into `out_dir`; returns the
// number of faces found (a fallback crop is not a face found).
std::int64_t align_image(const FaceAligner& aligner, const GivenLandmarks* given, const fs::path& file,
                         const fs::path& out_dir) {
  const Tensor image = read_image(file);
  nlohmann::json record = {{"image", file.string()},
                           {"width", image.shape()[1]},
                           {"height", image.shape()[0]},
                           {"channels", image.shape()[2]},
                           {"landmarks_from", given ? "file" : "dlib"},
                           {"faces", nlohmann::json::array()}};
  AlignedFaces faces;
  if (given) {
    const auto it = given->find(file.filename().string());
    if (it != given->end()) {
      std::vector<double> xy;
      for (const auto& face : it->second) xy.insert(xy.end(), face.begin(), face.end());
      faces = aligner.align_points(
          image, Tensor::from<double>({static_cast<std::int64_t>(it->second.size()), 5, 2}, xy));
    }
  } else {
    faces = aligner.align_all(image);
  }
  const std::string stem = file.stem().string();
  for (std::int64_t f = 0; f < faces.count; ++f) {
    const Shape& crop_shape = faces.crops.shape();
    const std::int64_t crop_bytes = crop_shape[1] * crop_shape[2] * crop_shape[3];
    const std::string crop = stem + "_" + std::to_string(f) + ".png";
    Tensor one = Tensor::empty(kUInt8, {crop_shape[1], crop_shape[2], crop_shape[3]});
    std::copy_n(faces.crops.data<std::uint8_t>() + f * crop_bytes, crop_bytes, one.data<std::uint8_t>());
    write_image(out_dir / crop, one);
    const double* m = faces.transforms.data<double>() + 6 * f;
    nlohmann::json face = {{"crop", crop},
                           {"transform", {{m[0], m[1], m[2]}, {m[3], m[4], m[5]}}},
                           {"residual", faces.residuals.data<double>()[f]},
                           {"scale", faces.scales.data<double>()[f]}};
    if (given) {
      face["landmarks5"] = given->at(file.filename().string())[static_cast<std::size_t>(f)];
    } else {
      face["box"] = floats(faces.boxes, 4 * f, 4);
      face["upsample"] = faces.upsample;
      face["score"] = faces.scores.data<float>()[f];
      face["landmarks68"] = floats(faces.landmarks68, 136 * f, 136);
      face["landmarks5"] = floats(faces.landmarks5, 10 * f, 10);
    }
    record["faces"].push_back(face);
  }
  if (faces.count == 0 && aligner.settings().fallback == "resize") {
    const std::string crop = stem + "_0.png";
    write_image(out_dir / crop, aligner.fallback_crop(image));
    record["fallback"] = {{"kind", "resize"}, {"crop", crop}};
  }
  write_file_atomically(out_dir / (stem + ".json"), record.dump(1) + "\n");
  return faces.count;
}

}  // namespace

void add_faces_command(CLI::App& app, const PluginOptions& options) {
  auto* faces = app.add_subcommand("faces", "Face pipeline commands (the face plugin)");
  faces->require_subcommand(1);
  auto* cmd = faces->add_subcommand(
      "align",
      "Detect every face in each image of IN_DIR (dlib HOG, or an OpenCV cascade), find its 68\n"
      "landmarks (dlib; the model is trained on non-commercial data), reduce them to 5 and warp the\n"
      "face to a canonical crop as insightface does. Writes OUT_DIR/<stem>_<k>.png per face and\n"
      "OUT_DIR/<stem>.json per image (box, score, 68 and 5 points, transform, residual), and\n"
      "OUT_DIR/summary.json. Images without a face and files that cannot be read are listed in the\n"
      "summary; the batch goes on. Exits non-zero if any file could not be read.");
  auto o = std::make_shared<AlignOptions>();
  cmd->add_option("in_dir", o->in_dir, "Folder of images (.png, .jpg, .bmp, .tif, .webp, .pgm, ...)")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("out_dir", o->out_dir, "Where the crops and records go (created)")->required();
  cmd->add_option("--detector", o->face.detector, "hog or cascade")
      ->check(CLI::IsMember({"hog", "cascade"}))
      ->capture_default_str();
  cmd->add_option("--upsample", o->face.upsample,
                  "hog: double the image this many times first (faces under 80 px)")
      ->check(CLI::Range(0, 4))
      ->capture_default_str();
  cmd->add_option("--upsample-max", o->face.upsample_max,
                  "hog: where no face is found, try again doubling the image once more, up to this "
                  "many doublings in all (default: no retries)")
      ->check(CLI::Range(0, 4));
  cmd->add_option("--size", o->face.size, "Crop side (a multiple of 112 or 128)")->capture_default_str();
  cmd->add_option("--template", o->face.template_name, "arcface or arcface_96x112")->capture_default_str();
  cmd->add_option("--fallback", o->face.fallback,
                  "For an image with no face found: none (no crop), or resize (the image is taken to be a "
                  "face crop already, as ORL's are, and resized to the crop size; its record says so)")
      ->check(CLI::IsMember({"none", "resize"}))
      ->capture_default_str();
  cmd->add_flag("-r,--recursive", o->recursive,
                "Also the images of IN_DIR's subfolders; OUT_DIR gets the same subfolders");
  cmd->add_option("--landmark-model", o->face.landmark_model,
                  "dlib 68-point model (default: $PCV_FACE_LANDMARKS, else Debian's libdlib-data file)");
  cmd->add_option("--landmarks", o->landmark_file,
                  "Five points per face from your own detector instead of dlib: a .json file "
                  "{\"image.png\": [[[x, y] x 5], ...]} or a .csv file of 'image,x1,y1,...,x5,y5' lines "
                  "(image-left eye, image-right eye, nose, image-left and image-right mouth corners); "
                  "images it does not name count as without a face")
      ->check(CLI::ExistingFile);
  cmd->add_option("-j,--jobs", o->jobs, "Images aligned at once (default: --threads)")
      ->check(CLI::Range(1, 256));
  cmd->callback([&options, o] {
    Registry registry;
    load_plugins(registry, options, /*quiet=*/false);
    o->face.validate();
    const auto wanted = [](const fs::directory_entry& e) {
      return e.is_regular_file() && is_image_file(e.path()) && !e.path().filename().string().starts_with(".");
    };
    std::vector<fs::path> files;
    if (o->recursive) {
      for (const auto& e : fs::recursive_directory_iterator(o->in_dir))
        if (wanted(e)) files.push_back(e.path());
    } else {
      for (const auto& e : fs::directory_iterator(o->in_dir))
        if (wanted(e)) files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    if (files.empty())
      throw Error(o->in_dir + ": no image files" + (o->recursive ? "" : " (see --recursive)"));
    // Each image's crops go to the folder that mirrors its own under IN_DIR.
    const auto out_dir_of = [&](const fs::path& file) {
      return fs::path(o->out_dir) / file.parent_path().lexically_relative(o->in_dir);
    };
    for (const fs::path& f : files) fs::create_directories(out_dir_of(f));
    const std::optional<GivenLandmarks> given =
        o->landmark_file.empty() ? std::nullopt : std::optional(read_given_landmarks(o->landmark_file));
    const int jobs =
        std::clamp<int>(o->jobs > 0 ? o->jobs : num_threads(), 1, static_cast<int>(files.size()));

    std::vector<std::int64_t> faces(files.size(), 0);
    std::vector<std::string> errors(files.size());
    std::atomic<std::size_t> next{0}, done{0};
    std::mutex report;
    std::string setup_error;  // a worker could not load the models
    ProgressBar bar("faces");
    const auto work = [&] {
      std::optional<FaceAligner> aligner;
      try {
        aligner.emplace(registry, o->face, /*detect=*/!given);
      } catch (const std::exception& e) {
        const std::lock_guard lock(report);
        if (setup_error.empty()) setup_error = e.what();
        return;
      }
      for (std::size_t i; (i = next.fetch_add(1)) < files.size();) {
        try {
          faces[i] = align_image(*aligner, given ? &*given : nullptr, files[i], out_dir_of(files[i]));
        } catch (const std::exception& e) {
          const std::string what = e.what();
          errors[i] = what.starts_with(files[i].string()) ? what : files[i].string() + ": " + what;
        }
        const std::lock_guard lock(report);
        const std::size_t n = ++done;
        bar.update(double(n), double(files.size()),
                   std::to_string(n) + "/" + std::to_string(files.size()) + " images");
      }
    };
    {
      std::vector<std::jthread> workers;
      for (int j = 1; j < jobs; ++j) workers.emplace_back(work);
      work();
    }
    bar.finish();
    if (!setup_error.empty()) throw Error(setup_error);

    nlohmann::json summary = {{"images", files.size()},
                              {"alignment", nlohmann::json::parse(o->face.to_json())},
                              {"faces", 0},
                              {"no_face", nlohmann::json::array()},
                              {"failed", nlohmann::json::array()}};
    std::int64_t total = 0;
    for (std::size_t i = 0; i < files.size(); ++i) {
      if (!errors[i].empty()) {
        std::fprintf(stderr, "pcv: error: %s\n", errors[i].c_str());
        summary["failed"].push_back({{"image", files[i].string()}, {"error", errors[i]}});
      } else if (faces[i] == 0) {
        summary["no_face"].push_back(files[i].string());
      }
      total += faces[i];
    }
    summary["faces"] = total;
    write_file_atomically(fs::path(o->out_dir) / "summary.json", summary.dump(1) + "\n");
    std::printf("%zu images: %lld faces aligned; %zu without a face, %zu could not be read (%s)\n",
                files.size(), static_cast<long long>(total), summary["no_face"].size(),
                summary["failed"].size(), (fs::path(o->out_dir) / "summary.json").c_str());
    const char* fallback = o->face.fallback == "resize" ? " (resized as a face crop)" : "";
    for (const auto& f : summary["no_face"])
      std::printf("  no face: %s%s\n", f.get<std::string>().c_str(), fallback);
    if (!summary["failed"].empty())
      throw Error(std::to_string(summary["failed"].size()) + " of " + std::to_string(files.size()) +
                  " images could not be read");
  });
}

}  // namespace pcv::cli
