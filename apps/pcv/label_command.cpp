// pcv label CLOUD --subset FILE... --out OUT: per-point labels from clouds that list a class's points,
// e.g. the ISPRS terrain samples, whose ground references are exact subsets of each sample.
#include <pcv/error.hpp>
#include <pcv/point_cloud.hpp>

#include <array>
#include <bit>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "commands.hpp"

namespace pcv::cli {
namespace {

using Key = std::array<std::uint32_t, 3>;

struct KeyHash {
  std::size_t operator()(const Key& k) const {
    std::uint64_t h = 0x9e3779b97f4a7c15ull;
    for (std::uint32_t v : k) h = (h ^ v) * 0x100000001b3ull;
    return static_cast<std::size_t>(h ^ (h >> 29));
  }
};

// Bit patterns, so matching is exact; -0 and +0 are the same point.
Key key_of(const float* p) {
  Key k;
  for (int i = 0; i < 3; ++i) k[i] = std::bit_cast<std::uint32_t>(p[i] == 0.0f ? 0.0f : p[i]);
  return k;
}

}  // namespace

void add_label_command(CLI::App& app, const PluginOptions&) {
  auto* cmd = app.add_subcommand(
      "label",
      "Label a cloud's points from subset clouds: a point whose x, y, z (exactly) appear in the\n"
      "k-th --subset file gets label k (the first subset is 1); every other point gets 0.\n"
      "Writes a .ply or .pcd with a `label` field and a colour per label, the input format of\n"
      "segmentation training and `pcv eval`. Example (ISPRS terrain, 1 = ground):\n"
      "  pcv label samp11-utm.pcd --subset samp11-utm-ground.pcd --out samp11.ply");
  auto cloud_path = std::make_shared<std::string>();
  auto subsets = std::make_shared<std::vector<std::string>>();
  auto out = std::make_shared<std::string>();
  cmd->add_option("cloud", *cloud_path, "The cloud to label")->required()->check(CLI::ExistingFile);
  cmd->add_option("--subset", *subsets, "A cloud of the points of class 1, 2, ... (repeatable, in order)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("-o,--out", *out, "Output cloud (.ply or .pcd)")->required();
  cmd->callback([cloud_path, subsets, out] {
    PointCloud cloud = read_point_cloud(*cloud_path);
    std::unordered_map<Key, std::int32_t, KeyHash> label_of;
    for (std::size_t s = 0; s < subsets->size(); ++s) {
      const PointCloud subset = read_point_cloud((*subsets)[s]);
      for (std::int64_t i = 0; i < subset.size(); ++i)
        label_of.emplace(key_of(&subset.points[3 * i]), static_cast<std::int32_t>(s + 1));
    }
    cloud.labels.assign(static_cast<std::size_t>(cloud.size()), 0);
    std::vector<std::int64_t> counts(subsets->size() + 1, 0);
    for (std::int64_t i = 0; i < cloud.size(); ++i) {
      const auto it = label_of.find(key_of(&cloud.points[3 * i]));
      if (it != label_of.end()) cloud.labels[static_cast<std::size_t>(i)] = it->second;
      ++counts[static_cast<std::size_t>(cloud.labels[static_cast<std::size_t>(i)])];
    }
    if (const auto parent = std::filesystem::path(*out).parent_path(); !parent.empty())
      std::filesystem::create_directories(parent);
    write_point_cloud(*out, cloud);
    std::printf("%s: %lld points", out->c_str(), static_cast<long long>(cloud.size()));
    for (std::size_t k = 0; k < counts.size(); ++k)
      std::printf(", label %zu: %lld", k, static_cast<long long>(counts[k]));
    std::printf("\n");
  });
}

}  // namespace pcv::cli
