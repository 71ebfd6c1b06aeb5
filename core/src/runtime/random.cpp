#include <pcv/random.hpp>

#include <cmath>

namespace pcv::detail {

namespace {

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

std::uint64_t mix_seed(std::uint64_t a, std::uint64_t b) {
  std::uint64_t state = a;
  const std::uint64_t first = splitmix64(state);
  state = first ^ b;
  return splitmix64(state);
}

Rng::Rng(std::uint64_t seed) {
  // SplitMix64 output is never all-zero for four consecutive draws, which xoshiro needs.
  for (std::uint64_t& s : s_) s = splitmix64(seed);
}

std::uint64_t Rng::next() {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Rng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

double Rng::uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

std::uint64_t Rng::below(std::uint64_t n) {
  // Rejects the top partial block of 2^64 so every residue is equally likely.
  const std::uint64_t limit = -n % n;  // == 2^64 mod n
  for (;;) {
    const std::uint64_t x = next();
    if (x >= limit) return x % n;
  }
}

double Rng::normal() {
  // Box-Muller with u1 in (0, 1] so the log is finite; one value per call keeps the stream simple.
  const double u1 = 1.0 - uniform(), u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * 3.14159265358979323846 * u2);
}

}  // namespace pcv::detail
