// Labelled cloud files (class folders or a file list), hold-out splits, and parallel batch loading.
#include <pcv/dataset.hpp>
#include <pcv/error.hpp>
#include <pcv/image.hpp>
#include <pcv/threads.hpp>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <numeric>
#include <set>
#include <thread>

namespace pcv {
namespace {

namespace fs = std::filesystem;

bool hidden(const fs::path& p) { return p.filename().string().starts_with("."); }

std::string joined(const std::vector<std::string>& names) {
  std::string s;
  for (const std::string& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

void check_labels(const std::vector<std::string>& labels) {
  std::set<std::string> seen;
  for (const std::string& l : labels) {
    if (l.empty()) throw Error("dataset labels: a label name is empty");
    if (!seen.insert(l).second) throw Error("dataset labels: '" + l + "' is listed twice");
  }
}

std::int64_t label_index(const std::vector<std::string>& labels, const std::string& name) {
  const auto it = std::find(labels.begin(), labels.end(), name);
  return it == labels.end() ? -1 : it - labels.begin();
}

// Directory entries, sorted by name, hidden ones skipped; filesystem errors become pcv::Error.
std::vector<fs::directory_entry> sorted_entries(const fs::path& dir) {
  std::vector<fs::directory_entry> entries;
  try {
    for (const fs::directory_entry& e : fs::directory_iterator(dir))
      if (!hidden(e.path())) entries.push_back(e);
  } catch (const fs::filesystem_error& e) {
    throw Error(dir.string() + ": cannot list the folder: " + e.code().message());
  }
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.path().filename() < b.path().filename(); });
  return entries;
}

bool is_dir(const fs::directory_entry& e) {
  std::error_code ec;
  return e.is_directory(ec);
}

// The cloud and image extensions a dataset accepts, for messages.
std::string supported_extensions() {
  return joined(point_cloud_extensions()) + "; images " + joined(image_extensions());
}

std::vector<fs::path> cloud_files(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const fs::directory_entry& e : sorted_entries(dir)) {
    std::error_code ec;
    if (e.is_regular_file(ec) && (is_point_cloud_file(e.path()) || is_image_file(e.path())))
      files.push_back(e.path());
  }
  return files;
}

std::string trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r");
  return std::string(s.substr(first, last - first + 1));
}

// "path label" or "path,label": the label is the last word, the path the rest (which may hold spaces).
std::pair<std::string, std::string> split_line(const std::string& line) {
  const auto cut = line.find_last_of(" \t,");
  if (cut == std::string::npos) return {line, ""};
  std::string path = trim(line.substr(0, cut));
  while (!path.empty() && path.back() == ',') path = trim(path.substr(0, path.size() - 1));
  return {path, line.substr(cut + 1)};
}

}  // namespace

PointCloudDataset::PointCloudDataset(std::vector<std::string> labels, std::vector<Sample> samples)
    : labels_(std::move(labels)), samples_(std::move(samples)) {
  check_labels(labels_);
  for (const Sample& s : samples_)
    if ((s.label < 0 && s.label != kPerPointLabels) || s.label >= static_cast<std::int64_t>(labels_.size()))
      throw Error(s.path.string() + ": label " + std::to_string(s.label) + " is not in [0, " +
                  std::to_string(labels_.size()) + ")");
}

PointCloudDataset PointCloudDataset::from_class_folders(const fs::path& root,
                                                        std::vector<std::string> labels) {
  std::error_code ec;
  if (!fs::exists(root, ec)) throw Error(root.string() + ": dataset folder not found");
  if (!fs::is_directory(root, ec))
    throw Error(root.string() + ": not a folder (expected root/<class>/<cloud files>)");
  check_labels(labels);
  std::vector<std::string> folders;
  for (const fs::directory_entry& e : sorted_entries(root))
    if (is_dir(e)) folders.push_back(e.path().filename().string());
  if (folders.empty())
    throw Error(root.string() + ": no class folders (expected root/<class>/<cloud files>)");
  if (labels.empty()) {
    labels = folders;
  } else {
    for (const std::string& f : folders)
      if (label_index(labels, f) < 0)
        throw Error((root / f).string() + ": class '" + f + "' is not one of the given labels (" +
                    joined(labels) + ")");
  }
  std::vector<Sample> samples;
  for (std::size_t label = 0; label < labels.size(); ++label) {
    if (std::find(folders.begin(), folders.end(), labels[label]) == folders.end()) continue;
    const fs::path dir = root / labels[label];
    const std::vector<fs::path> files = cloud_files(dir);
    if (files.empty())
      throw Error(dir.string() + ": class folder has no point-cloud or image files (" +
                  supported_extensions() + ")");
    for (const fs::path& f : files) samples.push_back({f, static_cast<std::int64_t>(label)});
  }
  return PointCloudDataset(std::move(labels), std::move(samples));
}

PointCloudDataset PointCloudDataset::from_file_list(const fs::path& list, std::vector<std::string> labels) {
  std::ifstream in(list);
  if (!in) throw Error(list.string() + ": cannot open the file list: " + std::strerror(errno));
  check_labels(labels);
  const bool fixed_labels = !labels.empty();
  const fs::path base = list.parent_path();
  std::vector<std::pair<fs::path, std::string>> entries;
  std::string line;
  for (std::size_t line_no = 1; std::getline(in, line); ++line_no) {
    const std::string where = list.string() + ":" + std::to_string(line_no) + ": ";
    const std::string text = trim(line);
    if (text.empty() || text[0] == '#') continue;
    auto [file, label] = split_line(text);
    if (file.empty() || label.empty()) throw Error(where + "expected 'path label', got '" + text + "'");
    fs::path path = fs::path(file).is_absolute() ? fs::path(file) : base / file;
    if (!is_point_cloud_file(path) && !is_image_file(path))
      throw Error(where + "'" + file +
                  "' has an unsupported extension (supported: " + supported_extensions() + ")");
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) throw Error(where + "file not found: " + path.string());
    if (fixed_labels && label_index(labels, label) < 0)
      throw Error(where + "label '" + label + "' is not one of the given labels (" + joined(labels) + ")");
    entries.emplace_back(std::move(path), std::move(label));
  }
  if (in.bad()) throw Error(list.string() + ": read error");
  if (!fixed_labels) {
    std::set<std::string> names;
    for (const auto& e : entries) names.insert(e.second);
    labels.assign(names.begin(), names.end());
  }
  std::vector<Sample> samples;
  for (auto& [path, label] : entries) samples.push_back({std::move(path), label_index(labels, label)});
  return PointCloudDataset(std::move(labels), std::move(samples));
}

PointCloudDataset PointCloudDataset::from_labelled_clouds(const fs::path& folder,
                                                          std::vector<std::string> labels) {
  if (labels.empty())
    throw Error(folder.string() + ": a segmentation dataset needs its class names (the model's labels)");
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) throw Error(folder.string() + ": not a folder of labelled clouds");
  std::vector<Sample> samples;
  for (const fs::path& f : cloud_files(folder)) samples.push_back({f, kPerPointLabels});
  if (samples.empty())
    throw Error(folder.string() + ": no point-cloud files (" + joined(point_cloud_extensions()) + ")");
  return PointCloudDataset(std::move(labels), std::move(samples));
}

bool PointCloudDataset::per_point() const {
  return !samples_.empty() && samples_.front().label == kPerPointLabels;
}

std::pair<PointCloudDataset, PointCloudDataset> PointCloudDataset::split_every(int k) const {
  if (k < 1) throw Error("split_every: k must be at least 1 (got " + std::to_string(k) + ")");
  // Which samples are held out is decided per class in path-name order; both parts keep this order.
  std::vector<bool> held_out(samples_.size(), false);
  std::map<std::int64_t, std::vector<std::size_t>> by_class;
  for (std::size_t i = 0; i < samples_.size(); ++i) by_class[samples_[i].label].push_back(i);
  for (auto& [label, members] : by_class) {
    std::stable_sort(members.begin(), members.end(),
                     [&](std::size_t a, std::size_t b) { return samples_[a].path < samples_[b].path; });
    for (std::size_t p = 0; p < members.size(); ++p)
      if ((p + 1) % static_cast<std::size_t>(k) == 0) held_out[members[p]] = true;
  }
  std::vector<Sample> kept, rest;
  for (std::size_t i = 0; i < samples_.size(); ++i) (held_out[i] ? rest : kept).push_back(samples_[i]);
  return {PointCloudDataset(labels_, std::move(kept)), PointCloudDataset(labels_, std::move(rest))};
}

std::vector<std::size_t> PointCloudDataset::class_counts() const {
  std::vector<std::size_t> counts(labels_.size(), 0);
  for (const Sample& s : samples_)
    if (s.label != kPerPointLabels) ++counts[static_cast<std::size_t>(s.label)];
  return counts;
}

// ---------------------------------------------------------------------------------------------------
// Batches.

namespace {

struct LoadedItem {
  Tensor cloud;                      // undefined if the item failed
  std::vector<std::int64_t> labels;  // per-point samples: the label of each of the N points
  std::string failure;
  std::vector<std::string> warnings;
};

// Messages name the file: reader errors already do, the rest get it prefixed.
std::string naming(const fs::path& path, const std::string& message) {
  const std::string name = path.string();
  return message.starts_with(name) ? message : name + ": " + message;
}

// Each chosen point's label; the file's labels must index the dataset's `classes`.
std::vector<std::int64_t> point_labels(const PointCloud& cloud, std::span<const std::int64_t> chosen,
                                       std::size_t classes) {
  if (!cloud.has_labels())
    throw Error("no per-point labels (a .ply/.pcd `label` field; see pcv label --help)");
  std::vector<std::int64_t> labels;
  labels.reserve(chosen.size());
  for (const std::int64_t i : chosen) {
    const std::int32_t label = cloud.labels[static_cast<std::size_t>(i)];
    if (static_cast<std::size_t>(label) >= classes)
      throw Error("point " + std::to_string(i) + " has label " + std::to_string(label) + ", but there are " +
                  std::to_string(classes) + " classes");
    labels.push_back(label);
  }
  return labels;
}

LoadedItem load_item(const Sample& sample, std::size_t classes, const Preprocessing& pre,
                     const Augmentation* aug, std::uint64_t seed) {
  LoadedItem item;
  try {
    if (pre.input == "image") {
      if (sample.label == kPerPointLabels) throw Error("images have no per-point labels");
      Tensor t = preprocess_image(read_image(sample.path), pre);
      if (aug) augment_image(t, pre, *aug, seed);
      item.cloud = std::move(t);
      return item;
    }
    ReadReport report;
    const PointCloud cloud = read_point_cloud(sample.path, &report);
    item.warnings = std::move(report.warnings);
    std::vector<std::int64_t> chosen;
    Tensor t = preprocess(cloud, pre, seed, &chosen);
    if (sample.label == kPerPointLabels) item.labels = point_labels(cloud, chosen, classes);
    if (aug) augment(t, pre, *aug, seed);
    item.cloud = std::move(t);
  } catch (const std::exception& e) {
    item.failure = naming(sample.path, e.what());
  } catch (...) {
    item.failure = naming(sample.path, "unknown error");
  }
  return item;
}

}  // namespace

Batch load_batch(const PointCloudDataset& data, std::span<const std::size_t> indices,
                 const Preprocessing& pre, const Augmentation* aug, std::uint64_t seed, int num_threads) {
  pre.validate();
  if (aug) aug->validate();
  if (aug && data.per_point() && aug->point_dropout > 0)
    throw Error("augmentation: point_dropout cannot be used with per-point labels");
  for (std::size_t index : indices)
    if (index >= data.size())
      throw Error("load_batch: index " + std::to_string(index) + " is out of range (the dataset has " +
                  std::to_string(data.size()) + " samples)");

  const std::size_t count = indices.size();
  std::vector<LoadedItem> items(count);
  std::atomic<std::size_t> next{0};
  // Items are claimed dynamically (files differ in size), but each one's seed depends only on its
  // place, so the result does not depend on which thread loads it.
  const auto work = [&] {
    for (std::size_t j; (j = next.fetch_add(1)) < count;) {
      const std::size_t index = indices[j];
      const std::uint64_t item_seed = detail::mix_seed(detail::mix_seed(seed, index), j);
      items[j] = load_item(data.samples()[index], data.labels().size(), pre, aug, item_seed);
    }
  };
  const int wanted = num_threads > 0 ? num_threads : pcv::num_threads();
  const auto threads =
      static_cast<std::size_t>(std::clamp<std::int64_t>(wanted, 1, std::max<std::size_t>(count, 1)));
  {
    std::vector<std::jthread> helpers;  // joined on scope exit, also if starting one throws
    for (std::size_t t = 1; t < threads; ++t) helpers.emplace_back(work);
    work();
  }

  Batch batch;
  for (std::size_t j = 0; j < count; ++j) {
    for (std::string& w : items[j].warnings) batch.warnings.push_back(std::move(w));
    if (items[j].cloud.defined())
      batch.indices.push_back(indices[j]);
    else
      batch.failures.push_back(std::move(items[j].failure));
  }
  const auto b = static_cast<std::int64_t>(batch.indices.size());
  const std::int64_t n = pre.num_points;
  Shape shape = pre.item_shape();
  const std::int64_t item_size =
      std::accumulate(shape.begin(), shape.end(), std::int64_t{1}, std::multiplies<>());
  shape.insert(shape.begin(), b);
  batch.clouds = Tensor::empty(kFloat32, shape);
  const bool per_point = data.per_point();
  batch.labels = Tensor::empty(kInt64, per_point ? Shape{b, n} : Shape{b});
  float* dst = batch.clouds.data<float>();
  std::int64_t* labels = batch.labels.data<std::int64_t>();
  std::int64_t row = 0;
  for (std::size_t j = 0; j < count; ++j) {
    if (!items[j].cloud.defined()) continue;
    const Tensor& cloud = items[j].cloud;
    std::copy_n(cloud.data<float>(), cloud.numel(), dst + row * item_size);
    if (per_point)
      std::copy_n(items[j].labels.data(), n, labels + row * n);
    else
      labels[row] = data.samples()[indices[j]].label;
    ++row;
  }
  return batch;
}

}  // namespace pcv
