// Face-verification metrics: k-fold accuracy (LFW protocol), ROC, AUC and TAR at FAR, on cases small
// enough to check by hand, against a brute-force reference, and the files they are read from.
#include <pcv/error.hpp>
#include <pcv/safetensors.hpp>
#include <pcv/verification.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>

#include "support/errors.hpp"
#include "support/temp_dir.hpp"

namespace pcv {
namespace {

using test::error_of;
using ::testing::HasSubstr;

VerificationReport run(const std::vector<double>& scores, const std::vector<std::uint8_t>& same, int folds,
                       VerificationMetric metric = VerificationMetric::squared_l2) {
  VerificationOptions o;
  o.folds = folds;
  o.metric = metric;
  return verify(scores, same, o);
}

TEST(Verification, DefaultGrids) {
  const auto d = default_verification_thresholds(VerificationMetric::squared_l2);
  ASSERT_EQ(d.size(), 400u);
  EXPECT_EQ(d.front(), 0.0);
  EXPECT_DOUBLE_EQ(d.back(), 3.99);
  const auto c = default_verification_thresholds(VerificationMetric::cosine);
  ASSERT_EQ(c.size(), 401u);
  EXPECT_EQ(c.front(), -1.0);
  EXPECT_EQ(c[200], 0.0);
  EXPECT_EQ(c.back(), 1.0);
  EXPECT_DOUBLE_EQ(c[1], -0.995);
}

TEST(Verification, PerfectlySeparable) {
  std::vector<double> scores;
  std::vector<std::uint8_t> same;
  for (int i = 0; i < 10; ++i) {
    scores.push_back(0.1 + 0.04 * (i / 2)), same.push_back(1);  // 0.1 .. 0.26, each twice
    scores.push_back(1.5 + 0.05 * i), same.push_back(0);        // 1.5 .. 1.95
  }
  const VerificationReport r = run(scores, same, 10);
  EXPECT_EQ(r.pairs, 20u);
  EXPECT_EQ(r.positives, 10u);
  EXPECT_EQ(r.negatives, 10u);
  EXPECT_DOUBLE_EQ(r.accuracy, 1.0);
  EXPECT_DOUBLE_EQ(r.accuracy_std, 0.0);
  EXPECT_DOUBLE_EQ(r.auc, 1.0);
  // Every fold's training folds hold 0.26: the strictest perfect threshold is the first grid value
  // above it. (With a single largest positive, the fold holding it would reject it.)
  for (const VerificationFold& f : r.folds) {
    EXPECT_GT(f.threshold, 0.1 + 0.04 * 4);
    EXPECT_LE(f.threshold, 0.27);
  }
  ASSERT_EQ(r.tar_at_far.size(), 3u);
  EXPECT_EQ(r.tar_at_far[0].far_target, 0.1);
  ASSERT_TRUE(r.tar_at_far[0].tar);
  EXPECT_DOUBLE_EQ(*r.tar_at_far[0].tar, 1.0);
  EXPECT_DOUBLE_EQ(r.tar_at_far[0].far, 0.0);
  EXPECT_DOUBLE_EQ(r.tar_at_far[0].threshold, 0.1 + 0.04 * 4);
  EXPECT_FALSE(r.tar_at_far[1].tar);  // 10 negatives cannot measure FAR 0.01
  EXPECT_FALSE(r.tar_at_far[2].tar);
}

TEST(Verification, ReversedScoresGiveAucZero) {
  const VerificationReport r = run({2.0, 0.1, 2.5, 0.2, 3.0, 0.3}, {1, 0, 1, 0, 1, 0}, 3);
  EXPECT_DOUBLE_EQ(r.auc, 0.0);
  EXPECT_LE(r.accuracy, 0.5);
}

// Distances 0.105 ... 0.605, labels s s d | s d d, two folds of three.
//   fold 1 held out: training pairs 0.405 s, 0.505 d, 0.605 d -> best thresholds (0.405, 0.505], the
//     strictest on the grid 0.41; on fold 1 it accepts 0.105, 0.205 (right) and 0.305 (wrong): 2/3.
//   fold 2 held out: training 0.105 s, 0.205 s, 0.305 d -> 0.21; on fold 2 it rejects 0.405 (wrong),
//     0.505 and 0.605 (right): 2/3.
// ROC (accept d <= v): (0,0) (0,1/3) (0,2/3) (1/3,2/3) (1/3,1) (2/3,1) (1,1); AUC = 2/9 + 2/3 = 8/9.
TEST(Verification, HandComputedExample) {
  const VerificationReport r = run({0.105, 0.205, 0.305, 0.405, 0.505, 0.605}, {1, 1, 0, 1, 0, 0}, 2);
  ASSERT_EQ(r.folds.size(), 2u);
  EXPECT_EQ(r.folds[0].begin, 0u);
  EXPECT_EQ(r.folds[0].end, 3u);
  EXPECT_EQ(r.folds[1].begin, 3u);
  EXPECT_EQ(r.folds[1].end, 6u);
  EXPECT_DOUBLE_EQ(r.folds[0].threshold, 0.41);
  EXPECT_DOUBLE_EQ(r.folds[1].threshold, 0.21);
  EXPECT_DOUBLE_EQ(r.folds[0].accuracy, 2.0 / 3);
  EXPECT_DOUBLE_EQ(r.folds[1].accuracy, 2.0 / 3);
  EXPECT_DOUBLE_EQ(r.accuracy, 2.0 / 3);
  EXPECT_NEAR(r.accuracy_std, 0.0, 1e-15);
  EXPECT_DOUBLE_EQ(r.threshold, 0.31);

  const double third = 1.0 / 3;
  const std::vector<std::pair<double, double>> roc = {
      {0, 0}, {0, third}, {0, 2 * third}, {third, 2 * third}, {third, 1}, {2 * third, 1}, {1, 1}};
  ASSERT_EQ(r.roc.size(), roc.size());
  for (std::size_t i = 0; i < roc.size(); ++i) {
    EXPECT_DOUBLE_EQ(r.roc[i].far, roc[i].first) << i;
    EXPECT_DOUBLE_EQ(r.roc[i].tar, roc[i].second) << i;
  }
  EXPECT_DOUBLE_EQ(r.roc[3].threshold, 0.305);
  EXPECT_DOUBLE_EQ(r.auc, 8.0 / 9);
}

// Fold sizes follow sklearn's KFold: 7 pairs in 3 folds are 3, 2, 2. The folds' accuracies differ
// and so do their thresholds:
//   pairs 0.105 s, 0.205 d, 0.305 s | 0.405 s, 0.505 d | 0.605 d, 0.705 d
//   fold 1 held out: 0.405 s, 0.505 d, 0.605 d, 0.705 d -> 0.41; fold 1: 0.105 right, 0.205 wrong,
//     0.305 right: 2/3.
//   fold 2 held out: 0.105 s, 0.205 d, 0.305 s, 0.605 d, 0.705 d -> 4/5 at 0.11 (first) and at 0.31:
//     0.11; fold 2: 0.405 rejected (wrong), 0.505 rejected (right): 1/2.
//   fold 3 held out: 0.105 s, 0.205 d, 0.305 s, 0.405 s, 0.505 d -> 4/5 only in (0.405, 0.505]: 0.41;
//     fold 3: 0.605 and 0.705 rejected, right: 1.
TEST(Verification, FoldsChooseTheirOwnThresholds) {
  const VerificationReport r =
      run({0.105, 0.205, 0.305, 0.405, 0.505, 0.605, 0.705}, {1, 0, 1, 1, 0, 0, 0}, 3);
  ASSERT_EQ(r.folds.size(), 3u);
  EXPECT_EQ(r.folds[0].end - r.folds[0].begin, 3u);
  EXPECT_EQ(r.folds[1].end - r.folds[1].begin, 2u);
  EXPECT_EQ(r.folds[2].end - r.folds[2].begin, 2u);
  EXPECT_DOUBLE_EQ(r.folds[0].threshold, 0.41);
  EXPECT_DOUBLE_EQ(r.folds[1].threshold, 0.11);
  EXPECT_DOUBLE_EQ(r.folds[2].threshold, 0.41);
  EXPECT_DOUBLE_EQ(r.folds[0].accuracy, 2.0 / 3);
  EXPECT_DOUBLE_EQ(r.folds[1].accuracy, 0.5);
  EXPECT_DOUBLE_EQ(r.folds[2].accuracy, 1.0);
  const double mean = (2.0 / 3 + 0.5 + 1.0) / 3;
  EXPECT_DOUBLE_EQ(r.accuracy, mean);
  const double var =
      (std::pow(2.0 / 3 - mean, 2) + std::pow(0.5 - mean, 2) + std::pow(1.0 - mean, 2)) / 3;  // population
  EXPECT_NEAR(r.accuracy_std, std::sqrt(var), 1e-12);
  EXPECT_NEAR(r.threshold, (0.41 + 0.11 + 0.41) / 3, 1e-12);
}

// Cosine: pairs are "same" when the similarity is above the threshold; ties go to the largest.
//   fold 1 held out: 0.8 s, 0.2 d -> any t in [0.2, 0.8): strictest 0.795; fold 1: 0.9, 0.1 right: 1.
//   fold 2 held out: 0.9 s, 0.1 d -> 0.895; fold 2: 0.8 rejected (wrong), 0.2 rejected (right): 1/2.
TEST(Verification, CosineMetric) {
  const VerificationReport r = run({0.9, 0.1, 0.8, 0.2}, {1, 0, 1, 0}, 2, VerificationMetric::cosine);
  EXPECT_EQ(r.metric, VerificationMetric::cosine);
  EXPECT_NEAR(r.folds[0].threshold, 0.795, 1e-12);
  EXPECT_NEAR(r.folds[1].threshold, 0.895, 1e-12);
  EXPECT_DOUBLE_EQ(r.folds[0].accuracy, 1.0);
  EXPECT_DOUBLE_EQ(r.folds[1].accuracy, 0.5);
  EXPECT_DOUBLE_EQ(r.accuracy, 0.75);
  EXPECT_DOUBLE_EQ(r.accuracy_std, 0.25);
  // ROC from the most similar pair down: accept s >= v.
  ASSERT_EQ(r.roc.size(), 5u);
  EXPECT_DOUBLE_EQ(r.roc[1].threshold, 0.9);
  EXPECT_DOUBLE_EQ(r.roc[2].threshold, 0.8);
  EXPECT_DOUBLE_EQ(r.roc[2].tar, 1.0);
  EXPECT_DOUBLE_EQ(r.roc[2].far, 0.0);
  EXPECT_DOUBLE_EQ(r.auc, 1.0);
}

// 4 positives, 10 negatives; two negatives tie with two positives at 0.3, so the ROC jumps from
// (0, 0.5) to (0.2, 1): TAR@FAR=0.1 cannot take half the tie and stays 0.5; TAR@FAR=0.2 is 1.
TEST(Verification, TarAtFarWithTies) {
  std::vector<double> scores = {0.1, 0.2, 0.3, 0.3, 0.3, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2};
  std::vector<std::uint8_t> same = {1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  VerificationOptions o;
  o.folds = 2;
  o.far_targets = {0.1, 0.2, 0.05};
  const VerificationReport r = verify(scores, same, o);
  ASSERT_EQ(r.roc.size(), 1u + 11u);  // (0, 0), then one point per distinct score
  EXPECT_DOUBLE_EQ(r.roc[3].far, 0.2);
  EXPECT_DOUBLE_EQ(r.roc[3].tar, 1.0);
  ASSERT_TRUE(r.tar_at_far[0].tar);
  EXPECT_DOUBLE_EQ(*r.tar_at_far[0].tar, 0.5);
  EXPECT_DOUBLE_EQ(r.tar_at_far[0].far, 0.0);
  EXPECT_DOUBLE_EQ(r.tar_at_far[0].threshold, 0.2);
  ASSERT_TRUE(r.tar_at_far[1].tar);
  EXPECT_DOUBLE_EQ(*r.tar_at_far[1].tar, 1.0);
  EXPECT_DOUBLE_EQ(r.tar_at_far[1].far, 0.2);
  EXPECT_DOUBLE_EQ(r.tar_at_far[1].threshold, 0.3);
  EXPECT_FALSE(r.tar_at_far[2].tar);  // 10 negatives < 1/0.05
  // The tie is a diagonal: AUC = P(pos < neg) + 1/2 P(tie) = (2*10 + 2*(8 + 2*0.5)) / 40.
  EXPECT_DOUBLE_EQ(r.auc, (20 + 2 * 9.0) / 40);
}

TEST(Verification, TarAtFarNeedsOneOverFarNegatives) {
  std::vector<double> scores;
  std::vector<std::uint8_t> same;
  for (int i = 0; i < 100; ++i) scores.push_back(1 + i * 0.01), same.push_back(0);
  for (int i = 0; i < 5; ++i) scores.push_back(0.1 * i), same.push_back(1);
  const VerificationReport r = run(scores, same, 5);
  EXPECT_TRUE(r.tar_at_far[0].tar);
  EXPECT_TRUE(r.tar_at_far[1].tar);  // exactly 100 negatives: FAR 0.01 is one of them
  EXPECT_FALSE(r.tar_at_far[2].tar);
  scores.pop_back(), same.pop_back();
  scores.erase(scores.begin()), same.erase(same.begin());  // 99 negatives
  EXPECT_FALSE(run(scores, same, 5).tar_at_far[1].tar);
}

// Independent, slow reference of the protocol: every threshold, every pair.
struct Reference {
  std::vector<double> accuracy, threshold;
  double auc = 0;
  std::vector<std::optional<double>> tar;
};

Reference reference(const std::vector<double>& s, const std::vector<std::uint8_t>& same, int k, bool cosine,
                    const std::vector<double>& fars) {
  Reference ref;
  const std::size_t n = s.size();
  std::vector<double> grid =
      default_verification_thresholds(cosine ? VerificationMetric::cosine : VerificationMetric::squared_l2);
  if (cosine) std::reverse(grid.begin(), grid.end());  // strictest first
  const auto accept = [&](double score, double t) { return cosine ? score > t : score < t; };
  std::size_t begin = 0;
  for (int f = 0; f < k; ++f) {
    const std::size_t end = begin + n / k + (std::size_t(f) < n % k ? 1 : 0);
    int best = -1;
    double best_t = 0;
    for (double t : grid) {
      int correct = 0;
      for (std::size_t i = 0; i < n; ++i)
        if (i < begin || i >= end) correct += accept(s[i], t) == bool(same[i]);
      if (correct > best) best = correct, best_t = t;
    }
    int correct = 0;
    for (std::size_t i = begin; i < end; ++i) correct += accept(s[i], best_t) == bool(same[i]);
    ref.accuracy.push_back(double(correct) / double(end - begin));
    ref.threshold.push_back(best_t);
    begin = end;
  }
  double P = 0, N = 0, wins = 0;
  for (std::size_t i = 0; i < n; ++i) (same[i] ? P : N) += 1;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j)
      if (same[i] && !same[j]) wins += s[i] == s[j] ? 0.5 : (cosine ? s[i] > s[j] : s[i] < s[j]) ? 1 : 0;
  ref.auc = wins / (P * N);
  for (double far : fars) {
    std::optional<double> best;
    if (N * far >= 1) {
      best = 0.0;
      for (std::size_t v = 0; v < n; ++v) {  // accept every pair at least as alike as pair v
        double tp = 0, fp = 0;
        for (std::size_t i = 0; i < n; ++i)
          if (cosine ? s[i] >= s[v] : s[i] <= s[v]) (same[i] ? tp : fp) += 1;
        if (fp / N <= far) best = std::max(*best, tp / P);
      }
    }
    ref.tar.push_back(best);
  }
  return ref;
}

TEST(Verification, MatchesBruteForceReference) {
  std::mt19937_64 rng(7);
  for (bool cosine : {false, true}) {
    for (int trial = 0; trial < 6; ++trial) {
      const int n = 53 + 41 * trial, k = trial % 2 ? 10 : 4 + trial;
      std::normal_distribution<double> pos(cosine ? 0.5 : 0.9, 0.25), neg(cosine ? 0.1 : 1.5, 0.25);
      std::vector<double> s;
      std::vector<std::uint8_t> same;
      for (int i = 0; i < n; ++i) {
        const bool p = (rng() % 3) == 0;
        double v = p ? pos(rng) : neg(rng);
        v = cosine ? std::clamp(v, -1.0, 1.0) : std::clamp(v, 0.0, 4.0);
        s.push_back(std::round(v * 40) / 40);  // coarse: many ties, some on the grid
        same.push_back(p);
      }
      same[0] = 1, same[1] = 0;
      VerificationOptions o;
      o.folds = k;
      o.metric = cosine ? VerificationMetric::cosine : VerificationMetric::squared_l2;
      o.far_targets = {0.1, 0.05, 0.02, 0.01};
      const VerificationReport r = verify(s, same, o);
      const Reference ref = reference(s, same, k, cosine, o.far_targets);
      SCOPED_TRACE("cosine " + std::to_string(cosine) + " trial " + std::to_string(trial));
      ASSERT_EQ(r.folds.size(), std::size_t(k));
      for (int f = 0; f < k; ++f) {
        EXPECT_DOUBLE_EQ(r.folds[f].accuracy, ref.accuracy[f]) << "fold " << f;
        EXPECT_DOUBLE_EQ(r.folds[f].threshold, ref.threshold[f]) << "fold " << f;
      }
      EXPECT_NEAR(r.auc, ref.auc, 1e-12);
      for (std::size_t t = 0; t < ref.tar.size(); ++t) {
        ASSERT_EQ(r.tar_at_far[t].tar.has_value(), ref.tar[t].has_value()) << t;
        if (ref.tar[t]) {
          EXPECT_DOUBLE_EQ(*r.tar_at_far[t].tar, *ref.tar[t]) << t;
        }
      }
    }
  }
}

TEST(Verification, Errors) {
  EXPECT_THAT(error_of([] { run({0.1, 0.2}, {1}, 2); }), HasSubstr("2 scores but 1 labels"));
  EXPECT_THAT(error_of([] { run({0.1, 0.2}, {1, 2}, 2); }), HasSubstr("pair 1 has label 2"));
  EXPECT_THAT(error_of([] {
                run({0.1, NAN}, {1, 0}, 2);
              }),
              HasSubstr("pair 1 has a score that is not finite"));
  EXPECT_THAT(error_of([] { run({0.1, 0.2}, {0, 0}, 2); }), HasSubstr("no positive pairs"));
  EXPECT_THAT(error_of([] { run({0.1, 0.2}, {1, 1}, 2); }), HasSubstr("no negative pairs"));
  EXPECT_THAT(error_of([] { run({0.1, 0.2}, {1, 0}, 1); }), HasSubstr("1 folds for 2 pairs"));
  EXPECT_THAT(error_of([] { run({0.1, 0.2}, {1, 0}, 3); }), HasSubstr("3 folds for 2 pairs"));
  VerificationOptions o;
  o.folds = 2;
  o.far_targets = {0};
  const std::vector<double> s = {0.1, 0.2};
  const std::vector<std::uint8_t> l = {1, 0};
  EXPECT_THAT(error_of([&] { verify(s, l, o); }), HasSubstr("FAR target 0 is not in (0, 1]"));
  EXPECT_THAT(error_of([] { parse_verification_metric("l1"); }),
              HasSubstr("unknown verification metric 'l1'"));
  EXPECT_EQ(parse_verification_metric("distance"), VerificationMetric::squared_l2);
}

class VerificationFiles : public test::TempDirTest {
 protected:
  std::string write(const std::string& name, const std::string& text) {
    const auto path = dir_ / name;
    std::ofstream(path) << text;
    return path.string();
  }
};

TEST_F(VerificationFiles, ReadsPairs) {
  const std::string path = write("pairs.txt", "# i j same\n0 1 1\n\n  2\t3 0  # comment\r\n1 2 1\n");
  const auto pairs = read_verification_pairs(path, 4);
  ASSERT_EQ(pairs.size(), 3u);
  EXPECT_EQ(pairs[1].first, 2);
  EXPECT_EQ(pairs[1].second, 3);
  EXPECT_FALSE(pairs[1].same);
  EXPECT_EQ(pairs[1].line, 4);
  EXPECT_TRUE(pairs[2].same);
  EXPECT_EQ(pairs[2].line, 5);
}

TEST_F(VerificationFiles, PairErrorsNameFileAndLine) {
  const auto err = [&](const std::string& text, std::int64_t rows = 10) {
    const std::string path = write("p.txt", text);
    return error_of([&] { read_verification_pairs(path, rows); });
  };
  const std::string p = (dir_ / "p.txt").string();
  EXPECT_EQ(err("0 1 1\n1 2\n"), p + ":2: expected 'i j same' (3 fields), got 2: '1 2'");
  EXPECT_EQ(err("0 1 1\n# x\n1 2 0 4\n"), p + ":3: expected 'i j same' (3 fields), got 4: '1 2 0 4'");
  EXPECT_EQ(err("0 1 1\nx 2 0\n"), p + ":2: bad index 'x' (expected a row number from 0)");
  EXPECT_EQ(err("0 -1 1\n"), p + ":1: bad index '-1' (expected a row number from 0)");
  EXPECT_EQ(err("0 1 1\n0 10 0\n"), p + ":2: index 10 out of range (the embeddings have 10 rows)");
  EXPECT_EQ(err("0 1 yes\n"), p + ":1: bad label 'yes' (expected 1 for same, 0 for different)");
  EXPECT_EQ(err("0 1 2\n"), p + ":1: bad label '2' (expected 1 for same, 0 for different)");
  EXPECT_EQ(err(""), p + ": no pairs (the file is empty or holds only comments)");
  EXPECT_EQ(err("# nothing\n\n"), p + ": no pairs (the file is empty or holds only comments)");
  EXPECT_EQ(err("0 1 0\n1 2 0\n"), p + ": no positive pairs (same = 1) among 2 pairs");
  EXPECT_EQ(err("0 1 1\n"), p + ": no negative pairs (same = 0) among 1 pairs");
  EXPECT_THAT(error_of([&] { read_verification_pairs(dir_ / "missing.txt"); }),
              HasSubstr("missing.txt: cannot open the pairs file"));
}

TEST_F(VerificationFiles, EmbeddingsAndScores) {
  // Rows: (1, 0), (0, 2), (3, 0), (0, 0); normalised (1, 0), (0, 1), (1, 0).
  const auto path = dir_ / "emb.safetensors";
  write_safetensors(path, {{"other", Tensor::from<float>({1}, {5.f})},
                           {"embeddings", Tensor::from<float>({4, 2}, {1, 0, 0, 2, 3, 0, 0, 0})}});
  const Tensor e = read_embeddings(path);
  EXPECT_EQ(e.shape(), (Shape{4, 2}));
  const std::vector<VerificationPair> pairs = {{0, 1, false, 1}, {0, 2, true, 2}, {1, 1, true, 3}};
  EXPECT_EQ(verification_scores(e, pairs, VerificationMetric::squared_l2), (std::vector<double>{2, 0, 0}));
  EXPECT_EQ(verification_scores(e, pairs, VerificationMetric::cosine), (std::vector<double>{0, 1, 1}));
  const std::vector<VerificationPair> zero = {{0, 1, false, 1}, {2, 3, true, 7}};
  EXPECT_EQ(error_of([&] { verification_scores(e, zero, VerificationMetric::squared_l2, "emb", "p.txt"); }),
            "emb: row 3 has zero norm and cannot be normalised (used at p.txt:7)");
  const std::vector<VerificationPair> out = {{0, 4, false, 2}};
  EXPECT_EQ(error_of([&] { verification_scores(e, out, VerificationMetric::squared_l2, "emb", "p.txt"); }),
            "p.txt:2: index 4 out of range (emb has 4 rows)");

  // A file with one tensor of another name, float64; a 3-D one; an integer one.
  write_safetensors(dir_ / "one.safetensors", {{"feats", Tensor::from<double>({2, 1}, {1.0, -2.0})}});
  EXPECT_EQ(verification_scores(read_embeddings(dir_ / "one.safetensors"),
                                std::vector<VerificationPair>{{0, 1}}, VerificationMetric::squared_l2),
            (std::vector<double>{4}));
  write_safetensors(dir_ / "3d.safetensors", {{"embeddings", Tensor(kFloat32, {2, 2, 2})}});
  EXPECT_THAT(error_of([&] { read_embeddings(dir_ / "3d.safetensors"); }),
              HasSubstr("3d.safetensors: tensor 'embeddings' has shape [2, 2, 2]"));
  write_safetensors(dir_ / "int.safetensors", {{"embeddings", Tensor(kInt64, {2, 2})}});
  EXPECT_THAT(
      error_of([&] { read_embeddings(dir_ / "int.safetensors"); }),
      HasSubstr("int.safetensors: tensor 'embeddings' is int64; embeddings must be float32 or float64"));
  write_safetensors(dir_ / "two.safetensors",
                    {{"a", Tensor(kFloat32, {2, 2})}, {"b", Tensor(kFloat32, {2, 2})}});
  EXPECT_THAT(error_of([&] { read_embeddings(dir_ / "two.safetensors"); }),
              HasSubstr("two.safetensors: no tensor named 'embeddings' and several tensors (a, b)"));
}

TEST_F(VerificationFiles, PlotsTheRocAsPng) {
  const VerificationReport r = run({0.105, 0.205, 0.305, 0.405, 0.505, 0.605}, {1, 1, 0, 1, 0, 0}, 2);
  const auto path = dir_ / "roc.png";
  plot_roc(path, r);
  std::ifstream in(path, std::ios::binary);
  char magic[8] = {};
  in.read(magic, 8);
  EXPECT_EQ(std::string(magic, 8), std::string("\x89PNG\r\n\x1a\n", 8));
}

}  // namespace
}  // namespace pcv
