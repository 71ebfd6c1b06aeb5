// Face-verification metrics over pairs of embeddings (the LFW / insightface protocol): k-fold accuracy
// with the threshold chosen on the other folds, the ROC curve with its AUC, and TAR at given FARs.
//
// Scores follow the metric: the squared distance ‖e1 − e2‖² ∈ [0, 4] of L2-normalised embeddings
// (insightface; smaller = same identity) or their cosine similarity ∈ [-1, 1] (larger = same).
// Everything below works on plain (score, same) arrays, so any code that produces scores can use it.
#pragma once

#include <pcv/tensor.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace pcv {

enum class VerificationMetric {
  squared_l2,  // ‖e1 − e2‖² of unit vectors; a pair is "same" when the score is < the threshold
  cosine,      // e1 · e2 of unit vectors; a pair is "same" when the score is > the threshold
};

// "squared_l2" or "cosine" (the names the CLI and its JSON use).
const char* verification_metric_name(VerificationMetric metric);
// The inverse; accepts "distance" for squared_l2. Throws pcv::Error for anything else.
VerificationMetric parse_verification_metric(const std::string& name);

struct VerificationOptions {
  VerificationMetric metric = VerificationMetric::squared_l2;
  // Pairs are split, in their given order and without shuffling, into `folds` contiguous folds
  // (sklearn's KFold: the first n % folds folds hold one pair more).
  int folds = 10;
  // Candidate thresholds for the k-fold accuracy (finite; sorted and deduplicated before use). Empty:
  // the metric's default grid (default_verification_thresholds).
  std::vector<double> thresholds;
  // The FARs to report a TAR at.
  std::vector<double> far_targets = {1e-1, 1e-2, 1e-3};
};

// squared_l2: 0, 0.01, ..., 3.99 (insightface's arange(0, 4, 0.01));
// cosine: -1, -0.995, ..., 1 (401 values).
std::vector<double> default_verification_thresholds(VerificationMetric metric);

// One point of the ROC curve: accepting every pair whose score is at most (squared_l2) or at least
// (cosine) `threshold` gives these false-accept and true-accept rates.
struct RocPoint {
  double threshold = 0;
  double far = 0;  // accepted different-identity pairs / all different-identity pairs
  double tar = 0;  // accepted same-identity pairs / all same-identity pairs
};

struct TarAtFar {
  double far_target = 0;
  // The largest TAR over the ROC points with FAR <= far_target; empty (n/a) when there are fewer
  // than 1 / far_target negative pairs, too few to measure so small a FAR.
  std::optional<double> tar;
  double far = 0;        // the FAR actually reached at that point (<= far_target)
  double threshold = 0;  // the ROC point's threshold (meaningless when tar is empty)
};

struct VerificationFold {
  std::size_t begin = 0, end = 0;  // the pairs [begin, end) of the input
  double threshold = 0;            // the best threshold on the other folds
  double accuracy = 0;             // this fold's accuracy at that threshold
};

struct VerificationReport {
  VerificationMetric metric = VerificationMetric::squared_l2;
  std::size_t pairs = 0, positives = 0, negatives = 0;
  std::vector<VerificationFold> folds;
  double accuracy = 0;      // mean of the fold accuracies
  double accuracy_std = 0;  // their population standard deviation (numpy's np.std, as insightface)
  double threshold = 0;     // mean of the fold thresholds
  // From "accept nothing" (0, 0) (its threshold -inf for squared_l2, +inf for cosine) through one point
  // per distinct score, in order of increasing FAR, to (1, 1). Tied scores give one point, so a tie between
  // the two classes is a diagonal step.
  std::vector<RocPoint> roc;
  double auc = 0;  // trapezoid rule over roc: P(a positive outscores a negative) + ½ P(tie)
  std::vector<TarAtFar> tar_at_far;
};

// The metrics of scores[i] with labels same[i] (1 = same identity, 0 = not). Throws pcv::Error when
// the sizes differ, a label is not 0 or 1, a score is not finite, there is no positive or no
// negative pair, or folds is < 2 or more than the pairs.
//
// k-fold accuracy: a pair is accepted as "same" when score < t (squared_l2) or score > t (cosine).
// For each fold, the threshold of the grid with the most correct decisions on the other folds is
// applied to the fold; among equally good thresholds the strictest wins (squared_l2: the smallest, as
// insightface's argmax; cosine: the largest).
VerificationReport verify(std::span<const double> scores, std::span<const std::uint8_t> same,
                          const VerificationOptions& options = {});

// One pair of rows of an embedding matrix, as read from a pairs file.
struct VerificationPair {
  std::int64_t first = 0, second = 0;
  bool same = false;
  int line = 0;  // its line in the pairs file (1-based), 0 when it did not come from one
};

// Reads a pairs file: one pair per line, "i j same" (0-based row indices, same = 1 or 0), separated
// by spaces or tabs; blank lines and '#' comments are skipped. With rows >= 0, indices must be below
// it. Every error names the file and, where there is one, the line: a wrong field count, a bad index
// or label, an index out of range, no pairs, no positive or no negative pairs.
std::vector<VerificationPair> read_verification_pairs(const std::filesystem::path& path,
                                                      std::int64_t rows = -1);

// The embeddings of a .safetensors file: the tensor named "embeddings", or the file's only tensor;
// it must be 2-D [N, d] with N, d >= 1, float32 or float64. Errors name the file.
Tensor read_embeddings(const std::filesystem::path& path);

// The score of each pair: rows of `embeddings` ([N, d], float32 or float64) are L2-normalised first.
// Throws pcv::Error naming `source` (e.g. the embeddings file), the row and the pair's line when a row
// a pair uses has zero norm or a value that is not finite, or an index is out of range.
std::vector<double> verification_scores(const Tensor& embeddings, std::span<const VerificationPair> pairs,
                                        VerificationMetric metric, const std::string& source = "embeddings",
                                        const std::string& pairs_source = "pairs");

// Draws report.roc as a PNG (log FAR axis from 1e-4 to 1, linear TAR, gridlines, the AUC in the
// legend) and writes it atomically. Throws pcv::Error if it cannot be encoded or written.
void plot_roc(const std::filesystem::path& path, const VerificationReport& report);

}  // namespace pcv
