// --repeat for the commands that run a model or an op: time each run, print the runs, the median
// after the first (warm-up) one and the process's peak memory.
#pragma once

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

namespace pcv::cli {

// The peak resident memory of this program in MB (Linux VmHWM), or -1 where unknown. Unlike
// getrusage's ru_maxrss it starts at exec, so a parent's memory inherited through fork is not in it.
inline double peak_resident_mb() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;  // "VmHWM:  1234 kB"
  return -1;
}

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
  if (const double mb = peak_resident_mb(); mb >= 0) std::cout << "peak memory: " << mb << " MB\n";
}

}  // namespace pcv::cli
