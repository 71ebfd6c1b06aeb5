// Farthest point sampling, preprocessing (sampling, normalisation, layouts, normals), augmentation and
// the strict JSON form of both settings.
#include <pcv/dataset.hpp>
#include <pcv/error.hpp>
#include <pcv/geometry/farthest_point_sampling.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/errors.hpp"

namespace pcv {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

using test::error_of;

std::vector<float> random_points(std::int64_t n, std::uint64_t seed, float scale = 1.0f) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-scale, scale);
  std::vector<float> p(static_cast<std::size_t>(3 * n));
  for (float& v : p) v = u(rng);
  return p;
}

PointCloud cloud_of(std::vector<float> points, std::vector<float> normals = {}) {
  PointCloud c;
  c.points = std::move(points);
  c.normals = std::move(normals);
  return c;
}

// Element (channel c, point i) of a preprocessed [C, N] / [N, C] tensor.
float at(const Tensor& t, const Preprocessing& pre, std::int64_t c, std::int64_t i) {
  const float* d = t.data<float>();
  return pre.layout == "channels_first" ? d[c * t.shape()[1] + i] : d[i * t.shape()[1] + c];
}

// ---------------------------------------------------------------------------------------------------
// Farthest point sampling.

// The textbook algorithm in double; also checks that the float version's every pick is a maximum
// within float rounding, so a near-tie that float and double break differently would show as such.
std::vector<std::int64_t> fps_reference(const std::vector<float>& xyz, std::int64_t n, std::int64_t k,
                                        std::int64_t start) {
  std::vector<std::int64_t> chosen = {start};
  std::vector<double> nearest(static_cast<std::size_t>(n), INFINITY);
  std::vector<bool> taken(static_cast<std::size_t>(n), false);
  taken[static_cast<std::size_t>(start)] = true;
  while (static_cast<std::int64_t>(chosen.size()) < k) {
    const std::int64_t last = chosen.back();
    std::int64_t best = -1;
    for (std::int64_t i = 0; i < n; ++i) {
      double d = 0;
      for (int a = 0; a < 3; ++a) {
        const double diff = double(xyz[3 * i + a]) - double(xyz[3 * last + a]);
        d += diff * diff;
      }
      nearest[i] = std::min(nearest[i], d);
      if (!taken[i] && (best < 0 || nearest[i] > nearest[best])) best = i;
    }
    taken[static_cast<std::size_t>(best)] = true;
    chosen.push_back(best);
  }
  return chosen;
}

TEST(FarthestPointSampling, MatchesDoubleReferenceOnRandomClouds) {
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    const std::int64_t n = 300 + 97 * static_cast<std::int64_t>(seed), k = 64;
    const std::vector<float> xyz = random_points(n, seed, 10.0f);
    const std::int64_t start = static_cast<std::int64_t>(seed * 13) % n;
    const auto got = farthest_point_sampling(xyz.data(), n, k, start);
    EXPECT_EQ(got, fps_reference(xyz, n, k, start)) << "seed " << seed;
  }
}

TEST(FarthestPointSampling, KnownSmallCaseWithTie) {
  // On a line at 0, 1, 2, 3, 10: from 0 the farthest is 10, then 3 (distance 3 vs 1 and 2), then
  // points 1 and 2 are both at distance 1: the lower index wins.
  const std::vector<float> xyz = {0, 0, 0, 1, 0, 0, 2, 0, 0, 3, 0, 0, 10, 0, 0};
  EXPECT_THAT(farthest_point_sampling(xyz.data(), 5, 5), ElementsAre(0, 4, 3, 1, 2));
  EXPECT_THAT(farthest_point_sampling(xyz.data(), 5, 3, 4), ElementsAre(4, 0, 3));
  EXPECT_THAT(farthest_point_sampling(xyz.data(), 5, 1, 2), ElementsAre(2));
  EXPECT_TRUE(farthest_point_sampling(xyz.data(), 5, 0).empty());
}

TEST(FarthestPointSampling, CornersOfACubeComeFirst) {
  // 8 corners plus interior points: the first 8 picks are the corners.
  std::vector<float> xyz = random_points(50, 3, 0.5f);
  for (int c = 0; c < 8; ++c)
    for (int a = 0; a < 3; ++a) xyz.push_back((c >> a) & 1 ? 1.0f : -1.0f);
  const auto got = farthest_point_sampling(xyz.data(), 58, 8, 50);
  EXPECT_EQ(std::set<std::int64_t>(got.begin(), got.end()),
            (std::set<std::int64_t>{50, 51, 52, 53, 54, 55, 56, 57}));
}

TEST(FarthestPointSampling, DuplicatesStillGiveDistinctIndices) {
  const std::vector<float> xyz(3 * 6, 1.0f);  // six identical points
  const auto got = farthest_point_sampling(xyz.data(), 6, 6, 3);
  EXPECT_THAT(got, ElementsAre(3, 0, 1, 2, 4, 5));
}

TEST(FarthestPointSampling, RefusesBadArguments) {
  const std::vector<float> xyz(9, 0.0f);
  EXPECT_THROW(farthest_point_sampling(xyz.data(), 3, 4), std::invalid_argument);
  EXPECT_THROW(farthest_point_sampling(xyz.data(), 3, 2, 3), std::invalid_argument);
  EXPECT_THROW(farthest_point_sampling(xyz.data(), 3, 2, -1), std::invalid_argument);
  EXPECT_THROW(farthest_point_sampling(xyz.data(), -1, 0), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------------
// Preprocessing.

TEST(Preprocess, CentresAndScalesToTheUnitSphereExactly) {
  // Centroid (2, 0, 0); the farthest point lies at distance 2 from it.
  const PointCloud c = cloud_of({1, 0, 0, 3, 0, 0, 2, 1, 0, 2, -1, 0, 4, 0, 0, 0, 0, 0});
  Preprocessing pre;
  pre.num_points = 6;
  pre.sampling = "first";
  const Tensor t = preprocess(c, pre, 0);
  ASSERT_EQ(t.shape(), (Shape{3, 6}));
  EXPECT_THAT(t.to_vector<float>(), ElementsAre(-0.5f, 0.5f, 0, 0, 1, -1,  // x
                                                0, 0, 0.5f, -0.5f, 0, 0,   // y
                                                0, 0, 0, 0, 0, 0));        // z
  pre.unit_sphere = false;
  EXPECT_THAT(preprocess(c, pre, 0).to_vector<float>(),
              ElementsAre(-1, 1, 0, 0, 2, -2, 0, 0, 1, -1, 0, 0, 0, 0, 0, 0, 0, 0));
  pre.center = false;
  EXPECT_THAT(preprocess(c, pre, 0).to_vector<float>(),
              ElementsAre(1, 3, 2, 2, 4, 0, 0, 0, 1, -1, 0, 0, 0, 0, 0, 0, 0, 0));
  // Unit sphere without centring: the largest distance to the origin becomes 1.
  pre.unit_sphere = true;
  EXPECT_THAT(preprocess(c, pre, 0).to_vector<float>(),
              ElementsAre(0.25f, 0.75f, 0.5f, 0.5f, 1, 0, 0, 0, 0.25f, -0.25f, 0, 0, 0, 0, 0, 0, 0, 0));
}

TEST(Preprocess, NormalisesFarAwayCloudsInDouble) {
  // UTM-like coordinates: centring in float would lose the shape.
  std::vector<float> p = random_points(200, 5, 10.0f);
  for (std::size_t i = 0; i < p.size(); i += 3) p[i] += 500000.0f;
  Preprocessing pre;
  pre.num_points = 200;
  pre.sampling = "first";
  const Tensor t = preprocess(cloud_of(p), pre, 0);
  double largest = 0, mean[3] = {0, 0, 0};
  for (std::int64_t i = 0; i < 200; ++i) {
    double r2 = 0;
    for (int a = 0; a < 3; ++a) {
      r2 += double(at(t, pre, a, i)) * at(t, pre, a, i);
      mean[a] += at(t, pre, a, i) / 200.0;
    }
    largest = std::max(largest, r2);
  }
  EXPECT_NEAR(std::sqrt(largest), 1.0, 1e-6);
  for (double m : mean) EXPECT_NEAR(m, 0.0, 1e-6);
}

TEST(Preprocess, FpsPicksTheSamePointsAsTheHeader) {
  const std::vector<float> p = random_points(500, 9);
  Preprocessing pre;
  pre.num_points = 32;
  pre.center = pre.unit_sphere = false;
  const Tensor t = preprocess(cloud_of(p), pre, 123);
  const auto idx = farthest_point_sampling(p.data(), 500, 32, 0);
  for (std::int64_t i = 0; i < 32; ++i)
    for (int a = 0; a < 3; ++a) EXPECT_EQ(at(t, pre, a, i), p[3 * idx[i] + a]);
  // FPS does not depend on the seed.
  EXPECT_EQ(preprocess(cloud_of(p), pre, 999).to_vector<float>(), t.to_vector<float>());
}

TEST(Preprocess, RandomSamplingIsDeterministicPerSeedAndDistinct) {
  const std::vector<float> p = random_points(1000, 2);
  Preprocessing pre;
  pre.num_points = 100;
  pre.sampling = "random";
  pre.center = pre.unit_sphere = false;
  const Tensor a = preprocess(cloud_of(p), pre, 42);
  EXPECT_EQ(preprocess(cloud_of(p), pre, 42).to_vector<float>(), a.to_vector<float>());
  EXPECT_NE(preprocess(cloud_of(p), pre, 43).to_vector<float>(), a.to_vector<float>());
  // Every chosen point is a point of the cloud, none twice.
  std::set<std::vector<float>> original, chosen;
  for (std::size_t i = 0; i < p.size(); i += 3) original.insert({p[i], p[i + 1], p[i + 2]});
  for (std::int64_t i = 0; i < 100; ++i) {
    const std::vector<float> q = {at(a, pre, 0, i), at(a, pre, 1, i), at(a, pre, 2, i)};
    EXPECT_TRUE(original.count(q));
    chosen.insert(q);
  }
  EXPECT_EQ(chosen.size(), 100u);
}

TEST(Preprocess, FewerPointsThanNumPointsTakesAllThenRepeats) {
  const std::vector<float> p = {0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2, 1, 1, 1};  // 5 points
  for (const char* sampling : {"fps", "random", "first"}) {
    Preprocessing pre;
    pre.num_points = 12;
    pre.sampling = sampling;
    pre.center = pre.unit_sphere = false;
    const Tensor t = preprocess(cloud_of(p), pre, 7);
    ASSERT_EQ(t.shape(), (Shape{3, 12}));
    for (std::int64_t i = 0; i < 12; ++i) {
      const std::vector<float> q = {at(t, pre, 0, i), at(t, pre, 1, i), at(t, pre, 2, i)};
      if (i < 5) {
        EXPECT_EQ(q, std::vector<float>(p.begin() + 3 * i, p.begin() + 3 * i + 3)) << sampling;
      } else {
        bool found = false;
        for (int j = 0; j < 5; ++j)
          found |= q == std::vector<float>(p.begin() + 3 * j, p.begin() + 3 * j + 3);
        EXPECT_TRUE(found) << sampling;
      }
    }
    EXPECT_EQ(preprocess(cloud_of(p), pre, 7).to_vector<float>(), t.to_vector<float>());
    EXPECT_NE(preprocess(cloud_of(p), pre, 8).to_vector<float>(), t.to_vector<float>());
  }
  // The repeats do not move the centre: it is that of the 5 distinct points, (0.6, 0.6, 0.6).
  Preprocessing pre;
  pre.num_points = 12;
  pre.unit_sphere = false;
  const Tensor t = preprocess(cloud_of(p), pre, 7);
  EXPECT_FLOAT_EQ(at(t, pre, 0, 0), -0.6f);
  EXPECT_FLOAT_EQ(at(t, pre, 0, 1), 1.4f);
}

TEST(Preprocess, LayoutsAreTransposesOfEachOther) {
  const std::vector<float> p = random_points(100, 4);
  Preprocessing first;
  first.num_points = 16;
  first.sampling = "random";
  Preprocessing last = first;
  last.layout = "channels_last";
  const Tensor a = preprocess(cloud_of(p), first, 5), b = preprocess(cloud_of(p), last, 5);
  ASSERT_EQ(a.shape(), (Shape{3, 16}));
  ASSERT_EQ(b.shape(), (Shape{16, 3}));
  for (std::int64_t i = 0; i < 16; ++i)
    for (int c = 0; c < 3; ++c) EXPECT_EQ(a.data<float>()[c * 16 + i], b.data<float>()[i * 3 + c]);
}

TEST(Preprocess, NormalsChannelIsUnitLengthAndUnscaled) {
  const PointCloud c = cloud_of({0, 0, 0, 10, 0, 0, 0, 10, 0}, {0, 0, 2, 3, 4, 0, 0, 0, 0});
  Preprocessing pre;
  pre.num_points = 3;
  pre.sampling = "first";
  pre.normals = true;
  pre.layout = "channels_last";
  const Tensor t = preprocess(c, pre, 0);
  ASSERT_EQ(t.shape(), (Shape{3, 6}));
  const std::vector<float> v = t.to_vector<float>();
  EXPECT_THAT(std::vector<float>(v.begin() + 3, v.begin() + 6), ElementsAre(0, 0, 1));
  EXPECT_THAT(std::vector<float>(v.begin() + 9, v.begin() + 12), ElementsAre(0.6f, 0.8f, 0));
  EXPECT_THAT(std::vector<float>(v.begin() + 15, v.begin() + 18), ElementsAre(0, 0, 0));  // zero stays zero
  pre.layout = "channels_first";
  EXPECT_EQ(preprocess(c, pre, 0).shape(), (Shape{6, 3}));
}

TEST(Preprocess, Errors) {
  Preprocessing pre;
  pre.normals = true;
  EXPECT_THAT(error_of([&] {
                preprocess(cloud_of({1, 2, 3}), pre, 0);
              }),
              HasSubstr("asks for normals, but the cloud has none"));
  EXPECT_THAT(error_of([&] { preprocess(PointCloud{}, Preprocessing{}, 0); }), HasSubstr("empty cloud"));
  pre = Preprocessing{};
  pre.num_points = 0;
  EXPECT_THAT(error_of([&] {
                preprocess(cloud_of({1, 2, 3}), pre, 0);
              }),
              HasSubstr("'num_points' must be at least 1"));
  pre = Preprocessing{};
  pre.sampling = "grid";
  EXPECT_THAT(error_of([&] { preprocess(cloud_of({1, 2, 3}), pre, 0); }), HasSubstr("'sampling' must be"));
}

TEST(Preprocess, ChosenIndicesAndAFixedScaleGiveTheOutput) {
  const std::vector<float> p = random_points(300, 4, 20.0f);
  Preprocessing pre;
  pre.num_points = 100;
  pre.sampling = "random";
  pre.center = false;
  pre.unit_sphere = false;
  pre.scale = 0.25;
  std::vector<std::int64_t> chosen;
  const Tensor t = preprocess(cloud_of(p), pre, 9, &chosen);
  ASSERT_EQ(chosen.size(), 100u);
  for (std::int64_t i = 0; i < 100; ++i)
    for (int c = 0; c < 3; ++c)
      EXPECT_EQ(at(t, pre, c, i),
                p[static_cast<std::size_t>(3 * chosen[static_cast<std::size_t>(i)] + c)] * 0.25f);
}

TEST(Preprocess, BlockSizeCropsASquareAroundARandomPointPerSeed) {
  const std::vector<float> p = random_points(2000, 5, 50.0f);  // a 100 x 100 x 100 box
  Preprocessing pre;
  pre.num_points = 64;
  pre.sampling = "random";
  pre.center = false;
  pre.unit_sphere = false;
  pre.block_size = 20;
  std::set<std::int64_t> all_chosen;
  for (std::uint64_t seed = 0; seed < 8; ++seed) {
    std::vector<std::int64_t> chosen;
    const Tensor t = preprocess(cloud_of(p), pre, seed, &chosen);
    float lo[2] = {1e9f, 1e9f}, hi[2] = {-1e9f, -1e9f};
    for (std::size_t i = 0; i < chosen.size(); ++i) {
      for (int c = 0; c < 2; ++c) {
        const float v = p[static_cast<std::size_t>(3 * chosen[i] + c)];
        EXPECT_EQ(at(t, pre, c, static_cast<std::int64_t>(i)), v);
        lo[c] = std::min(lo[c], v), hi[c] = std::max(hi[c], v);
      }
      all_chosen.insert(chosen[i]);
    }
    // Every chosen point lies in one 20 x 20 window (z is not cropped).
    EXPECT_LE(hi[0] - lo[0], 20.0f);
    EXPECT_LE(hi[1] - lo[1], 20.0f);
    std::vector<std::int64_t> again;
    preprocess(cloud_of(p), pre, seed, &again);
    EXPECT_EQ(again, chosen) << "seed " << seed;
  }
  EXPECT_GT(all_chosen.size(), 64u * 4) << "different seeds crop different blocks";
}

TEST(Preprocess, BadScaleAndBlockSize) {
  Preprocessing pre;
  pre.scale = 0;
  EXPECT_THAT(error_of([&] {
                preprocess(cloud_of({1, 2, 3}), pre, 0);
              }),
              HasSubstr("'scale' must be a positive"));
  pre = Preprocessing{};
  pre.block_size = -1;
  EXPECT_THAT(error_of([&] {
                preprocess(cloud_of({1, 2, 3}), pre, 0);
              }),
              HasSubstr("'block_size' must be 0 or"));
}

TEST(Preprocess, SinglePointDoesNotBecomeNaN) {
  Preprocessing pre;
  pre.num_points = 4;
  const Tensor t = preprocess(cloud_of({5, 5, 5}), pre, 0);
  for (float v : t.to_vector<float>()) EXPECT_EQ(v, 0.0f);
}

// ---------------------------------------------------------------------------------------------------
// Augmentation.

// A preprocessed cloud with normals, channels_first.
Tensor sample_tensor(Preprocessing& pre, std::uint64_t seed = 1) {
  std::vector<float> p = random_points(200, seed), n = random_points(200, seed + 100);
  pre.num_points = 128;
  pre.normals = true;
  return preprocess(cloud_of(p, n), pre, seed);
}

TEST(Augment, RotationKeepsNormsAndTheUpCoordinate) {
  for (int axis = 0; axis < 3; ++axis) {
    Preprocessing pre;
    const Tensor original = sample_tensor(pre);
    Tensor t = original.clone();
    Augmentation aug;
    aug.rotate_up = true;
    aug.up_axis = axis;
    augment(t, pre, aug, 11);
    bool moved = false;
    for (std::int64_t i = 0; i < 128; ++i) {
      double r0 = 0, r1 = 0, dot0 = 0, dot1 = 0;
      for (int a = 0; a < 3; ++a) {
        r0 += double(at(original, pre, a, i)) * at(original, pre, a, i);
        r1 += double(at(t, pre, a, i)) * at(t, pre, a, i);
        dot0 += double(at(original, pre, a, i)) * at(original, pre, a + 3, i);
        dot1 += double(at(t, pre, a, i)) * at(t, pre, a + 3, i);
        moved |= at(t, pre, a, i) != at(original, pre, a, i);
      }
      EXPECT_NEAR(r1, r0, 1e-5);
      EXPECT_NEAR(dot1, dot0, 1e-5);  // normals turn with the points
      EXPECT_EQ(at(t, pre, axis, i), at(original, pre, axis, i));
      EXPECT_EQ(at(t, pre, axis + 3, i), at(original, pre, axis + 3, i));
    }
    EXPECT_TRUE(moved);
  }
}

TEST(Augment, DeterministicPerSeed) {
  Augmentation aug;
  aug.rotate_up = true;
  aug.scale_min = 0.8;
  aug.scale_max = 1.25;
  aug.jitter_sigma = 0.01;
  aug.shift = 0.1;
  aug.point_dropout = 0.5;
  Preprocessing pre;
  const Tensor original = sample_tensor(pre);
  Tensor a = original.clone(), b = original.clone(), c = original.clone();
  augment(a, pre, aug, 5);
  augment(b, pre, aug, 5);
  augment(c, pre, aug, 6);
  EXPECT_EQ(a.to_vector<float>(), b.to_vector<float>());
  EXPECT_NE(a.to_vector<float>(), c.to_vector<float>());
}

TEST(Augment, ScaleAndShiftStayInBounds) {
  Preprocessing pre;
  pre.layout = "channels_last";
  const Tensor original = sample_tensor(pre);
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    Augmentation aug;
    aug.scale_min = 0.8;
    aug.scale_max = 1.25;
    Tensor t = original.clone();
    augment(t, pre, aug, seed);
    // The factor, read off the coordinate farthest from 0 (the most precise ratio).
    std::int64_t far = 0;
    for (std::int64_t i = 1; i < 128; ++i)
      if (std::abs(at(original, pre, 0, i)) > std::abs(at(original, pre, 0, far))) far = i;
    const double s = at(t, pre, 0, far) / double(at(original, pre, 0, far));
    EXPECT_GE(s, 0.8 - 1e-6);
    EXPECT_LE(s, 1.25 + 1e-6);
    for (std::int64_t i = 0; i < 128; ++i)
      for (int a = 0; a < 3; ++a) {
        EXPECT_NEAR(at(t, pre, a, i), s * at(original, pre, a, i), 1e-5);
        EXPECT_EQ(at(t, pre, a + 3, i), at(original, pre, a + 3, i));  // normals keep their direction
      }

    Augmentation shift;
    shift.shift = 0.2;
    t = original.clone();
    augment(t, pre, shift, seed);
    for (int a = 0; a < 3; ++a) {
      const double d = at(t, pre, a, 0) - double(at(original, pre, a, 0));
      EXPECT_LE(std::abs(d), 0.2 + 1e-6);
      for (std::int64_t i = 0; i < 128; ++i) EXPECT_NEAR(at(t, pre, a, i) - at(original, pre, a, i), d, 1e-5);
    }
  }
}

TEST(Augment, JitterIsClipped) {
  Preprocessing pre;
  const Tensor original = sample_tensor(pre);
  Tensor t = original.clone();
  Augmentation aug;
  aug.jitter_sigma = 1.0;  // large: most draws are clipped
  aug.jitter_clip = 0.05;
  augment(t, pre, aug, 3);
  int changed = 0;
  for (std::int64_t i = 0; i < 128; ++i)
    for (int a = 0; a < 3; ++a) {
      const double d = at(t, pre, a, i) - double(at(original, pre, a, i));
      EXPECT_LE(std::abs(d), 0.05 + 1e-6);
      changed += d != 0;
      EXPECT_EQ(at(t, pre, a + 3, i), at(original, pre, a + 3, i));
    }
  EXPECT_GT(changed, 300);
}

TEST(Augment, PointDropoutKeepsNAndCopiesTheFirstPoint) {
  Preprocessing pre;
  const Tensor original = sample_tensor(pre);
  Augmentation aug;
  aug.point_dropout = 0.875;
  int total_dropped = 0;
  for (std::uint64_t seed = 0; seed < 10; ++seed) {
    Tensor t = original.clone();
    augment(t, pre, aug, seed);
    ASSERT_EQ(t.shape(), original.shape());
    for (std::int64_t i = 0; i < 128; ++i) {
      bool same = true, first = true;
      for (int c = 0; c < 6; ++c) {
        same &= at(t, pre, c, i) == at(original, pre, c, i);
        first &= at(t, pre, c, i) == at(original, pre, c, 0);
      }
      EXPECT_TRUE(same || first);
      total_dropped += !same;
    }
  }
  EXPECT_GT(total_dropped, 100);  // ratio ~ U[0, 0.875]: about 44% of 1270 on average
}

TEST(Augment, AnyAndErrors) {
  EXPECT_FALSE(Augmentation{}.any());
  Augmentation aug;
  aug.shift = 0.1;
  EXPECT_TRUE(aug.any());
  aug = Augmentation{};
  aug.scale_max = 1.1;
  EXPECT_TRUE(aug.any());

  Preprocessing pre;
  Tensor wrong(kFloat32, {6, 10});  // pre has no normals: expects [3, N]
  EXPECT_THAT(error_of([&] { augment(wrong, pre, aug, 0); }),
              HasSubstr("expected a float32 cloud of shape [3, N]"));
  Tensor ok(kFloat32, {3, 10});
  aug.scale_min = 2;
  EXPECT_THAT(error_of([&] { augment(ok, pre, aug, 0); }), HasSubstr("scale_min"));
}

// ---------------------------------------------------------------------------------------------------
// JSON.

TEST(SettingsJson, PreprocessingRoundTrip) {
  Preprocessing p;
  p.num_points = 512;
  p.sampling = "random";
  p.center = false;
  p.unit_sphere = false;
  p.normals = true;
  p.layout = "channels_last";
  const Preprocessing q = Preprocessing::from_json(p.to_json());
  EXPECT_EQ(q.num_points, 512);
  EXPECT_EQ(q.sampling, "random");
  EXPECT_FALSE(q.center);
  EXPECT_FALSE(q.unit_sphere);
  EXPECT_TRUE(q.normals);
  EXPECT_EQ(q.layout, "channels_last");
  EXPECT_EQ(q.to_json(), p.to_json());
  // Absent keys keep their defaults.
  EXPECT_EQ(Preprocessing::from_json("{}").to_json(), Preprocessing{}.to_json());
  EXPECT_EQ(Preprocessing::from_json(R"({"num_points": 64})").num_points, 64);
  // Scene settings are written only when set.
  EXPECT_EQ(p.to_json().find("scale"), std::string::npos);
  p.scale = 0.04;
  p.block_size = 50;
  const Preprocessing r = Preprocessing::from_json(p.to_json());
  EXPECT_EQ(r.scale, 0.04);
  EXPECT_EQ(r.block_size, 50);
}

TEST(SettingsJson, ImagePreprocessingRoundTripAndChecks) {
  const Preprocessing p =
      Preprocessing::from_json(R"({"input": "image", "height": 112, "width": 96, "image_channels": 1})");
  EXPECT_EQ(p.item_shape(), (Shape{1, 112, 96}));
  EXPECT_EQ(Preprocessing::from_json(p.to_json()).to_json(), p.to_json());
  EXPECT_EQ(p.to_json().find("num_points"), std::string::npos) << "cloud settings are not written for images";
  EXPECT_THAT(error_of([] { Preprocessing::from_json(R"({"input": "video"})"); }),
              HasSubstr("'input' must be"));
  EXPECT_THAT(error_of([] { Preprocessing::from_json(R"({"input": "image", "image_channels": 2})"); }),
              HasSubstr("'image_channels' must be 1 or 3"));
  EXPECT_THAT(error_of([] {
                preprocess(cloud_of({1, 2, 3}), Preprocessing::from_json(R"({"input": "image"})"), 0);
              }),
              HasSubstr("not a cloud"));
}

TEST(SettingsJson, PreprocessingIsStrict) {
  EXPECT_THAT(error_of([] { Preprocessing::from_json(R"({"num_point": 64})"); }),
              AllOf(HasSubstr("preprocessing"), HasSubstr("unknown key 'num_point'")));
  EXPECT_THAT(error_of([] { Preprocessing::from_json(R"({"num_points": "64"})"); }), HasSubstr("wrong type"));
  EXPECT_THAT(error_of([] { Preprocessing::from_json(R"({"num_points": 64.5})"); }), HasSubstr("wrong type"));
  EXPECT_THAT(error_of([] { Preprocessing::from_json(R"({"center": 1})"); }), HasSubstr("wrong type"));
  EXPECT_THAT(error_of([] { Preprocessing::from_json(R"({"layout": "nchw"})"); }),
              HasSubstr("'layout' must be"));
  EXPECT_THAT(error_of([] { Preprocessing::from_json(R"({"num_points": -1})"); }), HasSubstr("at least 1"));
  EXPECT_THAT(error_of([] { Preprocessing::from_json("[1, 2]"); }), HasSubstr("must be a JSON object"));
  EXPECT_THAT(error_of([] { Preprocessing::from_json("{"); }), HasSubstr("not valid JSON"));
}

TEST(SettingsJson, AugmentationRoundTrip) {
  Augmentation a;
  a.rotate_up = true;
  a.up_axis = 2;
  a.scale_min = 0.8;
  a.scale_max = 1.25;
  a.jitter_sigma = 0.01;
  a.jitter_clip = 0.03;
  a.shift = 0.1;
  a.point_dropout = 0.875;
  const Augmentation b = Augmentation::from_json(a.to_json());
  EXPECT_TRUE(b.rotate_up);
  EXPECT_EQ(b.up_axis, 2);
  EXPECT_EQ(b.scale_min, 0.8);
  EXPECT_EQ(b.scale_max, 1.25);
  EXPECT_EQ(b.jitter_sigma, 0.01);
  EXPECT_EQ(b.jitter_clip, 0.03);
  EXPECT_EQ(b.shift, 0.1);
  EXPECT_EQ(b.point_dropout, 0.875);
  EXPECT_EQ(b.to_json(), a.to_json());
  EXPECT_FALSE(Augmentation::from_json("{}").any());
  EXPECT_EQ(Augmentation::from_json(R"({"scale_min": 1, "scale_max": 2})").scale_max,
            2.0);  // ints are numbers
}

TEST(SettingsJson, AugmentationIsStrict) {
  EXPECT_THAT(error_of([] { Augmentation::from_json(R"({"rotate": true})"); }),
              AllOf(HasSubstr("augmentation"), HasSubstr("unknown key 'rotate'")));
  EXPECT_THAT(error_of([] { Augmentation::from_json(R"({"up_axis": 3})"); }), HasSubstr("'up_axis' must be"));
  EXPECT_THAT(error_of([] { Augmentation::from_json(R"({"scale_min": 1.5, "scale_max": 1.2})"); }),
              HasSubstr("'scale_min' <= 'scale_max'"));
  EXPECT_THAT(error_of([] { Augmentation::from_json(R"({"point_dropout": 1.0})"); }), HasSubstr("[0, 1)"));
  EXPECT_THAT(error_of([] { Augmentation::from_json(R"({"jitter_sigma": -0.1})"); }),
              HasSubstr("'jitter_sigma'"));
  EXPECT_THAT(error_of([] { Augmentation::from_json(R"({"shift": "0.1"})"); }), HasSubstr("wrong type"));
}

}  // namespace
}  // namespace pcv
