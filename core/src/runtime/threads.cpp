#include <pcv/error.hpp>
#include <pcv/threads.hpp>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>

namespace pcv {
namespace {

std::atomic<int> chosen{0};

int default_threads() {
  static const int n = [] {
    if (const char* env = std::getenv("PCV_NUM_THREADS"); env != nullptr && *env != '\0') {
      char* end = nullptr;
      const long v = std::strtol(env, &end, 10);
      if (*end == '\0' && v >= 1 && v <= 4096) return static_cast<int>(v);
      throw Error(std::string("PCV_NUM_THREADS='") + env + "' is not a thread count (1 to 4096)");
    }
    return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  }();
  return n;
}

}  // namespace

int num_threads() {
  const int n = chosen.load(std::memory_order_relaxed);
  return n > 0 ? n : default_threads();
}

void set_num_threads(int n) {
  if (n < 0 || n > 4096) throw Error("thread count " + std::to_string(n) + " is out of range (1 to 4096)");
  chosen.store(n, std::memory_order_relaxed);
}

}  // namespace pcv
