#include <pcv/error.hpp>
#include <pcv/safetensors.hpp>
#include <pcv/verification.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <numeric>
#include <string_view>

namespace pcv {
namespace {

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// Correct decisions at every threshold of an ascending grid tau when a pair is accepted iff key < tau:
// a pair whose first accepting threshold is k (k = grid size: none) is counted in hist[k], by class.
struct Histogram {
  std::vector<std::int64_t> positive, negative;
  explicit Histogram(std::size_t grid) : positive(grid + 1, 0), negative(grid + 1, 0) {}
};

// correct[j] = positives accepted at j (first threshold <= j) + negatives rejected at j (first > j).
std::vector<std::int64_t> correct_counts(const std::vector<std::int64_t>& positive,
                                         const std::vector<std::int64_t>& negative) {
  const std::size_t grid = positive.size() - 1;
  std::int64_t negatives = std::accumulate(negative.begin(), negative.end(), std::int64_t{0});
  std::vector<std::int64_t> correct(grid);
  std::int64_t accepted_pos = 0, accepted_neg = 0;
  for (std::size_t j = 0; j < grid; ++j) {
    accepted_pos += positive[j];
    accepted_neg += negative[j];
    correct[j] = accepted_pos + (negatives - accepted_neg);
  }
  return correct;
}

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

}  // namespace

const char* verification_metric_name(VerificationMetric metric) {
  return metric == VerificationMetric::cosine ? "cosine" : "squared_l2";
}

VerificationMetric parse_verification_metric(const std::string& name) {
  if (name == "squared_l2" || name == "distance") return VerificationMetric::squared_l2;
  if (name == "cosine") return VerificationMetric::cosine;
  throw Error("unknown verification metric '" + name + "' (expected squared_l2 or cosine)");
}

std::vector<double> default_verification_thresholds(VerificationMetric metric) {
  std::vector<double> grid;
  if (metric == VerificationMetric::cosine) {
    for (int i = 0; i <= 400; ++i) grid.push_back((i - 200) / 200.0);
  } else {
    for (int i = 0; i < 400; ++i) grid.push_back(i / 100.0);
  }
  return grid;
}

VerificationReport verify(std::span<const double> scores, std::span<const std::uint8_t> same,
                          const VerificationOptions& options) {
  const std::size_t n = scores.size();
  if (same.size() != n)
    throw Error("verify: " + std::to_string(n) + " scores but " + std::to_string(same.size()) + " labels");
  VerificationReport r;
  r.metric = options.metric;
  r.pairs = n;
  for (std::size_t i = 0; i < n; ++i) {
    if (same[i] > 1)
      throw Error("verify: pair " + std::to_string(i) + " has label " + std::to_string(int(same[i])) +
                  " (expected 0 or 1)");
    if (!std::isfinite(scores[i]))
      throw Error("verify: pair " + std::to_string(i) + " has a score that is not finite");
    (same[i] ? r.positives : r.negatives)++;
  }
  if (r.positives == 0) throw Error("verify: no positive pairs (same identity) among " + std::to_string(n));
  if (r.negatives == 0)
    throw Error("verify: no negative pairs (different identities) among " + std::to_string(n));
  if (options.folds < 2 || std::size_t(options.folds) > n)
    throw Error("verify: " + std::to_string(options.folds) + " folds for " + std::to_string(n) +
                " pairs (need 2 <= folds <= pairs)");
  for (double far : options.far_targets)
    if (!(far > 0 && far <= 1)) throw Error("verify: FAR target " + number(far) + " is not in (0, 1]");

  // Work with keys where smaller = more alike and a pair is accepted iff key < tau, tau ascending:
  // squared_l2 as is; cosine negated, its grid negated and reversed. Grid order is then strictest first.
  const bool cosine = options.metric == VerificationMetric::cosine;
  std::vector<double> grid =
      options.thresholds.empty() ? default_verification_thresholds(options.metric) : options.thresholds;
  for (double t : grid)
    if (!std::isfinite(t)) throw Error("verify: a candidate threshold is not finite");
  std::sort(grid.begin(), grid.end());
  grid.erase(std::unique(grid.begin(), grid.end()), grid.end());
  std::vector<double> tau(grid.size());
  for (std::size_t j = 0; j < grid.size(); ++j) tau[j] = cosine ? -grid[grid.size() - 1 - j] : grid[j];
  const auto key = [&](std::size_t i) { return cosine ? -scores[i] : scores[i]; };
  const auto threshold_of = [&](double t) { return cosine ? -t : t; };

  // k-fold accuracy, folds as sklearn's KFold(shuffle=False).
  const std::size_t k = std::size_t(options.folds), base = n / k, extra = n % k;
  std::vector<Histogram> fold_hist(k, Histogram(tau.size()));
  Histogram total(tau.size());
  std::size_t begin = 0;
  for (std::size_t f = 0; f < k; ++f) {
    VerificationFold fold;
    fold.begin = begin;
    fold.end = begin + base + (f < extra ? 1 : 0);
    begin = fold.end;
    for (std::size_t i = fold.begin; i < fold.end; ++i) {
      const std::size_t first = std::size_t(std::upper_bound(tau.begin(), tau.end(), key(i)) - tau.begin());
      (same[i] ? fold_hist[f].positive : fold_hist[f].negative)[first]++;
      (same[i] ? total.positive : total.negative)[first]++;
    }
    r.folds.push_back(fold);
  }
  for (std::size_t f = 0; f < k; ++f) {
    std::vector<std::int64_t> train_pos(tau.size() + 1), train_neg(tau.size() + 1);
    for (std::size_t j = 0; j <= tau.size(); ++j) {
      train_pos[j] = total.positive[j] - fold_hist[f].positive[j];
      train_neg[j] = total.negative[j] - fold_hist[f].negative[j];
    }
    const auto train = correct_counts(train_pos, train_neg);
    const std::size_t best = std::size_t(std::max_element(train.begin(), train.end()) - train.begin());
    const auto test = correct_counts(fold_hist[f].positive, fold_hist[f].negative);
    VerificationFold& fold = r.folds[f];
    fold.threshold = threshold_of(tau[best]);
    fold.accuracy = double(test[best]) / double(fold.end - fold.begin);
  }
  for (const VerificationFold& f : r.folds) {
    r.accuracy += f.accuracy;
    r.threshold += f.threshold;
  }
  r.accuracy /= double(k);
  r.threshold /= double(k);
  for (const VerificationFold& f : r.folds)
    r.accuracy_std += (f.accuracy - r.accuracy) * (f.accuracy - r.accuracy);
  r.accuracy_std = std::sqrt(r.accuracy_std / double(k));

  // ROC over every distinct score, from "accept nothing" to "accept everything".
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return key(a) < key(b); });
  const double P = double(r.positives), N = double(r.negatives);
  r.roc.push_back(
      {cosine ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity(), 0.0,
       0.0});
  std::size_t tp = 0, fp = 0;
  for (std::size_t a = 0; a < n;) {
    std::size_t b = a;
    while (b < n && key(order[b]) == key(order[a])) (same[order[b++]] ? tp : fp)++;
    r.roc.push_back({scores[order[a]], double(fp) / N, double(tp) / P});
    a = b;
  }
  for (std::size_t i = 1; i < r.roc.size(); ++i)
    r.auc += (r.roc[i].far - r.roc[i - 1].far) * (r.roc[i].tar + r.roc[i - 1].tar) / 2;

  // TAR at FAR: the best ROC point within the FAR budget; the strictest one among equal TARs.
  for (double target : options.far_targets) {
    TarAtFar t;
    t.far_target = target;
    if (N * target >= 1 - 1e-9) {
      for (const RocPoint& p : r.roc) {
        if (p.far > target * (1 + 1e-12)) break;
        if (!t.tar || p.tar > *t.tar) t.tar = p.tar, t.far = p.far, t.threshold = p.threshold;
      }
    }
    r.tar_at_far.push_back(t);
  }
  return r;
}

std::vector<VerificationPair> read_verification_pairs(const std::filesystem::path& path, std::int64_t rows) {
  const std::string name = path.string();
  std::ifstream in(path);
  if (!in) throw Error(name + ": cannot open the pairs file");
  std::vector<VerificationPair> pairs;
  std::string text;
  std::size_t positives = 0;
  for (int line = 1; std::getline(in, text); ++line) {
    std::string_view s = text;
    if (const auto hash = s.find('#'); hash != std::string_view::npos) s = s.substr(0, hash);
    s = trim(s);
    if (s.empty()) continue;
    const std::string where = name + ":" + std::to_string(line) + ": ";
    std::vector<std::string_view> fields;
    while (!s.empty()) {
      const auto end = std::min(s.find_first_of(" \t"), s.size());
      fields.push_back(s.substr(0, end));
      s = trim(s.substr(end));
    }
    if (fields.size() != 3)
      throw Error(where + "expected 'i j same' (3 fields), got " + std::to_string(fields.size()) + ": '" +
                  std::string(trim(text)) + "'");
    VerificationPair p;
    p.line = line;
    std::int64_t* index[] = {&p.first, &p.second};
    for (int f = 0; f < 2; ++f) {
      const std::string_view field = fields[std::size_t(f)];
      const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), *index[f]);
      if (ec != std::errc() || end != field.data() + field.size() || *index[f] < 0)
        throw Error(where + "bad index '" + std::string(field) + "' (expected a row number from 0)");
      if (rows >= 0 && *index[f] >= rows)
        throw Error(where + "index " + std::to_string(*index[f]) + " out of range (the embeddings have " +
                    std::to_string(rows) + " rows)");
    }
    if (fields[2] != "0" && fields[2] != "1")
      throw Error(where + "bad label '" + std::string(fields[2]) +
                  "' (expected 1 for same, 0 for different)");
    p.same = fields[2] == "1";
    positives += p.same;
    pairs.push_back(p);
  }
  if (in.bad()) throw Error(name + ": error reading the pairs file");
  if (pairs.empty()) throw Error(name + ": no pairs (the file is empty or holds only comments)");
  if (positives == 0)
    throw Error(name + ": no positive pairs (same = 1) among " + std::to_string(pairs.size()) + " pairs");
  if (positives == pairs.size())
    throw Error(name + ": no negative pairs (same = 0) among " + std::to_string(pairs.size()) + " pairs");
  return pairs;
}

Tensor read_embeddings(const std::filesystem::path& path) {
  const std::string name = path.string();
  const SafetensorsFile file = SafetensorsFile::open(path);
  std::string tensor_name;
  if (file.contains("embeddings")) {
    tensor_name = "embeddings";
  } else if (file.names().size() == 1) {
    tensor_name = file.names().front();
  } else {
    std::string names;
    for (const std::string& n : file.names()) names += (names.empty() ? "" : ", ") + n;
    throw Error(name + ": no tensor named 'embeddings' and " +
                (file.names().empty() ? std::string("no tensors") : "several tensors (" + names + ")"));
  }
  Tensor t = file.tensor(tensor_name);
  if (t.ndim() != 2 || t.shape()[0] < 1 || t.shape()[1] < 1) {
    std::string shape;
    for (std::int64_t d : t.shape()) shape += (shape.empty() ? "" : ", ") + std::to_string(d);
    throw Error(name + ": tensor '" + tensor_name + "' has shape [" + shape +
                "]; embeddings must be [N, d] with N, d >= 1");
  }
  if (!same_dtype(t.dtype(), kFloat32) && !same_dtype(t.dtype(), kFloat64))
    throw Error(name + ": tensor '" + tensor_name + "' is " + dtype_name(t.dtype()) +
                "; embeddings must be float32 or float64");
  return t;
}

std::vector<double> verification_scores(const Tensor& embeddings, std::span<const VerificationPair> pairs,
                                        VerificationMetric metric, const std::string& source,
                                        const std::string& pairs_source) {
  if (embeddings.ndim() != 2 || embeddings.device().device_type != PCV_DEVICE_CPU)
    throw Error(source + ": embeddings must be a 2-D CPU tensor [N, d]");
  const bool f64 = same_dtype(embeddings.dtype(), kFloat64);
  if (!f64 && !same_dtype(embeddings.dtype(), kFloat32))
    throw Error(source + ": embeddings must be float32 or float64, not " + dtype_name(embeddings.dtype()));
  const std::int64_t rows = embeddings.shape()[0], dim = embeddings.shape()[1];
  const double* d64 = f64 ? embeddings.data<double>() : nullptr;
  const float* d32 = f64 ? nullptr : embeddings.data<float>();
  const auto value = [&](std::int64_t row, std::int64_t c) {
    return d64 ? d64[row * dim + c] : double(d32[row * dim + c]);
  };
  std::vector<double> inverse_norm(std::size_t(rows), 0.0);  // 0: not computed yet
  std::vector<double> scores;
  scores.reserve(pairs.size());
  for (std::size_t k = 0; k < pairs.size(); ++k) {
    const VerificationPair& p = pairs[k];
    const std::string where = p.line > 0 ? pairs_source + ":" + std::to_string(p.line)
                                         : pairs_source + " pair " + std::to_string(k);
    for (std::int64_t row : {p.first, p.second}) {
      if (row < 0 || row >= rows)
        throw Error(where + ": index " + std::to_string(row) + " out of range (" + source + " has " +
                    std::to_string(rows) + " rows)");
      double& inv = inverse_norm[std::size_t(row)];
      if (inv != 0) continue;
      double sum = 0;
      for (std::int64_t c = 0; c < dim; ++c) sum += value(row, c) * value(row, c);
      if (!std::isfinite(sum))
        throw Error(source + ": row " + std::to_string(row) + " holds a value that is not finite (used at " +
                    where + ")");
      if (sum == 0)
        throw Error(source + ": row " + std::to_string(row) +
                    " has zero norm and cannot be normalised (used at " + where + ")");
      inv = 1 / std::sqrt(sum);
    }
    const double ia = inverse_norm[std::size_t(p.first)], ib = inverse_norm[std::size_t(p.second)];
    double s = 0;
    for (std::int64_t c = 0; c < dim; ++c) {
      const double a = value(p.first, c) * ia, b = value(p.second, c) * ib;
      s += metric == VerificationMetric::cosine ? a * b : (a - b) * (a - b);
    }
    scores.push_back(s);
  }
  return scores;
}

}  // namespace pcv
