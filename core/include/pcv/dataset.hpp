// The point-cloud data pipeline: preprocessing (sampling, normalisation, layout), augmentation,
// labelled datasets and batch loading.
//
// Everything random here is a pure function of the seed it is given (pcv's own generator, below, so
// results are the same with every compiler and standard library), and batch loading seeds each item
// on its own, so results never depend on the thread count.
#pragma once

#include <pcv/point_cloud.hpp>
#include <pcv/random.hpp>
#include <pcv/tensor.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pcv {

// How a cloud (or, with input "image", an image) becomes a network input; stored in model files as
// JSON (see model.hpp).
struct Preprocessing {
  // "cloud": the point-cloud settings below; "image": image files resized to height x width with
  // `image_channels` channels (1 grey, 3 BGR) and scaled as insightface's recognition models
  // expect, (value - 127.5) / 128, laid out [C, H, W] (channels_first) or [H, W, C].
  std::string input = "cloud";
  std::int64_t height = 112, width = 112, image_channels = 3;

  std::int64_t num_points = 1024;
  // How num_points points are chosen when the cloud has at least that many:
  //   "fps"    farthest point sampling from the first point (seed-independent),
  //   "random" a uniform random subset (deterministic for a seed),
  //   "first"  the first num_points points (ModelNet40-resampled reference loaders).
  // A cloud with fewer points contributes every point once, in file order, and the rest are drawn
  // uniformly with replacement (deterministic for a seed), whatever the mode.
  std::string sampling = "fps";
  bool center = true;       // subtract the centroid (computed in double)
  bool unit_sphere = true;  // then divide by the largest distance to the origin (double); skipped if 0
  bool normals = false;     // append nx, ny, nz channels, rescaled to unit length; the file must have normals
  std::string layout = "channels_first";  // "channels_first" [C, N] or "channels_last" [N, C]
  // Multiplies the coordinates after centring (and unit_sphere): a fixed metric scale for scenes,
  // where unit_sphere would make the scale depend on what a block happens to contain. > 0.
  double scale = 1.0;
  // Scenes: > 0 first crops a square window of this side (in the cloud's units) in the x-y plane
  // (z up), centred on a point drawn at random for the seed; num_points are then chosen from it.
  // Segmentation models are trained on such blocks and applied to whole clouds tile by tile (see
  // segmenter.hpp). 0: the whole cloud.
  double block_size = 0.0;

  // Centre and scale are computed over the distinct chosen points (all points once when the cloud is
  // smaller than num_points), so the repeats drawn to fill up do not shift the centroid.

  std::int64_t channels() const { return input == "image" ? image_channels : normals ? 6 : 3; }
  // The shape of one preprocessed item: [C, N] / [N, C] for clouds, [C, H, W] / [H, W, C] for images.
  Shape item_shape() const;
  // Every key, e.g. {"num_points":1024,"sampling":"fps",...}.
  std::string to_json() const;
  // Strict: unknown keys, wrong JSON types and bad values are pcv::Error; absent keys keep defaults.
  static Preprocessing from_json(std::string_view json);
  // Throws pcv::Error if a value is out of range (from_json() calls it).
  void validate() const;
};

// A preprocessed cloud: float32 [C, N] or [N, C] by pre.layout, C = 3 (+3 with normals).
// `seed` drives random sampling and filling up; the same cloud, settings and seed give the same tensor.
// Throws pcv::Error if the cloud is empty or normals are asked for and the cloud has none.
// With `chosen`, it also receives the index in `cloud` of each of the N points, in output order.
Tensor preprocess(const PointCloud& cloud, const Preprocessing& pre, std::uint64_t seed,
                  std::vector<std::int64_t>* chosen = nullptr);

// An image (uint8 [H, W, C], see pcv/image.hpp) as a network input: float32 of pre.item_shape().
// `pre.input` must be "image".
Tensor preprocess_image(const Tensor& image, const Preprocessing& pre);

// Training-time random changes to a preprocessed cloud, applied in this order: point dropout,
// rotation, scale, shift, jitter.
struct Augmentation {
  bool rotate_up = false;  // rotate by a uniform angle in [0, 2π) about the up axis; normals rotate too
  int up_axis = 1;         // 0 = x, 1 = y (ModelNet), 2 = z (LiDAR)
  double scale_min = 1.0, scale_max = 1.0;  // one uniform scale factor per cloud (xyz only), > 0
  double jitter_sigma = 0.0;  // Gaussian noise per coordinate (xyz only) with this standard deviation,
  double jitter_clip = 0.05;  // clipped to [-jitter_clip, jitter_clip]
  double shift = 0.0;         // uniform translation in [-shift, shift] per axis
  // Drops a fraction ratio ~ U[0, point_dropout] of the points (each point independently with that
  // probability) by overwriting them with the first point (PointNet++ convention), so N stays fixed.
  // In [0, 1).
  double point_dropout = 0.0;
  // Images only (the rest is for clouds), applied in this order: mirror left-right with probability
  // 1/2; move the content by whole pixels dx, dy ~ U{-translate..translate} (edge pixels repeat into
  // the gap); scale values about 0 by U[1 - contrast, 1 + contrast]; add U[-brightness, brightness]
  // (in the preprocessed scale, where 1 is 128 grey levels).
  bool flip = false;
  int translate = 0;
  double contrast = 0.0;    // in [0, 1)
  double brightness = 0.0;  // >= 0

  std::string to_json() const;
  static Augmentation from_json(std::string_view json);  // strict, like Preprocessing::from_json
  void validate() const;
  // Whether augment() would change anything.
  bool any() const;
  bool any_image() const;  // whether an image setting is on
};

// Mirrors a preprocessed image (float32 of pre.item_shape()) left-right in place.
void mirror_image(Tensor& image, const Preprocessing& pre);

// Augments a preprocessed image in place (the image settings; the cloud settings must be off).
// Deterministic for a seed.
void augment_image(Tensor& image, const Preprocessing& pre, const Augmentation& aug, std::uint64_t seed);

// Augments a preprocessed cloud in place (its memory, which copies of the tensor share). `cloud` must
// be float32 with the layout and channel count of `pre` ([C, N] or [N, C]); the number of points may
// differ from pre.num_points. Deterministic for a seed.
void augment(Tensor& cloud, const Preprocessing& pre, const Augmentation& aug, std::uint64_t seed);

// Sample::label of a cloud whose points carry their own labels (a `label` field): segmentation.
inline constexpr std::int64_t kPerPointLabels = -1;

struct Sample {
  std::filesystem::path path;
  std::int64_t label;  // index into PointCloudDataset::labels(), or kPerPointLabels
};

// A labelled list of cloud files. Building one checks names and labels, not the files' contents: a
// file that cannot be read fails when it is loaded (see load_batch).
class PointCloudDataset {
 public:
  PointCloudDataset() = default;
  // Samples' labels must index `labels` (or be kPerPointLabels), whose names must be distinct and
  // non-empty.
  PointCloudDataset(std::vector<std::string> labels, std::vector<Sample> samples);

  // Segmentation data: the cloud files of a folder (sorted by name, hidden ones skipped), each a
  // .ply/.pcd whose `label` field gives every point's class index into `labels` (see `pcv label`).
  // Every sample's label is kPerPointLabels. `labels` must not be empty; the files' contents are
  // checked when they are loaded.
  static PointCloudDataset from_labelled_clouds(const std::filesystem::path& folder,
                                                std::vector<std::string> labels);
  // Whether the samples are labelled per point (from_labelled_clouds).
  bool per_point() const;

  // root/<class>/<files>: the classes are the sub-folder names in sorted order, the samples each
  // folder's files with a supported extension (see point_cloud_extensions()), sorted by name. Hidden
  // entries (".name") are skipped. An empty class folder is an error naming it. A non-empty `labels`
  // fixes the class order: every folder must be one of them (a label without a folder is allowed:
  // that class has no samples here).
  static PointCloudDataset from_class_folders(const std::filesystem::path& root,
                                              std::vector<std::string> labels = {});
  // A text file with one sample per line, "path label": the label is the last word (separated by
  // spaces, tabs or a comma), the path everything before it, relative paths are taken from the list
  // file's folder. Blank lines and '#' comment lines are skipped. Without `labels` the classes are the
  // distinct label names, sorted. Errors (missing file, unsupported extension, unknown label, a line
  // without a label) name the list file and line.
  static PointCloudDataset from_file_list(const std::filesystem::path& list,
                                          std::vector<std::string> labels = {});

  const std::vector<std::string>& labels() const { return labels_; }
  const std::vector<Sample>& samples() const { return samples_; }
  std::size_t size() const { return samples_.size(); }

  // A deterministic hold-out split: in each class, taking its samples in path-name order, the k-th,
  // 2k-th, ... go to the second part and the rest to the first (k = 10 holds out about 10%). Both
  // keep this dataset's labels and sample order. k >= 1.
  std::pair<PointCloudDataset, PointCloudDataset> split_every(int k) const;

  // Samples per label, indexed like labels() (per-point samples are not counted).
  std::vector<std::size_t> class_counts() const;

 private:
  std::vector<std::string> labels_;
  std::vector<Sample> samples_;
};

// A loaded batch. Items that fail to load (unreadable file, no normals when asked...) are skipped, so
// B counts only the loaded ones and may be 0.
struct Batch {
  Tensor clouds;                      // float32 [B, C, N] (channels_first) or [B, N, C] (channels_last)
  Tensor labels;                      // int64 [B], or [B, N] for a per-point dataset
  std::vector<std::size_t> indices;   // the dataset index of each loaded item, in batch order
  std::vector<std::string> failures;  // "path: what went wrong", one per skipped item
  std::vector<std::string> warnings;  // non-fatal notes from reading, e.g. dropped NaN points
};

// Reads, preprocesses and (if `aug` is given) augments dataset items `indices` with num_threads
// threads (<= 0: pcv::num_threads()). Item j is seeded from (seed, indices[j], j), so the batch does
// not depend on the thread count. Indices out of range throw pcv::Error (a bug, not a bad file).
// A per-point dataset's items fail when the file has no labels or a label outside the dataset's
// classes; augmentation with point_dropout is refused for it (dropped points would keep their labels).
Batch load_batch(const PointCloudDataset& data, std::span<const std::size_t> indices,
                 const Preprocessing& pre, const Augmentation* aug, std::uint64_t seed, int num_threads);

}  // namespace pcv
