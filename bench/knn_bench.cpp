// pointconv.knn (through the plugin ABI) against nanoflann's k-d tree on the same clouds and
// queries: tree or grid built inside each timed call, queries on all threads for both, exact
// k nearest. Prints the median of 5 runs per case and the ratio (make bench).
#include <pcv/registry.hpp>
#include <pcv/threads.hpp>

#include <omp.h>
#include <nanoflann.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <random>
#include <vector>

namespace {

struct Cloud {  // nanoflann's dataset adaptor over row-major [n, 3]
  const float* xyz;
  std::size_t n;
  std::size_t kdtree_get_point_count() const { return n; }
  float kdtree_get_pt(std::size_t i, std::size_t d) const { return xyz[3 * i + d]; }
  template <class Box>
  bool kdtree_get_bbox(Box&) const {
    return false;
  }
};
using Tree = nanoflann::KDTreeSingleIndexAdaptor<nanoflann::L2_Simple_Adaptor<float, Cloud>, Cloud, 3>;

double median_ms(const std::function<void()>& run) {
  run();  // warm-up
  std::vector<double> ms;
  for (int r = 0; r < 5; ++r) {
    const auto t = std::chrono::steady_clock::now();
    run();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count());
  }
  std::nth_element(ms.begin(), ms.begin() + 2, ms.end());
  return ms[2];
}

}  // namespace

int main() {
  pcv::Registry registry;
  for (const pcv::LoadFailure& f : registry.load_all(pcv::Registry::default_search_path()))
    std::cerr << "warning: " << f.message() << "\n";
  const int threads = pcv::num_threads();
  std::printf("kNN, k = 16, %d threads: pointconv.knn (grid) vs nanoflann %x (k-d tree, leaf 10)\n", threads,
              NANOFLANN_VERSION);
  std::printf("%-36s %10s %12s %8s\n", "case", "pcv ms", "nanoflann ms", "ratio");
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1, 1);
  for (std::int64_t n : {16384, 100000, 1000000}) {
    const std::int64_t queries = std::min<std::int64_t>(n, 100000), k = 16;
    pcv::Tensor xyz(pcv::kFloat32, {1, n, 3});
    for (std::int64_t i = 0; i < 3 * n; ++i) xyz.data<float>()[i] = u(rng);
    pcv::Tensor centres(pcv::kFloat32, {1, queries, 3});
    std::copy_n(xyz.data<float>(), 3 * queries, centres.data<float>());
    const pcv::Kernel knn = registry.create_kernel("pointconv.knn", {{"k", k}});
    pcv::RunOptions options;
    options.num_threads = threads;
    std::vector<pcv::Tensor> out{pcv::Tensor(pcv::kInt64, {1, queries, k})};
    const double ours = median_ms([&] { knn.forward_into({xyz, centres}, out, options); });
    std::vector<unsigned> idx(std::size_t(queries * k));
    std::vector<float> dist(idx.size());
    const double theirs = median_ms([&] {
      const Cloud cloud{xyz.data<float>(), std::size_t(n)};
      Tree tree(3, cloud, nanoflann::KDTreeSingleIndexAdaptorParams(10));
      tree.buildIndex();
#pragma omp parallel for num_threads(threads) schedule(dynamic, 256)
      for (std::int64_t q = 0; q < queries; ++q)
        tree.knnSearch(centres.data<float>() + 3 * q, std::size_t(k), &idx[std::size_t(q * k)],
                       &dist[std::size_t(q * k)]);
    });
    char name[64];
    std::snprintf(name, sizeof name, "N=%lld, %lld queries", static_cast<long long>(n),
                  static_cast<long long>(queries));
    std::printf("%-36s %10.1f %12.1f %7.2fx\n", name, ours, theirs, ours / theirs);
  }
  std::printf("ratio: pcv time / nanoflann time (below 1: pcv is faster)\n");
}
