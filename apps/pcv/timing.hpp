// --repeat for the commands that run a model or an op: time each run, print the runs and the
// median after the first (warm-up) one.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <iostream>
#include <vector>

namespace pcv::cli {

inline void time_runs(int repeat, const std::function<void()>& run) {
  std::vector<double> seconds;
  for (int r = 0; r < repeat; ++r) {
    const auto start = std::chrono::steady_clock::now();
    run();
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  if (repeat < 2) return;
  std::cout << "runs (s):";
  for (double s : seconds) std::cout << " " << s;
  std::vector<double> warm(seconds.begin() + 1, seconds.end());
  std::nth_element(warm.begin(), warm.begin() + std::ptrdiff_t(warm.size() / 2), warm.end());
  std::cout << "\nmedian after the first: " << warm[warm.size() / 2] << " s\n";
}

}  // namespace pcv::cli
