// Reproducible random numbers: the same stream for a seed on every platform and thread count
// (std:: distributions differ between standard libraries). Used by the data pipeline, the
// runtime (per-node seeds) and the trainer (shuffling).
#pragma once

#include <cstdint>

namespace pcv {

namespace detail {

// Seed derivation: a SplitMix64 step of (a, b), so nearby inputs give unrelated
// outputs.
std::uint64_t mix_seed(std::uint64_t a, std::uint64_t b);

// The pipeline's random numbers: xoshiro256** seeded through SplitMix64, with fixed conversions
// (std::uniform_*_distribution and std::normal_distribution differ between standard libraries).
class Rng {
 public:
  explicit Rng(std::uint64_t seed);
  std::uint64_t next();
  double uniform();                      // [0, 1) with 53 random bits
  double uniform(double lo, double hi);  // [lo, hi)
  std::uint64_t below(std::uint64_t n);  // uniform in [0, n), unbiased; n > 0
  double normal();                       // standard normal (Box-Muller)

 private:
  std::uint64_t s_[4];
};

}  // namespace detail

}  // namespace pcv
